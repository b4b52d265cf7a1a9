package backoffice_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// TestBrowserStaffActs walks a supervisor in Chromium through the acts
// added to the person view and the pages they lead to: locking and
// releasing a person's access (and what the person's browser then shows),
// a letter that came back, the letter batch view, and a confirmed
// four-eyes request whose act fails; axe-core finds no WCAG 2.1 A/AA
// violation on any of them.
func TestBrowserStaffActs(t *testing.T) {
	ctx := browsertest.Start(t)
	browsertest.NeedAxe(t)
	n := nodetest.Start(t, nodetest.Options{})
	in := n.Insure(t, 1)
	p := in.Person
	n.BindPhone(t, p, in.Password, "135790")
	portalSession(t, n, p)
	cr, err := n.Staff.Add(t.Context(), "bernd", "Bernd Beispiel", staff.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	view := fmt.Sprintf("/backoffice/personen/%d", p.ID)
	do(t, ctx, "log in", chromedp.Navigate(n.URL+"/backoffice/anmelden"), chromedp.WaitVisible("#kennung"),
		chromedp.SendKeys("#kennung", "bernd"), chromedp.SendKeys("#passwort", string(cr.Password)),
		chromedp.SendKeys("#code", staff.Code(cr.Secret, time.Now())),
		chromedp.Click("main button[type=submit]"), atPath("/backoffice/"))

	// Lock the access; the person's browser meets the lock.
	do(t, ctx, "lock the access", chromedp.Navigate(n.URL+view), chromedp.WaitVisible("#grund-sperren"),
		chromedp.SendKeys("#grund-sperren", "Das war ich nicht: Anruf der Person"),
		chromedp.Click(`//button[contains(., 'Zugang sperren')]`),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Der Zugang ist gesperrt')]`))
	browsertest.A11y(t, ctx, "person view with the access locked")
	do(t, ctx, "the person's login page after the lock", chromedp.Navigate(n.URL+"/anmelden?grund=gesperrt"),
		chromedp.WaitVisible(`//p[contains(., 'Zugang zu Ihrem Schutz gesperrt')]`))
	browsertest.A11y(t, ctx, "portal login page after a staff lock")
	do(t, ctx, "the right password during the lock", chromedp.SendKeys("#kvnr", p.KVNR), chromedp.SendKeys("#password", in.Password),
		chromedp.Click("main button[type=submit]"), chromedp.WaitVisible(`//h1[contains(., 'Zugang gesperrt')]`))
	if got := mainText(t, ctx); !strings.Contains(got, nodetest.Insurer.Phone) {
		t.Errorf("the lock's page does not name the service telephone:\n%s", got)
	}
	browsertest.A11y(t, ctx, "portal page of a locked access")
	do(t, ctx, "the person's login page after staff ended the sessions", chromedp.Navigate(n.URL+"/anmelden?grund=service"),
		chromedp.WaitVisible(`//p[contains(., 'Ihre Sitzungen wurden vom Service-Team beendet')]`))
	browsertest.A11y(t, ctx, "portal login page after staff ended the sessions")
	do(t, ctx, "release the access", chromedp.Navigate(n.URL+view), chromedp.WaitVisible("#grund-freischalten"),
		chromedp.SendKeys("#grund-freischalten", "Identität per Rückruf geprüft"),
		chromedp.Click(`//button[contains(., 'Zugangssperre aufheben')]`),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Zugangssperre ist aufgehoben')]`))

	// A letter handed over to the print service comes back.
	if _, err := n.Node.Access.OrderActivationLetter(t.Context(), p.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	letters, err := n.Store.PersonLetters(t.Context(), p.ID)
	if err != nil || len(letters) == 0 {
		t.Fatalf("letters: %d, %v", len(letters), err)
	}
	id := letters[0].ID
	if letters[0].Status == store.LetterReview {
		if err := n.Node.Letters.Release(t.Context(), id, "staff:1", "Anschrift bestätigt"); err != nil {
			t.Fatal(err)
		}
	}
	var pdf, manifest bytes.Buffer
	if b, err := n.Node.Letters.Export(t.Context(), &pdf, &manifest, 100); err != nil || b.Letters == 0 {
		t.Fatalf("export: %+v, %v", b, err)
	}
	do(t, ctx, "a letter came back", chromedp.Navigate(n.URL+view), chromedp.WaitVisible("#grund-zurueck-"+id),
		chromedp.SendKeys("#grund-zurueck-"+id, "Umschlag zurück: Empfänger unbekannt"),
		chromedp.Click(`//button[contains(., 'Brief kam zurück')]`),
		chromedp.WaitVisible(`//p[contains(., 'kam unzustellbar zurück: Bitte prüfen Sie die Anschrift')]`))
	browsertest.A11y(t, ctx, "person view with a returned letter")
	do(t, ctx, "the batch view", chromedp.Click(`//nav//a[contains(., 'Versand')]`), atPath("/backoffice/versand"),
		chromedp.WaitVisible(`//table/caption[contains(., 'Zurückgekommene Briefe')]`))
	if got := mainText(t, ctx); !strings.Contains(got, id) || !strings.Contains(got, "pforte letters export") {
		t.Errorf("batch view:\n%s", got)
	}
	browsertest.A11y(t, ctx, "letter batch view")

	// A four-eyes request whose act fails when it is confirmed.
	d := lockPIN(t, n, p)
	if _, err := n.Staff.Add(t.Context(), "clara", "Clara Beispiel", staff.RoleClerk); err != nil {
		t.Fatal(err)
	}
	asker, err := n.Store.StaffByLogin(t.Context(), "clara")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Staff.Ask(t.Context(), staff.Member{ID: asker.ID, Login: "clara", Role: staff.RoleClerk}, "pin.reset", p.ID,
		string(d.ID), "PIN vergessen", "rueckruf", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Store.UpdateDevice(t.Context(), d.ID, func(x *store.Device) error {
		x.PINFailures, x.PINLockedAt = 0, time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "confirm a request that cannot be carried out", chromedp.Navigate(n.URL+"/backoffice/vier-augen"),
		chromedp.WaitVisible(`//button[contains(., 'Bestätigen und ausführen')]`),
		chromedp.Click(`//button[contains(., 'Bestätigen und ausführen')]`),
		chromedp.WaitVisible(`//h1[contains(., 'nicht ausgeführt')]`))
	if got := mainText(t, ctx); !strings.Contains(got, "nicht gesperrt") || !strings.Contains(got, "gescheitert") {
		t.Errorf("failure page:\n%s", got)
	}
	browsertest.A11y(t, ctx, "four-eyes act failed")
}
