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
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/store"
)

// The ways back of a person who is stuck, each end to end in Chromium as
// the person takes it, with axe-core on every page on the way.

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
func TestBrowserWayBackFromALockedPIN(t *testing.T) {
	ctx := browsertest.Start(t)
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
	browsertest.A11y(t, ctx, "account page at level low")
	run(t, ctx, "open the devices",
		chromedp.Click(`//nav//a[@href="/geraete"]`),
		atPath("/geraete"),
		chromedp.WaitVisible("#entsperren"),
	)
	browsertest.A11y(t, ctx, "devices with a locked PIN")
	if got := text(t, ctx); !strings.Contains(got, "Brief ist da: PIN entsperren") {
		t.Errorf("devices page:\n%s", got)
	}
	run(t, ctx, "order the letter",
		chromedp.Click(`//button[contains(., 'Brief mit neuem QR-Code bestellen')]`),
		atPath("/geraete"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Ihr Brief ist bestellt')]`),
	)
	browsertest.A11y(t, ctx, "devices after ordering")

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

	run(t, ctx, "log out", chromedp.Click(`//nav//button[contains(., 'Abmelden')]`), atPath("/"))
	browserLogin(t, p, ctx, "/anmelden/freigabe")
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
	if got := text(t, ctx); !strings.Contains(got, "substantiell") {
		t.Errorf("account page after the confirmation:\n%s", got)
	}
}

// TestBrowserWayBackFromALostPhone: the only phone is lost; the person
// removes it from the devices page after confirming with the eID.
func TestBrowserWayBackFromALostPhone(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})
	p.withPassword(t)
	phone := p.bindPhone(t)
	browserLogin(t, p, ctx, "/anmelden/freigabe")
	browsertest.A11y(t, ctx, "login waiting page")
	run(t, ctx, "the phone is lost: to the devices",
		chromedp.Navigate(p.url+"/geraete"),
		atPath("/geraete"),
		chromedp.Click(`//a[contains(., 'entfernen')]`),
		atPath("/geraete/"+phone.ID+"/entfernen"),
		chromedp.WaitVisible(`//button[contains(., 'Mit dem Online-Ausweis bestätigen')]`),
	)
	browsertest.A11y(t, ctx, "removal page")
	run(t, ctx, "confirm with the eID",
		chromedp.Click(`//button[contains(., 'Mit dem Online-Ausweis bestätigen')]`),
		chromedp.WaitVisible(`//h1[contains(., 'Simulierter Personalausweis')]`),
		chromedp.Click(`//button[contains(., 'Passt zum Register')]`),
		atPath("/geraete/"+phone.ID+"/entfernen"),
		chromedp.WaitVisible(`//button[contains(., 'jetzt entfernen')]`),
	)
	browsertest.A11y(t, ctx, "removal page after the eID")
	run(t, ctx, "remove",
		chromedp.Click(`//button[contains(., 'jetzt entfernen')]`),
		atPath("/geraete"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Das Gerät wurde entfernt')]`),
	)
	browsertest.A11y(t, ctx, "devices after the removal")
	if list, _ := p.devices.List(t.Context(), p.person.ID); len(list) != 0 {
		t.Errorf("%d devices after the removal", len(list))
	}
}

// TestBrowserWayBackFromALockedPassword: after repeated wrong passwords
// the right one says the account is locked and until when, and the phone's
// confirmation logs the person in.
func TestBrowserWayBackFromALockedPassword(t *testing.T) {
	ctx := browsertest.Start(t)
	p := newPortal(t, options{cfg: webConfig(1000, 1000)})
	p.withPassword(t)
	phone := p.bindPhone(t)
	for range 5 {
		p.wrongLogin(t)
	}
	browserLogin(t, p, ctx, "/anmelden/gesperrt")
	browsertest.A11y(t, ctx, "locked page")
	got := text(t, ctx)
	if !strings.Contains(got, "vorübergehend gesperrt, bis") || !strings.Contains(got, "Passwort zurücksetzen") {
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
	ctx := browsertest.Start(t)
	p := newPortal(t, options{})
	p.withPassword(t)
	run(t, ctx, "forgot the password",
		chromedp.Navigate(p.url+"/anmelden"),
		chromedp.Click(`//a[contains(., 'Passwort vergessen')]`),
		atPath("/passwort-vergessen"),
		chromedp.WaitVisible("#kvnr"),
	)
	browsertest.A11y(t, ctx, "forgotten password form")
	run(t, ctx, "submit nothing",
		chromedp.Click("main button[type=submit]"),
		chromedp.WaitVisible(".error-summary"),
	)
	// The error summary has the focus, and lists every problem.
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.classList.contains("error-summary")`))
	if err != nil || !focused {
		t.Errorf("the error summary does not have the focus (%v)", err)
	}
	if got := text(t, ctx); strings.Count(got, "Bitte") < 3 {
		t.Errorf("not every error at once:\n%s", got)
	}
	browsertest.A11y(t, ctx, "forgotten password form with errors")
	run(t, ctx, "request the letter",
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#postal_code", postalCode),
		chromedp.SendKeys("#birth_date", birthDate),
		chromedp.Click("#method-letter"),
		chromedp.Click("main button[type=submit]"),
		chromedp.WaitVisible(`//h1[contains(., 'Vielen Dank')]`),
	)
	browsertest.A11y(t, ctx, "reset letter requested")
	paths := p.node.Letters.Wait(t, 1)
	out := pdfText(t, paths[len(paths)-1])
	m := resetCodeRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no reset code in the letter:\n%s", out)
	}
	const next = "Leuchtturm an der Ostsee"
	run(t, ctx, "enter the code",
		chromedp.Click(`//a[contains(., 'Passwort zurücksetzen')]`),
		atPath("/passwort-zuruecksetzen"),
		chromedp.WaitVisible("#code"),
	)
	browsertest.A11y(t, ctx, "reset form")
	run(t, ctx, "choose the new password",
		chromedp.SendKeys("#kvnr", kvnr),
		chromedp.SendKeys("#code", m[1]),
		chromedp.SendKeys("#new_password", next),
		chromedp.SendKeys("#new_password_repeat", next),
		chromedp.Click("main button[type=submit]"),
		atPath("/konto"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Ihr neues Passwort gilt ab jetzt')]`),
	)
	browsertest.A11y(t, ctx, "account page after the reset")
	run(t, ctx, "log out", chromedp.Click(`//nav//button[contains(., 'Abmelden')]`), atPath("/"),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Sie sind abgemeldet')]`))
	browsertest.A11y(t, ctx, "start page after logout")
	run(t, ctx, "an unknown page", chromedp.Navigate(p.url+"/gibt-es-nicht"), chromedp.WaitVisible(`//h1[contains(., 'Seite nicht gefunden')]`))
	browsertest.A11y(t, ctx, "unknown page")
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
