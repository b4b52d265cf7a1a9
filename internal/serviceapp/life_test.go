package serviceapp_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/store"
)

// TestServiceAppLifeInTheBrowser is the whole life of the service app
// against a real node, on a phone's screen with touch, every screen checked
// with axe-core: registration by letter, activation by scanning the
// letter's QR code with the (fake) camera, the own password with the meter,
// the PIN, login, a portal login confirmed by number matching, an address
// change started in the portal and applied there, a CIBA request of another
// application rendered and declined, three wrong PINs and the lock, the
// unlock letter as far as the server offers it, and the unlock with the
// Online-Ausweis.
func TestServiceAppLifeInTheBrowser(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	apptest.NeedAxe(t)
	camera := filepath.Join(t.TempDir(), "kamera.y4m")
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 6 * time.Minute, Flags: []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", camera)}})
	n := startAppNode(t)
	s := svc{t, ctx, n}
	p := n.eidPerson
	watchConsole(t, ctx)

	s.do("open the app on a phone", chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(n.URL+"/app/"))
	s.screen("Willkommen")
	s.do("register", tap("Registrieren"))
	s.screen("Registrieren")
	s.do("request a letter", apptest.Fill("kvnr", p.KVNR), apptest.Fill("postal_code", p.PostalCode),
		apptest.Fill("birth_date", germanDate(p.BirthDate)), chromedp.Tap(chromedp.ID("method-letter")), tap("Weiter"))
	if text := s.screen("Ihr Brief ist unterwegs"); !strings.Contains(text, "Brief ist da: App aktivieren") {
		t.Errorf("the app does not say what to do with the letter:\n%s", text)
	}

	letter := n.Letters.Wait(t, 1)[0]
	initial := initialPassword(t, letter)
	_, page := letterPhoto(t, letter)
	writeCameraFile(t, camera, page, qrArea(t, page))
	setCamera(t, ctx, n.URL, browser.PermissionSettingGranted)

	start := time.Now()
	s.do("the letter is here", tap("Zurück zum Start"))
	s.screen("Willkommen")
	s.do("activate", tap("Brief ist da: App aktivieren"))
	s.screen("Brief ist da: App aktivieren")
	s.do("scan the QR code", tap("QR-Code mit der Kamera scannen"))
	s.screen("App aktivieren: Anmeldedaten")
	s.do("the initial password", apptest.Fill("kvnr", p.KVNR), apptest.Fill("password", initial), tap("Weiter"))
	s.screen("Eigenes Passwort festlegen")
	s.do("a weak password", apptest.Fill("new_password", "passwort123"))
	s.wait("häufig")
	s.do("an own password", apptest.Fill("new_password", svcPassword))
	s.strength()
	s.do("repeat it", apptest.Fill("new_password_repeat", svcPassword), tap("Passwort speichern"))
	s.screen("Freigabe-PIN festlegen")
	s.do("a trivial PIN", apptest.Fill("new_pin", "123456"), apptest.Fill("new_pin_repeat", "123456"), tap("Smartphone verbinden"))
	s.wait("keine Zahlenfolge")
	apptest.A11y(t, ctx, "Freigabe-PIN festlegen mit Fehler")
	s.do("the PIN", apptest.Fill("device_name", "Testtelefon"), apptest.Fill("new_pin", svcPIN), apptest.Fill("new_pin_repeat", svcPIN),
		tap("Smartphone verbinden"))
	if text := s.screen("Ihr Smartphone ist verbunden"); !strings.Contains(text, "Vertrauensniveau: substantiell") {
		t.Errorf("bound:\n%s", text)
	}
	bound := time.Since(start)
	t.Logf("from opening the app with the letter to a bound device: %v", bound)
	figure("activation_to_bound_ms", float64(bound.Milliseconds()), "ms", "scripted: camera scan, initial password, own password, PIN")
	stored := readStore(t, ctx)
	checkStore(t, n, stored)
	devs, err := n.Devices.List(t.Context(), p.ID)
	if err != nil || len(devs) != 1 || devs[0].Name != "Testtelefon" || devs[0].Level != "substantial" {
		t.Fatalf("the server's devices: %+v (%v)", devs, err)
	}

	s.do("to the login", tap("Zur Anmeldung"))
	s.screen("Anmelden")
	s.login(svcPIN)

	// A portal login: the phone taps the number the portal shows.
	b := nodetest.NewBrowserless("http://nowhere.invalid")
	u, _, body := b.Post(t, n.URL, "/anmelden", url.Values{"kvnr": {p.KVNR}, "password": {svcPassword}})
	if u.Path != "/anmelden/freigabe" {
		t.Fatalf("portal login led to %s", u)
	}
	number := nodetest.NumberOnPage(t, body)
	s.wait("Anmeldung im Online-Portal")
	s.do("open the request", tap("Ansehen und beantworten"))
	s.screen("Anmeldung im Online-Portal")
	if got, want := s.shownText(), s.pendingOf(p, "portal.login").Text; got != want {
		t.Errorf("the app shows %q, the server asked %q", got, want)
	}
	s.do("tap the number", tap(strconv.Itoa(number)), apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Freigegeben")
	apptest.A11y(t, ctx, "Freigegeben")
	if u, _, _ := b.Get(t, n.URL+"/anmelden/freigabe"); u.Path != "/konto" {
		t.Fatalf("the portal login was not confirmed: at %s", u)
	}

	// An address change started in the portal, approved on the phone.
	u, _, body = b.Post(t, n.URL, "/daten/anschrift", url.Values{"street": {"Lindenallee"}, "house_number": {"3"},
		"postal_code": {"04109"}, "city": {"Leipzig"}})
	if !strings.HasPrefix(u.Path, "/freigabe/") {
		t.Fatalf("address change led to %s: %s", u, body)
	}
	s.do("back", tap("Zurück zur Übersicht"))
	s.screen("Freigaben")
	s.wait("Änderung Ihrer Anschrift")
	s.do("open the change", tap("Ansehen und beantworten"))
	s.screen("Änderung Ihrer Anschrift")
	if got, want := s.shownText(), s.pendingOf(p, "address.change").Text; got != want || !strings.Contains(got, "Lindenallee 3") {
		t.Errorf("the app shows %q, the server asked %q", got, want)
	}
	s.do("approve", apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Freigegeben")
	if _, _, page := b.Get(t, n.URL+"/daten"); !strings.Contains(page, "Lindenallee 3") || !strings.Contains(page, "04109 Leipzig") {
		t.Errorf("the portal does not show the new address:\n%s", page)
	}

	// A CIBA request of another application, as the person sees it; declined.
	status, res := nodetest.TokenPost(t, n.Issuer()+"/bc-authorize", nodetest.KasseApp, nodetest.KasseAppSecret, url.Values{"scope": {"openid profile"},
		"login_hint": {p.KVNR}, "binding_message": {"ZAHLUNG-4711"}, "authorization_details": {cibaDetails},
		"acr_values": {"http://eidas.europa.eu/LoA/substantial"}})
	if status != http.StatusOK {
		t.Fatalf("CIBA request: %d %v", status, res)
	}
	s.do("back", tap("Zurück zur Übersicht"))
	s.wait("Anfrage einer Anwendung")
	s.do("open the request", tap("Ansehen und beantworten"))
	s.screen("Anfrage einer Anwendung")
	ciba := s.pendingOf(p, "client.request")
	shown := s.shownText()
	for _, want := range []string{"Kasse-App bittet um Ihre Freigabe.", "Kennung: ZAHLUNG-4711",
		"Zahlung über 42,00 € an Apotheke am Markt", "IBAN: DE02 1203 0000 0000 2020 51"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the CIBA request shows %q, lacking %q", shown, want)
		}
	}
	if shown != ciba.Text {
		t.Errorf("the app shows %q, the server asked %q", shown, ciba.Text)
	}
	s.do("this was not me", tap("Das war ich nicht"))
	s.wait("Abgelehnt")
	if a, err := n.Store.ApprovalByID(t.Context(), ciba.ID); err != nil || a.Status != store.ApprovalDeclined {
		t.Errorf("the CIBA request is %q (%v), want declined", a.Status, err)
	}

	// Three wrong PINs lock it; the app says how many remain, then why and
	// the way out.
	s.do("back", tap("Zurück zur Übersicht"))
	s.screen("Freigaben")
	s.do("log out", tap("Abmelden"))
	s.screen("Anmelden")
	s.do("a wrong PIN", apptest.Fill("pin", "111112"), tap("Anmelden"))
	s.wait("Sie haben noch 2 Versuche.")
	apptest.A11y(t, ctx, "falsche PIN")
	s.do("a wrong PIN", apptest.Fill("pin", "111113"), tap("Anmelden"))
	s.wait("Sie haben noch 1 Versuch.")
	s.do("a wrong PIN", apptest.Fill("pin", "111114"), tap("Anmelden"))
	s.screen("Ihre Freigabe-PIN ist gesperrt")
	if d, err := n.Store.DeviceByID(t.Context(), store.DeviceID(stored.ID)); err != nil || d.PINLockedAt.IsZero() {
		t.Fatalf("the server did not lock the PIN: %+v %v", d, err)
	}
	if !readStore(t, ctx).PINLocked {
		t.Error("the app does not remember the lock")
	}

	// The unlock letter: the address was just changed by the person, so the
	// letter waits for the insurer's review (no API releases it).
	s.do("order a letter", tap("Neuen Brief bestellen"))
	s.screen("Neuen Brief bestellen")
	s.do("log in", apptest.Fill("kvnr", p.KVNR), apptest.Fill("password", svcPassword), tap("Anmelden"))
	s.screen("Brief mit QR-Code bestellen")
	s.do("order", tap("Brief bestellen"))
	if text := s.screen("Ihr Brief ist bestellt"); !strings.Contains(text, "Anschrift muss noch bestätigt werden") {
		t.Errorf("letter ordered:\n%s", text)
	}
	s.do("done", tap("Fertig"))
	s.screen("Ihre Freigabe-PIN ist gesperrt")

	// The Online-Ausweis unlocks at once: new password, new PIN.
	s.do("eID", tap("Mit dem Online-Ausweis entsperren"))
	s.screen("Mit dem Online-Ausweis entsperren")
	s.do("identify", apptest.Fill("kvnr", p.KVNR), apptest.Fill("postal_code", "04109"),
		apptest.Fill("birth_date", germanDate(p.BirthDate)), tap("Weiter zum Online-Ausweis"))
	s.do("the partner", chromedp.WaitVisible(`//h1[contains(., 'Simulierter Personalausweis')]`),
		chromedp.Click(`(//button[contains(., 'Passt zum Register')])[1]`))
	s.screen("Neues Passwort festlegen")
	s.do("a new password", apptest.Fill("new_password", "Birkenwald am stillen See"))
	s.strength()
	s.do("repeat", apptest.Fill("new_password_repeat", "Birkenwald am stillen See"), tap("Passwort speichern"))
	s.screen("Neue Freigabe-PIN festlegen")
	s.do("a new PIN", apptest.Fill("new_pin", svcPIN2), apptest.Fill("new_pin_repeat", svcPIN2), tap("PIN entsperren"))
	s.screen("Ihre Freigabe-PIN ist entsperrt")
	if d, err := n.Store.DeviceByID(t.Context(), store.DeviceID(stored.ID)); err != nil || !d.PINLockedAt.IsZero() {
		t.Fatalf("the server did not unlock the PIN: %v", err)
	}
	s.do("to the login", tap("Zur Anmeldung"))
	s.screen("Anmelden")
	s.login(svcPIN2)
}
