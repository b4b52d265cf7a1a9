package serviceapp_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/store"
)

// TestServiceAppEIDBinding registers with the Online-Ausweis in the app:
// the partner (the simulator), back in the app the password, then the PIN;
// the device is bound at level high. A failed identification comes back to
// the app and says why. Then: a portal login tapped with the wrong number is
// declined, and another phone is removed through an approval.
func TestServiceAppEIDBinding(t *testing.T) {
	apptest.NeedAxe(t)
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 4 * time.Minute})
	n := startAppNode(t)
	s := svc{t, ctx, n}
	p := n.eidPerson
	watchConsole(t, ctx)
	register := func() {
		s.do("open the app", chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulateTouch),
			chromedp.Navigate(n.URL+"/app/"))
		s.screen("Willkommen")
		s.do("register", tap("Registrieren"))
		s.screen("Registrieren")
		s.do("with the eID", apptest.Fill("kvnr", p.KVNR), apptest.Fill("postal_code", p.PostalCode),
			apptest.Fill("birth_date", germanDate(p.BirthDate)), chromedp.Tap(chromedp.ID("method-eid")), tap("Weiter"))
		s.do("at the partner", chromedp.WaitVisible(`//h1[contains(., 'Simulierter Personalausweis')]`))
	}

	// Another birth date in the ID card: no match, said in the app.
	register()
	s.do("the wrong identity", chromedp.Click(`//button[contains(., 'Anderes Geburtsdatum')]`))
	if text := s.screen("Identifizierung nicht abgeschlossen"); !strings.Contains(text, "passen nicht zu den Angaben") {
		t.Errorf("no match:\n%s", text)
	}

	register()
	s.do("the matching identity", chromedp.Click(`(//button[contains(., 'Passt zum Register')])[1]`))
	s.screen("Passwort festlegen")
	s.do("a password", apptest.Fill("new_password", svcPassword))
	s.strength()
	s.do("repeat", apptest.Fill("new_password_repeat", svcPassword), tap("Passwort speichern"))
	s.screen("Freigabe-PIN festlegen")
	s.do("the PIN", apptest.Fill("device_name", "Ausweis-Telefon"), apptest.Fill("new_pin", svcPIN),
		apptest.Fill("new_pin_repeat", svcPIN), tap("Smartphone verbinden"))
	if text := s.screen("Ihr Smartphone ist verbunden"); !strings.Contains(text, "Vertrauensniveau: hoch") {
		t.Errorf("bound:\n%s", text)
	}
	checkStore(t, n, readStore(t, ctx))
	devs, err := n.Devices.List(t.Context(), p.ID)
	if err != nil || len(devs) != 1 || devs[0].Level != "high" || devs[0].Name != "Ausweis-Telefon" {
		t.Fatalf("the server's devices: %+v (%v)", devs, err)
	}
	// The address the app came back on holds no secret and is gone.
	hist, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist.Entries {
		if strings.Contains(e.URL, "token") || strings.Contains(e.URL, "ticket") || strings.Contains(e.URL, "session") {
			t.Errorf("a secret in the history: %s", e.URL)
		}
	}
	s.do("to the login", tap("Zur Anmeldung"))
	s.screen("Anmelden")
	s.login(svcPIN)

	// A portal login where the person taps another number than the portal
	// shows: declined as "not me".
	b := nodetest.NewBrowserless("http://nowhere.invalid")
	u, _, body := b.Post(t, n.URL, "/anmelden", url.Values{"kvnr": {p.KVNR}, "password": {svcPassword}})
	if u.Path != "/anmelden/freigabe" {
		t.Fatalf("portal login led to %s", u)
	}
	number := nodetest.NumberOnPage(t, body)
	s.wait("Anmeldung im Online-Portal")
	login := s.pendingOf(p, "portal.login")
	wrong := -1
	for _, c := range login.Choices {
		if c != number {
			wrong = c
		}
	}
	s.do("open", tap("Ansehen und beantworten"))
	s.screen("Anmeldung im Online-Portal")
	s.do("tap another number", tap(strconv.Itoa(wrong)), apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Die Zahl passte nicht zu der im Online-Portal.")
	if a, err := n.Store.ApprovalByID(t.Context(), login.ID); err != nil || a.Status != store.ApprovalDeclined {
		t.Errorf("the login tapped wrong is %s (%v), want declined", a.Status, err)
	}

	// A second phone (the reference client), removed from this one through
	// an approval on a bound phone.
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = nodetest.CheapKDF
	second, _, err := n.App().Bind(t.Context(), phone, p.KVNR, svcPassword, n.ActivationCode(t, p), "905173", "Altes Telefon", "Pixel 6")
	if err != nil {
		t.Fatal(err)
	}
	s.do("back", tap("Zurück zur Übersicht"))
	s.screen("Freigaben")
	s.do("settings", tap("Einstellungen"))
	s.screen("Einstellungen")
	s.do("devices", tap("Meine Geräte"))
	if text := s.screen("Meine Geräte"); !strings.Contains(text, "Altes Telefon") || !strings.Contains(text, "Ausweis-Telefon (dieses Gerät)") {
		t.Fatalf("devices:\n%s", text)
	}
	s.do("remove the other", tap("Gerät entfernen"))
	s.wait("Bitte bestätigen Sie das Entfernen in der Liste der Freigaben.")
	s.do("to the approvals", tap("Zu den Freigaben"))
	s.wait("Gerät entfernen")
	s.do("open", tap("Ansehen und beantworten"))
	s.screen("Gerät entfernen")
	s.do("approve", apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Freigegeben")
	if devs, err := n.Devices.List(t.Context(), p.ID); err != nil || len(devs) != 1 || devs[0].ID == store.DeviceID(second) {
		t.Errorf("after removing the other phone: %+v (%v)", devs, err)
	}
}
