package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/browsertest"
)

// run runs the steps or fails the test.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// atPath waits until the page's path is path and its document is loaded. A
// navigation in flight makes single reads fail, so it retries.
func atPath(path string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			loc, err := chromedp.Location()(ctx, tg)
			if err == nil {
				if u, perr := url.Parse(loc); perr == nil && u.Path == path {
					if _, err := chromedp.WaitReady("body")(ctx, tg); err == nil {
						return chromedp.Void{}, nil
					}
				}
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s (at %s): %w", path, loc, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// text returns the text of the page's main element.
func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatalf("read main: %v", err)
	}
	return s
}

// screenshot saves a full-page PNG screenshot outside the repository.
// screenshot saves the page as name in the folder PFORTE_TEST_SCREENSHOTS
// names, for a person to look at; without it nothing is written.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PFORTE_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserLetterPath(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})

	run(t, ctx, "request access by letter",
		chromedp.Navigate(p.url+"/zugang"),
		chromedp.WaitVisible("#kvnr"),
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#postal_code", postalCode),
		chromedp.SendKeys("#birth_date", birthDate),
		chromedp.Click("#method-letter"),
	)
	screenshot(t, ctx, "web-zugang.png")
	run(t, ctx, "submit", chromedp.Click("main button[type=submit]"), chromedp.WaitVisible(`//h1[contains(., 'Vielen Dank')]`))
	pw := p.initialPassword(t)

	run(t, ctx, "log in with the initial password",
		chromedp.Navigate(p.url+"/anmelden"),
		chromedp.WaitVisible("#kvnr"),
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#password", pw),
		chromedp.Click("main button[type=submit]"),
		atPath("/passwort-aendern"),
		chromedp.WaitVisible(`//label[contains(., 'Initialpasswort aus dem Brief')]`),
	)
	run(t, ctx, "choose a password",
		chromedp.SendKeys("#current_password", pw),
		chromedp.SendKeys("#new_password", strong),
		// The strength meter rates it while typing.
		chromedp.WaitVisible(`//p[@id='strength-text'][contains(., 'Stärke: gut') or contains(., 'Stärke: stark')]`),
		chromedp.WaitVisible("#strength"),
		chromedp.SendKeys("#new_password_repeat", strong),
		chromedp.Click("main button[type=submit]"),
		atPath("/konto"),
		chromedp.WaitVisible("table"),
	)
	if got := text(t, ctx); !strings.Contains(got, "Guten Tag, Jürgen Müller") || !strings.Contains(got, "normal") {
		t.Errorf("account page:\n%s", got)
	}
	screenshot(t, ctx, "web-konto.png")
}

func TestBrowserEIDPath(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})
	startEID := func() {
		run(t, ctx, "request access with the eID",
			chromedp.Navigate(p.url+"/zugang"),
			chromedp.WaitVisible("#kvnr"),
			chromedp.SendKeys("#kvnr", kvnr),
			chromedp.SendKeys("#postal_code", postalCode),
			chromedp.SendKeys("#birth_date", "1970-03-14"),
			chromedp.Click("#method-eid"),
			chromedp.Click("main button[type=submit]"),
			chromedp.WaitVisible(`//h1[contains(., 'Simulierter Personalausweis')]`),
		)
	}

	startEID()
	run(t, ctx, "pick the matching identity",
		chromedp.Click(`//button[contains(., 'Passt zum Register')]`),
		atPath("/passwort-festlegen"),
		chromedp.WaitVisible("#new_password"),
		chromedp.SendKeys("#new_password", strong),
		chromedp.SendKeys("#new_password_repeat", strong),
		chromedp.Click("main button[type=submit]"),
		atPath("/konto"),
		chromedp.WaitVisible("table"),
	)
	if got := text(t, ctx); !strings.Contains(got, "Guten Tag, Jürgen Müller") || !strings.Contains(got, "hoch") {
		t.Errorf("account page after eID:\n%s", got)
	}

	startEID()
	run(t, ctx, "pick the identity with another birth date",
		chromedp.Click(`//button[contains(., 'Anderes Geburtsdatum')]`),
		atPath("/eid/rueckkehr"),
		chromedp.WaitVisible("h1"),
	)
	if got := text(t, ctx); !strings.Contains(got, "Die Daten aus Ihrem Ausweis passen nicht zu den Angaben, die wir zu dieser Versichertennummer haben.") {
		t.Errorf("no-match page:\n%s", got)
	}
}

func TestBrowserStepUp(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})
	p.withPassword(t)
	phone := p.bindPhone(t)

	run(t, ctx, "log in with the password",
		chromedp.Navigate(p.url+"/anmelden"),
		chromedp.WaitVisible("#kvnr"),
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#password", strong),
		chromedp.Click("main button[type=submit]"),
		atPath("/anmelden/freigabe"),
		chromedp.WaitVisible(".number"),
	)
	page := text(t, ctx)
	n := shownNumber(t, page)
	screenshot(t, ctx, "web-stepup.png")

	// The phone taps the number the browser shows; the waiting page
	// refreshes itself and lands on the account page.
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), n); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "wait for the refresh", atPath("/konto"), chromedp.WaitVisible("table"))
	if got := text(t, ctx); !strings.Contains(got, "substantiell") {
		t.Errorf("account page after the confirmation:\n%s", got)
	}
	run(t, ctx, "open the personal data",
		chromedp.Click(`//main//a[@href="/daten"]`),
		atPath("/daten"),
		chromedp.WaitVisible(`//h1[contains(., 'Meine Daten')]`),
	)
	if got := text(t, ctx); !strings.Contains(got, "Hauptstraße 1") || !strings.Contains(got, "Anschrift ändern") {
		t.Errorf("personal data page:\n%s", got)
	}
	screenshot(t, ctx, "web-daten.png")
}
