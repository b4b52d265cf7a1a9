package web_test

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// confirmWithEID posts the eID confirmation with where to return, makes
// the choice at the partner and follows the way back.
func (p *portal) confirmWithEID(t *testing.T, back string, choice sim.Choice) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/eid/bestaetigen",
		strings.NewReader(url.Values{"zurueck": {back}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a := p.do(t, p.noFollow(), req)
	if a.status != http.StatusSeeOther {
		t.Fatalf("eID confirmation start: %d\n%s", a.status, a.body)
	}
	return partner(t, p, a.header.Get("Location"), choice)
}

// TestLostPhoneRemovedWithEID: a person whose only phone is lost (so no
// phone can confirm anything) removes it from the portal after confirming
// the session with the eID; the password stays; the eID of another person
// confirms nothing.
func TestLostPhoneRemovedWithEID(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)
	if a := p.login(t); a.path != "/anmelden/freigabe" {
		t.Fatalf("login with a phone ended at %s", a.path)
	}
	// The phone is gone: the person stays at level low.
	if _, err := p.st.UpdateDevice(t.Context(), store.DeviceID(phone.ID), func(d *store.Device) error {
		d.PINLockedAt = time.Now() // and whoever has it tried the PIN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	page := p.get(t, "/geraete/"+phone.ID+"/entfernen")
	if page.status != http.StatusOK || !has(page.body, "Mit dem Online-Ausweis (sofort)", `action="/eid/bestaetigen"`,
		`action="/geraete/aktivierungsbrief"`) || strings.Contains(page.body, "Freigabe anfordern") {
		t.Fatalf("removal page at level low with a locked phone: %d\n%s", page.status, page.body)
	}
	// With the password alone, nothing is removed.
	if a := p.post(t, "/geraete/"+phone.ID+"/entfernen", nil); a.status != http.StatusForbidden {
		t.Errorf("removal at level low: %d, want 403", a.status)
	}

	// Someone else's ID card: refused, the session unchanged.
	wrong := p.confirmWithEID(t, "/geraete/"+phone.ID+"/entfernen", sim.Choice{Identity: identityOtherDay})
	if wrong.status != http.StatusForbidden || p.currentSession(t).Origin == string(session.OriginEID) ||
		!strings.Contains(wrong.body, `href="/geraete"`) || strings.Contains(wrong.body, `href="/zugang"`) {
		t.Errorf("another person's eID: %d, origin %s", wrong.status, p.currentSession(t).Origin)
	}

	done := p.confirmWithEID(t, "/geraete/"+phone.ID+"/entfernen", sim.Choice{Identity: identityMatch})
	if done.path != "/geraete/"+phone.ID+"/entfernen" || !has(done.body, "Sie haben sich mit dem Online-Ausweis bestätigt",
		"jetzt entfernen") {
		t.Fatalf("back from the eID at %s:\n%s", done.path, done.body)
	}
	if s := p.currentSession(t); s.Origin != string(session.OriginEID) || s.Level != string(session.LevelHigh) {
		t.Errorf("session after the eID: origin %s, level %s", s.Origin, s.Level)
	}
	removed := p.post(t, "/geraete/"+phone.ID+"/entfernen", nil)
	if removed.path != "/geraete" || !strings.Contains(removed.body, "Das Gerät wurde entfernt") {
		t.Fatalf("removal ended at %s:\n%s", removed.path, removed.body)
	}
	if list, err := p.devices.List(t.Context(), p.person.ID); err != nil || len(list) != 0 {
		t.Errorf("devices after the removal: %d (%v)", len(list), err)
	}
	// The password is the one it was.
	p.post(t, "/abmelden", nil)
	if a := p.login(t); a.path != "/konto" {
		t.Errorf("login with the password after the eID: %s", a.path)
	}
}

// TestPhoneRemovedWithApproval: at level substantial the portal asks the
// phones to approve the removal; the waiting page says what was removed.
func TestPhoneRemovedWithApproval(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	old := p.bindPhone(t)
	other := p.bindPhone(t)
	p.stepUp(t, other)
	page := p.get(t, "/geraete/"+old.ID+"/entfernen")
	if !has(page.body, "Freigabe anfordern", "auch an dieses") {
		t.Fatalf("removal page at substantial:\n%s", page.body)
	}
	wait := p.post(t, "/geraete/"+old.ID+"/entfernen", nil)
	if !strings.HasPrefix(wait.path, "/freigabe/") || !has(wait.body, "data-waiting", "Zurück zu Meine Geräte") {
		t.Fatalf("removal request ended at %s:\n%s", wait.path, wait.body)
	}
	if err := p.approve(t, other, p.pending(t, approval.ActionDeviceRemove), 0); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, wait.path); !has(a.body, "Das Gerät wurde entfernt", `href="/geraete"`) {
		t.Errorf("after the approval:\n%s", a.body)
	}
	if list, _ := p.devices.List(t.Context(), p.person.ID); len(list) != 1 || string(list[0].ID) != other.ID {
		t.Errorf("devices after the removal: %+v", list)
	}
	// Another person's or a made-up device: 404, nothing removed.
	for _, id := range []string{"dev_gibtesnicht", "%3Cx%3E"} {
		if a := p.get(t, "/geraete/"+id+"/entfernen"); a.status != http.StatusNotFound {
			t.Errorf("GET removal of %s: %d", id, a.status)
		}
		if a := p.post(t, "/geraete/"+id+"/entfernen", nil); a.status != http.StatusNotFound {
			t.Errorf("POST removal of %s: %d", id, a.status)
		}
	}
}

// TestActivationLetterFromThePortal: a person orders a letter with a new
// QR code on the device page; to an unverified address it waits for staff
// review, and the page says so and what happens next.
func TestActivationLetterFromThePortal(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	p.login(t)
	a := p.post(t, "/geraete/aktivierungsbrief", nil)
	if a.path != "/geraete" || !strings.Contains(a.body, "Ihr Brief ist bestellt") || strings.Contains(a.body, "Service-Team") {
		t.Fatalf("letter order ended at %s:\n%s", a.path, a.body)
	}
	p.node.Letters.Wait(t, 1)

	if _, err := p.st.UpdatePerson(t.Context(), p.person.ID, func(q *store.Person) error {
		q.AddressVerifiedAt, q.AddressVerifiedBy = time.Time{}, ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	review := p.post(t, "/geraete/aktivierungsbrief", nil)
	if !has(review.body, "noch nicht bestätigt", "prüft unser Service-Team") {
		t.Errorf("letter to an unverified address:\n%s", review.body)
	}
	letters, err := p.st.PersonLetters(t.Context(), p.person.ID)
	if err != nil || len(letters) != 2 || letters[0].Status != store.LetterReview {
		t.Errorf("letters: %+v (%v)", letters, err)
	}
	konto := p.get(t, "/konto")
	if !has(konto.body, "Ihre Briefe", "QR-Code für die Service-App", "Wird vor dem Versand geprüft", "Durch einen neueren Brief ersetzt") {
		t.Errorf("account page lacks the letters:\n%s", konto.body)
	}
	// Staff refuse the letter: the account page says so and what to do.
	if err := p.st.SetLetterStatus(t.Context(), letters[0].ID, store.LetterReview, store.LetterRejected, time.Now()); err != nil {
		t.Fatal(err)
	}
	if konto := p.get(t, "/konto"); !has(konto.body, "Nicht verschickt: Ihre Anschrift konnte nicht bestätigt werden", "rufen Sie uns an") {
		t.Errorf("account page after the rejection:\n%s", konto.body)
	}
	// The limit: the third letter in 30 days is refused, and the page says
	// why and what to do instead.
	p.post(t, "/geraete/aktivierungsbrief", nil)
	if a := p.post(t, "/geraete/aktivierungsbrief", nil); a.status != http.StatusTooManyRequests || !strings.Contains(a.body, "Online-Ausweis") {
		t.Errorf("letter over the limit: %d\n%s", a.status, a.body)
	}
}

// TestPersonalDataWithEIDInsteadOfPhone: without a usable phone the page
// that needs a higher level offers the eID, and after it the data show.
func TestPersonalDataWithEIDInsteadOfPhone(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	p.login(t)
	need := p.get(t, "/daten")
	if need.status != http.StatusForbidden || !has(need.body, `name="zurueck" value="/daten"`) {
		t.Fatalf("/daten at low:\n%s", need.body)
	}
	done := p.confirmWithEID(t, "/daten", sim.Choice{Identity: identityMatch})
	if done.path != "/daten" || done.status != http.StatusOK || !strings.Contains(done.body, "Hauptstraße") {
		t.Errorf("back from the eID at %s (%d):\n%s", done.path, done.status, done.body)
	}
	// A made-up way back goes to the account page.
	if a := p.confirmWithEID(t, "https://evil.example/", sim.Choice{Identity: identityMatch}); a.path != "/konto" {
		t.Errorf("foreign way back ended at %s", a.path)
	}
}

// TestPortalNamesTheAppsButtons: where the portal tells a person what to
// tap in the service app, the app has exactly that button.
func TestPortalNamesTheAppsButtons(t *testing.T) {
	var app strings.Builder
	files, err := filepath.Glob(filepath.Join("..", "serviceapp", "src", "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("service app sources: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		app.Write(b)
	}
	for _, label := range []string{"Mit dem Online-Ausweis entsperren", "Brief ist da: PIN entsperren"} {
		// The app speaks German: both languages of the page name its button as it reads.
		for _, l := range lang.All() {
			if page := l.T("web.devices.unlock_eid_text") + l.T("web.devices.unlock_letter_text"); !strings.Contains(page, label) {
				t.Errorf("the device page (%s) does not name %q", l, label)
			}
		}
		if !strings.Contains(app.String(), `"`+label+`"`) {
			t.Errorf("the service app has no button %q", label)
		}
	}
}

var resetCodeRE = regexp.MustCompile(`(?:Rücksetzcode|Reset code):\s+((?:[A-Z2-9]{4} ?){4})`)

// TestForgottenPasswordByLetter: "Passwort vergessen" by letter, the code
// from the PDF, a new password, and the account page says it holds now and
// the other sessions ended.
func TestForgottenPasswordByLetter(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	sent := p.post(t, "/passwort-vergessen", accessForm(kvnr, postalCode, birthDate, "letter"))
	if !has(sent.body, "Vielen Dank für Ihre Anfrage", `href="/passwort-zuruecksetzen"`) {
		t.Fatalf("reset request:\n%s", sent.body)
	}
	paths := p.node.Letters.Wait(t, 1)
	out, err := exec.CommandContext(t.Context(), needTool(t, "pdftotext"), "-layout", paths[len(paths)-1], "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := resetCodeRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no reset code in the letter:\n%s", out)
	}
	const next = "Leuchtturm an der Ostsee"
	done := p.post(t, "/passwort-zuruecksetzen", url.Values{"kvnr": {kvnr}, "code": {string(m[1])},
		"new_password": {next}, "new_password_repeat": {next}})
	if done.path != "/konto" || !strings.Contains(done.body, "Ihr neues Passwort gilt ab jetzt") {
		t.Fatalf("reset ended at %s:\n%s", done.path, done.body)
	}
	// The code is used up; the page says what to check and where to go.
	again := p.post(t, "/passwort-zuruecksetzen", url.Values{"kvnr": {kvnr}, "code": {string(m[1])},
		"new_password": {strong}, "new_password_repeat": {strong}})
	if again.status != http.StatusUnprocessableEntity || !strings.Contains(again.body, "nur einmal") {
		t.Errorf("second use of the code: %d\n%s", again.status, again.body)
	}
}
