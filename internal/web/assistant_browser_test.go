package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
)

// TestBrowserAssistant asks the assistant in Chromium as a person does,
// from the panel of the start page: the answer page names the answer, the
// page that does it, how well it fits and that it is not legally binding;
// a request for a person gets the telephone and its hours. axe-core checks
// every page on the way.
func TestBrowserAssistant(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})
	run(t, ctx, "open the start page",
		chromedp.Navigate(p.url+"/"),
		chromedp.WaitVisible("#assistent-frage"),
	)
	browsertest.A11y(t, ctx, "start page with the assistant's panel")
	run(t, ctx, "ask in the panel",
		chromedp.SendKeys("#assistent-frage", "Wie lange dauert der Passwortbrief?"),
		chromedp.Click(`//aside//button[contains(., 'Fragen')]`),
		atPath("/hilfe/assistent"),
		chromedp.WaitVisible("#antwort"),
	)
	got := text(t, ctx)
	for _, want := range []string{"Werktagen", "Zugangsdaten anfordern", "passt sehr wahrscheinlich", "nicht rechtsverbindlich"} {
		if !strings.Contains(got, want) {
			t.Errorf("answer page lacks %q:\n%s", want, got)
		}
	}
	browsertest.A11y(t, ctx, "the assistant's answer")
	run(t, ctx, "ask for a person",
		chromedp.SendKeys("#frage", "Ich möchte bitte mit einem Menschen sprechen"),
		chromedp.Click(`//main//button[contains(., 'Fragen')]`),
		atPath("/hilfe/assistent"),
		chromedp.WaitVisible(`//dt[contains(., 'Service-Telefon')]`),
	)
	got = text(t, ctx)
	for _, want := range []string{nodetest.Insurer.Phone, nodetest.Assistant.OpeningHours, "nicht rechtsverbindlich"} {
		if !strings.Contains(got, want) {
			t.Errorf("hand-over lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Postfach") {
		t.Errorf("the hand-over promises the mailbox:\n%s", got)
	}
	browsertest.A11y(t, ctx, "the assistant's hand-over")
}
