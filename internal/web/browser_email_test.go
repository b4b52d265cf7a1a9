package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/mailbox"
)

// TestBrowserEmailAddress: the e-mail pages in Chromium, in German and
// English, with axe-core on each: the form with a wrong address, the
// address waiting for its link, the link's page and what follows it, the
// link used twice (the way back), and the unsubscribe page of a notice.
func TestBrowserEmailAddress(t *testing.T) { inBothLanguages(t, emailPages) }

func emailPages(t *testing.T, ctx context.Context, l lang.Language) {
	relay := smtptest.Start(t, smtptest.Options{})
	p := newPortal(t, options{mail: &email.SenderConfig{Relay: relay.Addr, From: "postfach@example-kasse.de", Timeout: 5 * time.Second}})
	p.withPassword(t)
	phone := p.bindPhone(t)
	browserLogin(t, p, ctx, "/anmelden/freigabe")
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, text(t, ctx))); err != nil {
		t.Fatal(err)
	}
	submit := `//main//form[@action='/daten/email']//button`
	run(t, ctx, "to the e-mail page", atPath("/konto"), chromedp.Navigate(p.url+"/daten/email"), chromedp.WaitVisible("#email"))
	checkPage(t, ctx, l, "e-mail page")
	run(t, ctx, "a wrong address", chromedp.SendKeys("#email", "kein at"), chromedp.Click(submit), chromedp.WaitVisible(".error-summary"))
	checkPage(t, ctx, l, "e-mail page with an error")
	run(t, ctx, "a right address", chromedp.Clear("input#email"), chromedp.SendKeys("input#email", "juergen@beispiel-mail.de"), chromedp.Click(submit),
		chromedp.WaitVisible(`//p[@role='status'][contains(., `+xq(l.T("web.email.sent"))+`)]`))
	checkPage(t, ctx, l, "e-mail page with a waiting address")

	_, body := mailText(t, relay.Wait(1, 10*time.Second)[0])
	link := p.url + linkIn(t, body, "bestaetigen")
	run(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(`//main//button`))
	checkPage(t, ctx, l, "confirmation page")
	run(t, ctx, "confirm", chromedp.Click(`//main//button`), chromedp.WaitVisible(`//h1[contains(., `+xq(l.T("web.email.confirmed"))+`)]`))
	checkPage(t, ctx, l, "confirmed")
	run(t, ctx, "the link again", chromedp.Navigate(link), chromedp.WaitVisible(`//a[@href='/daten/email']`))
	checkPage(t, ctx, l, "link used twice")
	if got := text(t, ctx); !strings.Contains(got, l.T("answer.email_link_invalid.heading")) {
		t.Errorf("link used twice says:\n%s", got)
	}

	if _, err := p.node.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: kvnr, Author: "operator", Subject: "Betreff", Text: "Text"}); err != nil {
		t.Fatal(err)
	}
	_, body = mailText(t, relay.Wait(2, 10*time.Second)[1])
	run(t, ctx, "open the unsubscribe link", chromedp.Navigate(p.url+linkIn(t, body, "abbestellen")), chromedp.WaitVisible(`//main//button`))
	checkPage(t, ctx, l, "unsubscribe page")
	run(t, ctx, "unsubscribe", chromedp.Click(`//main//button`), chromedp.WaitVisible(`//h1[contains(., `+xq(l.T("web.email.unsubscribed"))+`)]`))
	checkPage(t, ctx, l, "unsubscribed")
}
