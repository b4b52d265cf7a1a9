package serviceapp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// activateWithPhoto binds the app for p with a password letter, read from a
// photo of the letter after the camera was refused, and returns the letter.
func (s svc) activateWithPhoto(p store.Person) string {
	s.t.Helper()
	letter := s.n.requestLetter(s.t, p)
	initial := initialPassword(s.t, letter)
	photo, _ := letterPhoto(s.t, letter)
	setCamera(s.t, s.ctx, s.n.URL, browser.PermissionSettingDenied)
	s.do("open the app on a phone", chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(s.n.URL+"/app/"))
	s.screen("Willkommen")
	s.do("activate", tap("Brief ist da: App aktivieren"))
	s.screen("Brief ist da: App aktivieren")
	s.do("the camera is refused", tap("QR-Code mit der Kamera scannen"))
	s.wait("Die App darf die Kamera nicht benutzen. Sie können stattdessen ein Foto des Briefs wählen")
	apptest.A11y(s.t, s.ctx, "Kamera verweigert")
	s.do("a photo of the letter", chromedp.SetUploadFiles(chromedp.ID("foto"), []string{photo}))
	s.screen("App aktivieren: Anmeldedaten")
	s.do("the initial password", apptest.Fill("kvnr", p.KVNR), apptest.Fill("password", strings.ToLower(initial)), tap("Weiter"))
	s.screen("Eigenes Passwort festlegen")
	s.do("an own password", apptest.Fill("new_password", svcPassword), apptest.Fill("new_password_repeat", svcPassword),
		tap("Passwort speichern"))
	s.screen("Freigabe-PIN festlegen")
	s.do("the PIN", apptest.Fill("new_pin", svcPIN), apptest.Fill("new_pin_repeat", svcPIN), tap("Smartphone verbinden"))
	s.screen("Ihr Smartphone ist verbunden")
	s.do("to the login", tap("Zur Anmeldung"))
	s.screen("Anmelden")
	return letter
}

// addAuthenticator adds a virtual platform authenticator with user
// verification, with or without the PRF extension.
func (s svc) addAuthenticator(prf bool) webauthn.AuthenticatorID {
	s.t.Helper()
	if _, err := chromedp.Call(s.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		s.t.Fatal(err)
	}
	res, err := chromedp.Call(s.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, HasPrf: prf, AutomaticPresenceSimulation: true}})
	if err != nil {
		s.t.Fatal(err)
	}
	return res.AuthenticatorID
}

