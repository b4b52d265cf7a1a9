package web_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/web"
)

// The ways back of a person who is stuck, each end to end in Chromium as
// the person takes it, in German and in English (a browser that asks for
// English), with axe-core on every page on the way; in English each page
// is also checked to say nothing in German.

// inBothLanguages runs walk once in a browser that asks for German and
// once in one that asks for English.
func inBothLanguages(t *testing.T, walk func(t *testing.T, ctx context.Context, l lang.Language)) {
	for _, l := range lang.All() {
		t.Run(string(l), func(t *testing.T) {
			ctx := browsertest.StartWith(t, browsertest.Options{Language: map[lang.Language]string{
				lang.German: "de-DE,de", lang.English: "en-GB,en"}[l]})
			walk(t, ctx, l)
		})
	}
}

// checkPage runs axe-core on the page and, in English, checks that it says
// nothing in German but the data (names, addresses) the test put there.
func checkPage(t *testing.T, ctx context.Context, l lang.Language, name string) {
	t.Helper()
	browsertest.A11y(t, ctx, name)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil || got != string(l) {
		t.Errorf("%s: <html lang=%q> (%v), want %s", name, got, err, l)
	}
	if l != lang.English {
		return
	}
	page, err := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if left := web.GermanLeft(page, nodetest.Insurer.Name, "Jürgen Müller", "Pixel von Jürgen"); len(left) > 0 {
		t.Errorf("%s says in German: %q", name, left)
	}
}

