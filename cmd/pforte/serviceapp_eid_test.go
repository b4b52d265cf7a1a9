package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
)

// TestServiceAppEIDBinding registers with the Online-Ausweis in the app:
// the partner (the simulator), back in the app the password, then the PIN;
// the device is bound at level high. A failed identification comes back to
// the app and says why.
func TestServiceAppEIDBinding(t *testing.T) {
	apptest.NeedAxe(t)
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 4 * time.Minute})
	n := startAppNode(t)
	s := svc{t, ctx, n}
	p := n.eidPerson
	watchConsole(t, ctx)
	register := func() {
		s.do("open the app", chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulateTouch),
			chromedp.Navigate(n.base+"/app/"))
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
	devs, err := n.a.devices.List(t.Context(), p.ID)
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
}
