package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/lang"
)

// TestBrowserLanguageSwitch: a browser that asks for German gets German;
// the switch on the page turns the portal into English and back, stays on
// the page it was on, and a form answered in English says its errors in
// English. axe-core on every page; the English ones say nothing German.
func TestBrowserLanguageSwitch(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})
	p.withPassword(t)
	de, en := lang.German, lang.English
	run(t, ctx, "the start page", chromedp.Navigate(p.url+"/"), chromedp.WaitVisible(`//h1[contains(., `+xq(de.T("web.start.title"))+`)]`))
	checkPage(t, ctx, de, "start page in German")
	run(t, ctx, "switch to English",
		chromedp.Click(`//header//button[@lang='en']`),
		atPath("/"),
		chromedp.WaitVisible(`//h1[contains(., `+xq(en.T("web.start.title"))+`)]`),
	)
	checkPage(t, ctx, en, "start page in English")
	run(t, ctx, "request access in English",
		chromedp.Click(`//main//a[@href='/zugang']`),
		atPath("/zugang"),
		chromedp.WaitVisible(`//h1[contains(., `+xq(en.T("web.link.request_access"))+`)]`),
		chromedp.SendKeys("#kvnr", "A12"),
		chromedp.Click("main button[type=submit]"),
		chromedp.WaitVisible(".error-summary"),
	)
	checkPage(t, ctx, en, "access form with errors in English")
	if got := text(t, ctx); !has(got, en.T("field.kvnr"), en.T("web.access.method_missing")) {
		t.Errorf("the errors are not in English:\n%s", got)
	}
	browserLogin(t, p, ctx, "/konto")
	checkPage(t, ctx, en, "account page in English")
	run(t, ctx, "back to German on the account page",
		chromedp.Click(`//header//button[@lang='de']`),
		atPath("/konto"),
		chromedp.WaitVisible(`//h2[contains(., `+xq(de.T("web.account.sessions"))+`)]`),
	)
	checkPage(t, ctx, de, "account page in German")
	acct, err := p.st.AccountByPerson(t.Context(), p.person.ID)
	if err != nil || acct.Language != "de" {
		t.Errorf("the account keeps %q (%v), want de", acct.Language, err)
	}
}