// xq quotes s as an XPath string literal.
func xq(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// browserLogin logs in with the password in the browser and waits for
// path.
func browserLogin(t *testing.T, p *portal, ctx context.Context, path string) {
	t.Helper()
	run(t, ctx, "log in",
		chromedp.Navigate(p.url+"/anmelden"),
		chromedp.WaitVisible("#kvnr"),
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#password", strong),
		chromedp.Click("main button[type=submit]"),
		atPath(path),
	)
}

// TestBrowserWayBackFromALockedPIN: the PIN is locked; the device page
// says so and how; the person orders the letter there; the phone unlocks
// with the letter's code and a new PIN; the next login is confirmed with
// the new PIN.
func TestBrowserWayBackFromALockedPIN(t *testing.T) { inBothLanguages(t, wayBackFromALockedPIN) }

func wayBackFromALockedPIN(t *testing.T, ctx context.Context, l lang.Language) {
	p := newPortal(t, options{})
	p.withPassword(t)
	phone := p.bindPhone(t)
	if _, err := p.st.UpdateDevice(t.Context(), store.DeviceID(phone.ID), func(d *store.Device) error {
		d.PINLockedAt = time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	browserLogin(t, p, ctx, "/konto")
	checkPage(t, ctx, l, "account page at level low")
	run(t, ctx, "open the devices",
		chromedp.Click(`//nav//a[@href="/geraete"]`),
		atPath("/geraete"),
		chromedp.WaitVisible("#entsperren"),
	)
	checkPage(t, ctx, l, "devices with a locked PIN")
	if got := text(t, ctx); !strings.Contains(got, "Brief ist da: PIN entsperren") {
		t.Errorf("devices page:\n%s", got)
	}
	run(t, ctx, "order the letter",
		chromedp.Click(`//button[contains(., `+xq(l.T("web.devices.order"))+`)]`),
		atPath("/geraete"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., `+xq(l.T("web.devices.notice_letter"))+`)]`),
	)
	checkPage(t, ctx, l, "devices after ordering")

	// The letter comes; the phone unlocks with its QR code and a new PIN.
	paths := p.node.Letters.Wait(t, 1)
	pdf, err := os.ReadFile(paths[len(paths)-1])
	if err != nil {
		t.Fatal(err)
	}
	link, err := letter.ActivationLink(pdf)
	if err != nil {
		t.Fatal(err)
	}
	const newPIN = "604152"
	c := &appclient.Client{BaseURL: p.url, HTTP: p.client}
	if err := c.UnlockWithLetter(t.Context(), phone, kvnr, strong, link, newPIN, "Pixel von Jürgen", "Pixel 8"); err != nil {
		t.Fatalf("unlock with the letter: %v", err)
	}

	run(t, ctx, "log out", chromedp.Click(`//nav//button[contains(., `+xq(l.T("web.nav.logout"))+`)]`), atPath("/"))
	browserLogin(t, p, ctx, "/anmelden/freigabe")
	checkPage(t, ctx, l, "login waiting page")
	n := shownNumber(t, text(t, ctx))
	a := p.pending(t, approval.ActionPortalLogin)
	ch, err := p.devices.NewChallengeFor(t.Context(), device.PurposeApprove, store.DeviceID(phone.ID), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := phone.Sign(newPIN, challengeOf(ch), appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.approvals.Approve(t.Context(), a.ID, store.DeviceID(phone.ID), deviceProof(ch.ID, proof), "pin", n, ""); err != nil {
		t.Fatalf("approve with the new PIN: %v", err)
	}
	run(t, ctx, "the waiting page goes on by itself", atPath("/konto"), chromedp.WaitVisible("table"))
	if got := text(t, ctx); !strings.Contains(got, l.T("web.level.substantial")) {
		t.Errorf("account page after the confirmation:\n%s", got)
	}
}

// TestBrowserWayBackFromALostPhone: the only phone is lost; the person
// removes it from the devices page after confirming with the eID.
func TestBrowserWayBackFromALostPhone(t *testing.T) { inBothLanguages(t, wayBackFromALostPhone) }

func wayBackFromALostPhone(t *testing.T, ctx context.Context, l lang.Language) {
	p := newPortal(t, options{})
	p.withPassword(t)
	phone := p.bindPhone(t)
	browserLogin(t, p, ctx, "/anmelden/freigabe")
	checkPage(t, ctx, l, "login waiting page")
	confirmEID := `//button[contains(., ` + xq(l.T("web.confirm.eid")) + `)]`
	removeNow := `//button[contains(., ` + xq(l.T("web.remove.now_button", "Pixel von Jürgen")) + `)]`
	run(t, ctx, "the phone is lost: to the devices",
		chromedp.Navigate(p.url+"/geraete"),
		atPath("/geraete"),
		chromedp.Click(`//a[contains(., `+xq(l.T("web.devices.remove", "Pixel von Jürgen"))+`)]`),
		atPath("/geraete/"+phone.ID+"/entfernen"),
		chromedp.WaitVisible(confirmEID),
	)
	checkPage(t, ctx, l, "removal page")
	run(t, ctx, "confirm with the eID",
		chromedp.Click(confirmEID),
		chromedp.WaitVisible(`//h1[contains(., 'Simulierter Personalausweis')]`),
		chromedp.Click(`//button[contains(., 'Passt zum Register')]`),
		atPath("/geraete/"+phone.ID+"/entfernen"),
		chromedp.WaitVisible(removeNow),
	)
	checkPage(t, ctx, l, "removal page after the eID")
	run(t, ctx, "remove",
		chromedp.Click(removeNow),
		atPath("/geraete"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., `+xq(l.T("web.devices.notice_removed"))+`)]`),
	)
	checkPage(t, ctx, l, "devices after the removal")
	if list, _ := p.devices.List(t.Context(), p.person.ID); len(list) != 0 {
		t.Errorf("%d devices after the removal", len(list))
	}
}

// TestBrowserWayBackFromALockedPassword: after repeated wrong passwords
// the right one says the account is locked and until when, and the phone's
// confirmation logs the person in.
func TestBrowserWayBackFromALockedPassword(t *testing.T) {
	inBothLanguages(t, wayBackFromALockedPassword)
}

func wayBackFromALockedPassword(t *testing.T, ctx context.Context, l lang.Language) {
	p := newPortal(t, options{cfg: webConfig(1000, 1000)})
	p.withPassword(t)
	phone := p.bindPhone(t)
	for range 5 {
		p.wrongLogin(t)
	}
	browserLogin(t, p, ctx, "/anmelden/gesperrt")
	checkPage(t, ctx, l, "locked page")
	got := text(t, ctx)
	if !strings.Contains(got, l.T("web.locked.title")) || !strings.Contains(got, l.T("web.reset.title")) {
		t.Errorf("locked page:\n%s", got)
	}
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, got)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "the waiting page goes on by itself", atPath("/konto"), chromedp.WaitVisible("table"))
}

// TestBrowserWayBackFromAForgottenPassword: "Passwort vergessen" by
// letter, the code, a new password, and the account page says it holds.
func TestBrowserWayBackFromAForgottenPassword(t *testing.T) {
	inBothLanguages(t, wayBackFromAForgottenPassword)
}

func wayBackFromAForgottenPassword(t *testing.T, ctx context.Context, l lang.Language) {
	p := newPortal(t, options{})
	p.withPassword(t)
	run(t, ctx, "forgot the password",
		chromedp.Navigate(p.url+"/anmelden"),
		chromedp.Click(`//a[contains(., `+xq(l.T("web.link.forgot"))+`)]`),
		atPath("/passwort-vergessen"),
		chromedp.WaitVisible("#kvnr"),
	)
	checkPage(t, ctx, l, "forgotten password form")
	run(t, ctx, "submit nothing",
		chromedp.Click("main button[type=submit]"),
		chromedp.WaitVisible(".error-summary"),
	)
	// The error summary has the focus, and lists every problem.
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.classList.contains("error-summary")`))
	if err != nil || !focused {
		t.Errorf("the error summary does not have the focus (%v)", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".error-summary li").length`)); err != nil || n < 4 {
		t.Errorf("not every error at once: %d in the summary (%v):\n%s", n, err, text(t, ctx))
	}
	checkPage(t, ctx, l, "forgotten password form with errors")
	run(t, ctx, "request the letter",
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#postal_code", postalCode),
		chromedp.SendKeys("#birth_date", birthDate),
		chromedp.Click("#method-letter"),
		chromedp.Click("main button[type=submit]"),
		chromedp.WaitVisible(`//h1[contains(., `+xq(l.T("web.sent.heading"))+`)]`),
	)
	checkPage(t, ctx, l, "reset letter requested")
	paths := p.node.Letters.Wait(t, 1)
	out := pdfText(t, paths[len(paths)-1])
	m := resetCodeRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no reset code in the letter:\n%s", out)
	}
	const next = "Leuchtturm an der Ostsee"
	run(t, ctx, "enter the code",
		chromedp.Click(`//a[contains(., `+xq(l.T("web.reset.title"))+`)]`),
		atPath("/passwort-zuruecksetzen"),
		chromedp.WaitVisible("#code"),
	)
	checkPage(t, ctx, l, "reset form")
	run(t, ctx, "choose the new password",
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#code", m[1]),
		chromedp.SendKeys("#new_password", next),
		chromedp.SendKeys("#new_password_repeat", next),
		chromedp.Click("main button[type=submit]"),
		atPath("/konto"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., `+xq(l.T("web.account.notice_new_password"))+`)]`),
	)
	checkPage(t, ctx, l, "account page after the reset")
	run(t, ctx, "log out", chromedp.Click(`//nav//button[contains(., `+xq(l.T("web.nav.logout"))+`)]`), atPath("/"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., `+xq(l.T("web.start.logged_out"))+`)]`))
	checkPage(t, ctx, l, "start page after logout")
	run(t, ctx, "an unknown page", chromedp.Navigate(p.url+"/gibt-es-nicht"),
		chromedp.WaitVisible(`//h1[contains(., `+xq(l.T("web.unknown.title"))+`)]`))
	checkPage(t, ctx, l, "unknown page")
}

// pdfText is the text of a letter PDF (pdftotext -layout).
func pdfText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), needTool(t, "pdftotext"), "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// deviceProof is a phone's proof for the device service.
func deviceProof(challengeID string, p appclient.Proof) device.Proof {
	return device.Proof{ChallengeID: challengeID, DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}
}
