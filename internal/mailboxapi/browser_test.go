package mailboxapi_test

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
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/node/nodetest"
)

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// atPath waits until the page's path is path and its document is loaded.
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

// screenshot saves the page as name in the folder PFORTE_TEST_SCREENSHOTS
// names, for a person to look at; without it nothing is written.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PFORTE_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// noGermanLeft fails when a page in a language other than German says
// German outside what the insurer wrote (the test's message).
func noGermanLeft(t *testing.T, ctx context.Context, l lang.Language, name string) {
	t.Helper()
	if l == lang.German {
		return
	}
	page, err := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if !strings.Contains(page, `<html lang="`+string(l)+`"`) {
		t.Errorf("%s: lang attribute is not %s", name, l)
	}
	if left := germanLeft(page, nodetest.Insurer.Name, "Ihr Antrag auf Haushaltshilfe", "Merkblatt.pdf"); len(left) > 0 {
		t.Errorf("%s in %s says German: %q", name, l, left)
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

// TestBrowserMailbox: a staff message arrives; the person logs in with the
// password and sees only the count; confirms the login on the phone and
// lands in the mailbox; reads the message; a wrong file is refused with
// the text kept; answers with a PDF; archives; searches. axe-core checks
// every page on the way; staff read the answer. The walk is made in German
// and, after the switch on the login page, in English.
func TestBrowserMailbox(t *testing.T) {
	for _, l := range lang.All() {
		t.Run(string(l), func(t *testing.T) { walkMailbox(t, l) })
	}
}

func walkMailbox(t *testing.T, l lang.Language) {
	ctx := browsertest.Start(t)
	browsertest.NeedAxe(t)
	f := start(t)
	p := f.alice
	phone := f.n.BindPhone(t, p, f.password, "482915")
	id := f.send(t, p, "Ihr Antrag auf Haushaltshilfe", "Guten Tag,\n\nbitte senden Sie uns die **ärztliche Bescheinigung**. Das Formular finden Sie [hier](https://kasse.example/formular).\n\n![Logo](https://tracker.example/p.gif)", file("Merkblatt.pdf", pdfBytes(t)))
	dir := t.TempDir()
	bad := filepath.Join(dir, "Bescheinigung.pdf")
	if err := os.WriteFile(bad, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "Bescheinigung-Arzt.pdf")
	if err := os.WriteFile(good, pdfBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}

	run(t, ctx, "open the login page", chromedp.Navigate(f.n.URL+"/anmelden"), chromedp.WaitVisible("#kvnr"))
	if l != lang.German {
		run(t, ctx, "switch the language",
			chromedp.Click(`button[name=sprache][value="`+string(l)+`"]`),
			atPath("/anmelden"),
			chromedp.WaitVisible(`html[lang="`+string(l)+`"] #kvnr`),
		)
	}
	run(t, ctx, "log in with the password",
		chromedp.SendKeys("#kvnr", p.KVNR),
		chromedp.SendKeys("#password", f.password),
		chromedp.Click("main button[type=submit]"),
		atPath("/anmelden/freigabe"),
		chromedp.WaitVisible(".number"),
	)
	// The person goes to the mailbox before confirming: at level low it
	// shows the count and the way to the confirmation.
	run(t, ctx, "open the mailbox at level low", chromedp.Navigate(f.n.URL+"/postfach"), atPath("/postfach"), chromedp.WaitVisible("h1"))
	if got := mainText(t, ctx); !strings.Contains(got, l.T("mailbox.page.unread_many", 2)) || strings.Contains(got, "Haushaltshilfe") { // the message and the notice of the bound phone
		t.Errorf("mailbox at level low:\n%s", got)
	}
	browsertest.A11y(t, ctx, "mailbox at level low")
	screenshot(t, ctx, "postfach-low-"+string(l)+".png")
	run(t, ctx, "ask for the confirmation",
		chromedp.Click(`//main//button[contains(., '`+l.T("mailbox.page.confirm_button")+`')]`),
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
	run(t, ctx, "the waiting page continues in the mailbox",
		atPath("/postfach"),
		chromedp.WaitVisible(`//a[contains(., 'Haushaltshilfe')]`),
	)
	browsertest.A11y(t, ctx, "mailbox")
	noGermanLeft(t, ctx, l, "mailbox")
	run(t, ctx, "open the message",
		chromedp.Click(`//a[contains(., 'Haushaltshilfe')]`),
		atPath("/postfach/"+id),
		chromedp.WaitVisible("#text"),
	)
	got := mainText(t, ctx)
	for _, want := range []string{"ärztliche Bescheinigung", "hier (https://kasse.example/formular)", "[Logo]", "Merkblatt.pdf"} {
		if !strings.Contains(got, want) {
			t.Errorf("thread page lacks %q:\n%s", want, got)
		}
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.images.length`)); err != nil || n != 0 {
		t.Errorf("the message loads %d images (%v)", n, err)
	}
	browsertest.A11y(t, ctx, "thread")
	noGermanLeft(t, ctx, l, "thread")
	screenshot(t, ctx, "postfach-thread-"+string(l)+".png")

	run(t, ctx, "answer with a PNG named PDF",
		chromedp.SendKeys("#text", "Anbei die Bescheinigung."),
		chromedp.SetUploadFiles("#anhang", []string{bad}),
		chromedp.Click(`//button[contains(., '`+l.T("mailbox.page.reply_send")+`')]`),
		chromedp.WaitVisible(".error-summary"),
	)
	if got := mainText(t, ctx); !strings.Contains(got, l.T("mailbox.input.file_mismatch", "Bescheinigung.pdf")) {
		t.Errorf("refused attachment page:\n%s", got)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value("#text")); err != nil || v != "Anbei die Bescheinigung." {
		t.Errorf("typed text after the refusal = %q, %v", v, err)
	}
	browsertest.A11y(t, ctx, "thread with a refused attachment")
	screenshot(t, ctx, "postfach-refused-"+string(l)+".png")
	run(t, ctx, "answer with the PDF",
		chromedp.SetUploadFiles("#anhang", []string{good}),
		chromedp.Click(`//button[contains(., '`+l.T("mailbox.page.reply_send")+`')]`),
		atPath("/postfach/"+id),
		chromedp.WaitVisible(`//p[contains(., '`+l.T("mailbox.page.reply_sent")+`')]`),
	)
	if got := mainText(t, ctx); !strings.Contains(got, "Bescheinigung-Arzt.pdf") || !strings.Contains(got, l.T("mailbox.page.own")) {
		t.Errorf("thread after the answer:\n%s", got)
	}
	run(t, ctx, "archive it",
		chromedp.Click(`//button[contains(., '`+l.T("mailbox.page.archive")+`')]`),
		atPath("/postfach"),
		chromedp.WaitVisible(`//p[contains(., '`+l.T("mailbox.page.archived")+`')]`),
	)
	run(t, ctx, "search",
		chromedp.SendKeys("#q", "aerztliche"),
		chromedp.Click(`//button[contains(., '`+l.T("mailbox.page.search_button")+`')]`),
		atPath("/postfach/suche"),
		chromedp.WaitVisible(`//a[contains(., 'Haushaltshilfe')]`),
	)
	browsertest.A11y(t, ctx, "search results")
	run(t, ctx, "write a new message", chromedp.Navigate(f.n.URL+"/postfach/neu"), chromedp.WaitVisible("#betreff"))
	browsertest.A11y(t, ctx, "new message")

	var th threadAnswer
	if code, raw := f.call(t, "GET", "/api/v1/staff/mailbox/threads/"+id, staffToken, nil, &th); code != 200 || len(th.Messages) != 2 ||
		th.Messages[1].Attachments[0].Name != "Bescheinigung-Arzt.pdf" {
		t.Errorf("staff read: %d %s", code, raw)
	}
}
