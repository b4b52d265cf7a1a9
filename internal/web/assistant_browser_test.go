package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
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

// TestBrowserAssistantHandover hands a conversation over to staff in
// Chromium as a person does: logged in and confirmed with the phone
// (level substantial), the person asks about their own case, is offered the
// hand-over by mailbox and takes it with the page's form; the message is in
// their mailbox. axe-core checks the offer and the confirmation.
func TestBrowserAssistantHandover(t *testing.T) {
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
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, text(t, ctx))); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "wait for the refresh", atPath("/konto"), chromedp.WaitVisible("table"))

	run(t, ctx, "ask about the own case",
		chromedp.Navigate(p.url+"/hilfe/assistent"),
		chromedp.WaitVisible("#frage"),
		chromedp.SendKeys("#frage", "Wie ist der Stand meines Antrags auf Erstattung?"),
		chromedp.Click(`//main//button[contains(., 'Fragen')]`),
		atPath("/hilfe/assistent"),
		chromedp.WaitVisible(`//button[contains(., 'an das Service-Team weitergeben')]`),
	)
	browsertest.A11y(t, ctx, "the assistant's offer to hand over by mailbox")
	run(t, ctx, "hand over",
		chromedp.Click(`//button[contains(., 'an das Service-Team weitergeben')]`),
		chromedp.WaitVisible(`//p[contains(., 'Ihre Fragen sind beim Service-Team')]`),
	)
	browsertest.A11y(t, ctx, "the hand-over's confirmation")
	threads, err := p.st.MailThreads(t.Context(), p.person.ID, store.MailThreadQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, th := range threads {
		if th.NoticeID == "" && th.UnreadByStaff == 1 {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("%d messages to staff in the person's mailbox after the hand-over, want 1", sent)
	}
}