// TestServiceAppBiometricsAndSettings: the photo path after a refused
// camera; biometric unlock with a virtual authenticator with PRF (the login
// and an approval report "fpt"), wiped by a PIN change and by turning it
// off, and not offered without PRF; the settings: device name, devices,
// password, and unbinding, which wipes the keys.
func TestServiceAppBiometricsAndSettings(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	apptest.NeedAxe(t)
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 6 * time.Minute, Flags: []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true)}}) // a camera the person then refuses
	n := startAppNode(t)
	s := svc{t, ctx, n}
	p := n.others[0]
	watchConsole(t, ctx)
	s.activateWithPhoto(p)
	auth := s.addAuthenticator(true)
	s.login(svcPIN)

	s.do("settings", tap("Einstellungen"))
	s.screen("Einstellungen")
	s.do("biometrics", tap("PIN mit Biometrie absichern"))
	s.screen("PIN mit Biometrie absichern")
	s.do("turn it on", chromedp.Tap(chromedp.ID("method-fpt")), apptest.Fill("pin", svcPIN), tap("Biometrie einschalten"))
	s.wait("Die Biometrie ist eingeschaltet.")
	apptest.A11y(t, ctx, "Einstellungen mit Biometrie")
	d := readStore(t, ctx)
	checkStore(t, n, d)
	if !d.Biometric {
		t.Fatal("no biometric record after turning biometrics on")
	}
	s.do("back", tap("Zurück zu den Freigaben"))
	s.screen("Freigaben")
	s.do("log out", tap("Abmelden"))
	s.screen("Anmelden")
	s.do("log in with the finger", tap("Mit Fingerabdruck"))
	s.screen("Freigaben")

	// An approval with the finger: the server records what the app reported.
	a, err := n.Profile.RequestAddressChange(t.Context(), p.ID, profile.Address{Street: "Birkenweg", HouseNumber: "7",
		PostalCode: "50667", City: "Köln"}, "test", session.LevelSubstantial)
	if err != nil {
		t.Fatal(err)
	}
	s.wait("Änderung Ihrer Anschrift")
	s.do("open", tap("Ansehen und beantworten"))
	s.screen("Änderung Ihrer Anschrift")
	s.do("approve with the finger", tap("Mit Fingerabdruck"))
	s.wait("Freigegeben")
	if got, err := n.Store.ApprovalByID(t.Context(), a.ID); err != nil || got.Status != store.ApprovalApproved || got.Method != "fpt" {
		t.Errorf("approval %s by %q (%v), want approved by fpt", got.Status, got.Method, err)
	}

	// A PIN change deletes the biometric copy (app-protocol.md 3.5).
	s.do("back", tap("Zurück zur Übersicht"))
	s.screen("Freigaben")
	s.do("settings", tap("Einstellungen"))
	s.screen("Einstellungen")
	s.do("change the PIN", tap("Freigabe-PIN ändern"))
	s.screen("Freigabe-PIN ändern")
	s.do("a wrong old PIN", apptest.Fill("pin", "111112"), apptest.Fill("new_pin", svcPIN2), apptest.Fill("new_pin_repeat", svcPIN2),
		tap("PIN ändern"))
	s.wait("Sie haben noch 2 Versuche.")
	s.do("the right old PIN", apptest.Fill("pin", svcPIN), apptest.Fill("new_pin", svcPIN2), apptest.Fill("new_pin_repeat", svcPIN2),
		tap("PIN ändern"))
	s.wait("Ihre Freigabe-PIN ist geändert.")
	if readStore(t, ctx).Biometric {
		t.Error("the biometric copy of the old PIN seed survived the PIN change")
	}

	// On again, then off: the copy goes.
	s.do("biometrics", tap("PIN mit Biometrie absichern"))
	s.screen("PIN mit Biometrie absichern")
	s.do("turn it on", chromedp.Tap(chromedp.ID("method-face")), apptest.Fill("pin", svcPIN2), tap("Biometrie einschalten"))
	s.wait("Die Biometrie ist eingeschaltet.")
	if !readStore(t, ctx).Biometric {
		t.Fatal("no biometric record")
	}
	s.do("turn it off", tap("Biometrie ausschalten"))
	s.wait("Die Biometrie ist ausgeschaltet.")
	if readStore(t, ctx).Biometric {
		t.Error("the biometric copy survived turning it off")
	}

	// Without PRF the app says it cannot offer it.
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: auth}); err != nil {
		t.Fatal(err)
	}
	s.addAuthenticator(false)
	s.do("biometrics without PRF", tap("PIN mit Biometrie absichern"))
	s.screen("PIN mit Biometrie absichern")
	s.do("try", chromedp.Tap(chromedp.ID("method-fpt")), apptest.Fill("pin", svcPIN2), tap("Biometrie einschalten"))
	s.wait("WebAuthn mit der Erweiterung PRF")
	apptest.A11y(t, ctx, "ohne PRF")
	if readStore(t, ctx).Biometric {
		t.Error("a biometric record without PRF")
	}
	s.do("back", tap("Zurück zu den Einstellungen"))
	s.screen("Einstellungen")

	// The device's name, the devices, the password.
	s.do("rename", tap("Name dieses Geräts ändern"))
	s.screen("Name dieses Geräts ändern")
	s.do("a name", apptest.Fill("device_name", "Handy Küche"), tap("Namen speichern"))
	s.wait("Der Name ist gespeichert.")
	if devs, err := n.Devices.List(t.Context(), p.ID); err != nil || len(devs) != 1 || devs[0].Name != "Handy Küche" {
		t.Errorf("devices after renaming: %+v (%v)", devs, err)
	}
	s.do("devices", tap("Meine Geräte"))
	if text := s.screen("Meine Geräte"); !strings.Contains(text, "Handy Küche (dieses Gerät)") {
		t.Errorf("devices:\n%s", text)
	}
	s.do("back", tap("Zurück zu den Einstellungen"))
	s.do("password", tap("Passwort ändern"))
	s.screen("Passwort ändern")
	s.do("a wrong current password", apptest.Fill("current_password", "falsch falsch falsch"),
		apptest.Fill("new_password", "Birkenwald am stillen See"), apptest.Fill("new_password_repeat", "Birkenwald am stillen See"),
		tap("Passwort ändern"))
	s.wait("Das bisherige Passwort ist nicht richtig.")
	s.do("the right one", apptest.Fill("current_password", svcPassword), tap("Passwort ändern"))
	s.wait("Ihr Passwort ist geändert.")
	if status, _ := nodetest.CallAPI(t, http.MethodPost, n.URL+"/api/v1/sessions", "",
		map[string]string{"kvnr": p.KVNR, "password": "Birkenwald am stillen See"}); status != http.StatusCreated {
		t.Errorf("the new password does not log in: %d", status)
	}

	// Unbinding: both keys sign, then everything is wiped.
	s.do("unbind", tap("Dieses Gerät trennen"))
	s.screen("Dieses Gerät trennen")
	s.do("with the PIN", apptest.Fill("pin", svcPIN2), tap("Gerät trennen"))
	s.screen("Das Gerät ist getrennt")
	if d := readStore(t, ctx); len(d.Keys) != 0 {
		t.Errorf("the app keeps %v after unbinding", d.Keys)
	}
	if devs, err := n.Devices.List(t.Context(), p.ID); err != nil || len(devs) != 0 {
		t.Errorf("the server still lists %+v (%v)", devs, err)
	}
	s.do("to the start", tap("Zum Start"))
	s.screen("Willkommen")
}
