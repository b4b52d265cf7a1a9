package familyapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store/testdb"
)

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// atPath waits until the page's path starts with prefix and its document
// is loaded.
func atPath(prefix string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			loc, err := chromedp.Location()(ctx, tg)
			if err == nil {
				if u, perr := url.Parse(loc); perr == nil && strings.HasPrefix(u.Path, prefix) {
					if _, err := chromedp.WaitReady("body")(ctx, tg); err == nil {
						return chromedp.Void{}, nil
					}
				}
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s (at %s): %w", prefix, loc, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatalf("read main: %v", err)
	}
	return s
}

// TestBrowserFamily: the mother logs in, confirms on her phone and lands
// on /familie; acts for her son: sees his data, changes his address, and
// approves it on her own phone with a text naming him. axe-core checks
// every page; the walk is made in German and in English.
func TestBrowserFamily(t *testing.T) {
	for _, l := range lang.All() {
		t.Run(string(l), func(t *testing.T) { walkFamily(t, l) })
	}
}

func walkFamily(t *testing.T, l lang.Language) {
	ctx := browsertest.Start(t)
	browsertest.NeedAxe(t)
	f := start(t, testdb.Open(t))
	phone := f.n.BindPhone(t, f.mother, f.password, "482915")

	run(t, ctx, "open the login page", chromedp.Navigate(f.n.URL+"/anmelden"), chromedp.WaitVisible("#kvnr"))
	if l != lang.German {
		run(t, ctx, "switch the language",
			chromedp.Click(`button[name=sprache][value="`+string(l)+`"]`),
			atPath("/anmelden"),
			chromedp.WaitVisible(`html[lang="`+string(l)+`"] #kvnr`),
		)
	}
	run(t, ctx, "log in with the password",
		chromedp.SendKeys("#kvnr", f.mother.KVNR),
		chromedp.SendKeys("#password", f.password),
		chromedp.Click("main button[type=submit]"),
		atPath("/anmelden/freigabe"),
		chromedp.WaitVisible(".number"),
	)
	run(t, ctx, "open the family page at level low", chromedp.Navigate(f.n.URL+"/familie"), atPath("/familie"), chromedp.WaitVisible("h1"))
	if got := mainText(t, ctx); !strings.Contains(got, l.T("family.page.low")) || !strings.Contains(got, "Max Muster") {
		t.Errorf("family page at low:\n%s", got)
	}
	browsertest.A11y(t, ctx, "family page at low")
	run(t, ctx, "ask for the confirmation",
		chromedp.Click(`//main//button[contains(., '`+l.T("family.page.confirm_button")+`')]`),
		atPath("/anmelden/freigabe"),
		chromedp.WaitVisible(".number"),
	)
	html, err := chromedp.Run(ctx, chromedp.OuterHTML("main"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.n.Pending(t, phone, approval.ActionPortalLogin)
	if err := f.n.App().Approve(t.Context(), phone.Device, a, phone.PIN, "pin", nodetest.NumberOnPage(t, html)); err != nil {
		t.Fatal(err)
	}
	actFor := l.T("family.page.act_for", "Max Muster")
	run(t, ctx, "the waiting page continues on the family page",
		atPath("/familie"),
		chromedp.WaitVisible(`//a[contains(., '`+actFor+`')]`),
	)
	if got := mainText(t, ctx); !strings.Contains(got, l.T("family.page.turned_15")) {
		t.Errorf("family page does not send Lena (15) to own access:\n%s", got)
	}
	browsertest.A11y(t, ctx, "family page")
	run(t, ctx, "act for Max",
		chromedp.Click(`//a[contains(., '`+actFor+`')]`),
		atPath("/familie/person/"),
		chromedp.WaitVisible("#strasse"),
	)
	if got := mainText(t, ctx); !strings.Contains(got, "Alte Straße 1, 10115 Berlin") {
		t.Errorf("Max's page:\n%s", got)
	}
	browsertest.A11y(t, ctx, "child's page")
	run(t, ctx, "change his address",
		chromedp.SetValue("#strasse", "Neue Straße"),
		chromedp.SetValue("#hausnummer", "7"),
		chromedp.SetValue("#plz", "04109"),
		chromedp.SetValue("#ort", "Leipzig"),
		chromedp.Click(`//button[contains(., '`+l.T("family.page.address_button")+`')]`),
		atPath("/familie/freigabe/"),
		chromedp.WaitVisible("h1"),
	)
	browsertest.A11y(t, ctx, "approval page")
	ap, _ := f.n.Pending(t, phone, family.ApprovalAction)
	if !strings.HasPrefix(ap.Text, "Für Ihr Kind Max Muster") {
		t.Errorf("the phone shows %q", ap.Text)
	}
	if err := f.n.App().Approve(t.Context(), phone.Device, ap, phone.PIN, "pin", 0); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "reload the status",
		chromedp.Click(`//a[contains(., '`+l.T("family.page.approval_reload")+`')]`),
		chromedp.WaitVisible(`//p[contains(., '`+l.T("family.page.approval_done")+`')]`),
	)
	son, err := f.n.Store.PersonByID(t.Context(), f.young.ID)
	if err != nil {
		t.Fatal(err)
	}
	if son.City != "Leipzig" {
		t.Errorf("son's city = %q, want Leipzig", son.City)
	}
	run(t, ctx, "a forged link", chromedp.Navigate(f.n.URL+"/familie/person/forged"), chromedp.WaitVisible(".error-summary"))
	if got := mainText(t, ctx); !strings.Contains(got, l.T("family.page.to_family")) {
		t.Errorf("refusal page names no way back:\n%s", got)
	}
	browsertest.A11y(t, ctx, "refusal page")
}
