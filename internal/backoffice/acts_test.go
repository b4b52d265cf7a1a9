package backoffice_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// lockPIN locks the PIN of the person's first phone, as wrong PINs do.
func lockPIN(t *testing.T, n *nodetest.Node, p store.Person) store.Device {
	t.Helper()
	devs, err := n.Store.PersonDevices(t.Context(), p.ID)
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices: %d, %v", len(devs), err)
	}
	d, err := n.Store.UpdateDevice(t.Context(), devs[0].ID, func(x *store.Device) error {
		x.PINFailures, x.PINLockedAt = 3, time.Now().UTC()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFourEyesPINReset: a PIN lock is reset only after a second staff
// member confirmed it; the one who asked cannot, and a clerk may not decide
// at all. The identity check is recorded.
func TestFourEyesPINReset(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	n.BindPhone(t, p, in.Password, "135790")
	d := lockPIN(t, n, p)
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	sup1 := loginStaff(t, n, "bernd", staff.RoleSupervisor)
	sup2 := loginStaff(t, n, "clara", staff.RoleSupervisor)
	path := fmt.Sprintf("/backoffice/personen/%d/geraete/%s/pin-entsperren", p.ID, d.ID)
	if code, body := clerk.do(t, n, "POST", path, url.Values{"grund": {"PIN vergessen"}}); code != http.StatusBadRequest || !strings.Contains(body, "Identität") {
		t.Errorf("without the identity check: %d", code)
	}
	if code, _ := clerk.do(t, n, "POST", path, url.Values{"grund": {"PIN vergessen"}, "pruefung": {"rueckruf"}}); code != http.StatusSeeOther {
		t.Fatalf("ask: %d", code)
	}
	reqs, err := n.Staff.Pending(t.Context(), p.ID)
	if err != nil || len(reqs) != 1 || reqs[0].Method != "rueckruf" {
		t.Fatalf("pending: %+v, %v", reqs, err)
	}
	if x, _ := n.Store.DeviceByID(t.Context(), d.ID); x.PINLockedAt.IsZero() {
		t.Fatal("the PIN was reset before anyone confirmed")
	}
	confirm := "/backoffice/vier-augen/" + reqs[0].ID + "/bestaetigen"
	if code, _ := clerk.do(t, n, "POST", confirm, url.Values{}); code != http.StatusForbidden {
		t.Errorf("a clerk confirming: %d, want 403", code)
	}
	// A supervisor's own request needs another supervisor.
	lockPIN(t, n, p)
	if _, err := n.Store.DecideStaffRequest(t.Context(), reqs[0].ID, store.StaffRequestDeclined, sup2.ID, time.Now(),
		func(store.StaffRequest) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if code, _ := sup1.do(t, n, "POST", path, url.Values{"grund": {"Anruf, PIN vergessen"}, "pruefung": {"ausweis"}}); code != http.StatusSeeOther {
		t.Fatalf("supervisor asks: %d", code)
	}
	reqs, _ = n.Staff.Pending(t.Context(), p.ID)
	if len(reqs) != 1 {
		t.Fatalf("pending: %d", len(reqs))
	}
	confirm = "/backoffice/vier-augen/" + reqs[0].ID + "/bestaetigen"
	if code, body := sup1.do(t, n, "POST", confirm, url.Values{}); code != http.StatusConflict || !strings.Contains(body, "andere Person") {
		t.Errorf("confirming one's own request: %d, want 409", code)
	}
	if x, _ := n.Store.DeviceByID(t.Context(), d.ID); x.PINLockedAt.IsZero() {
		t.Fatal("the PIN was reset by the one who asked")
	}
	if code, _ := sup2.do(t, n, "POST", confirm, url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("confirm by another: %d", code)
	}
	if x, _ := n.Store.DeviceByID(t.Context(), d.ID); !x.PINLockedAt.IsZero() || x.PINFailures != 0 {
		t.Errorf("after the confirmation: %+v", x)
	}
	if code, _ := sup2.do(t, n, "POST", confirm, url.Values{}); code != http.StatusConflict {
		t.Errorf("confirming twice: %d, want 409", code)
	}
	es := auditOf(t, n, store.AuditFilter{Event: "staff.pin_lock_reset"})
	if len(es) != 1 || es[0].Actor != sup1.ID.Ref() || !strings.Contains(string(es[0].Details), `"identity_check":"ausweis"`) {
		t.Errorf("audit: %+v", es)
	}
	if es := auditOf(t, n, store.AuditFilter{Event: "staff.fouryes_confirmed"}); len(es) != 1 || es[0].Actor != sup2.ID.Ref() {
		t.Errorf("confirmation audit: %+v", es)
	}
	// The phone's PIN works again.
	if code, _ := sup2.do(t, n, "POST", path, url.Values{"grund": {"nochmal"}, "pruefung": {"ausweis"}}); code != http.StatusConflict {
		t.Errorf("a PIN that is not locked: %d, want 409", code)
	}
}

// TestRevokeDeviceAndUnlock: staff remove a phone at once and end a
// temporary password lock.
func TestRevokeDeviceAndUnlock(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	n.BindPhone(t, p, in.Password, "135790")
	devs, _ := n.Store.PersonDevices(t.Context(), p.ID)
	m := loginStaff(t, n, "anna", staff.RoleClerk)
	path := fmt.Sprintf("/backoffice/personen/%d/geraete/%s/entfernen", p.ID, devs[0].ID)
	if code, _ := m.do(t, n, "POST", path, url.Values{"grund": {"Telefon gestohlen"}}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if left, _ := n.Store.PersonDevices(t.Context(), p.ID); len(left) != 0 {
		t.Errorf("%d devices left", len(left))
	}
	if code, _ := m.do(t, n, "POST", path, url.Values{"grund": {"nochmal"}}); code != http.StatusNotFound {
		t.Errorf("revoking again: %d, want 404", code)
	}
	if es := auditOf(t, n, store.AuditFilter{Event: "device.removed", Actor: m.ID.Ref()}); len(es) != 1 {
		t.Errorf("device.removed by staff: %d entries", len(es))
	}
	// The removal's notice lands in the person's mailbox, which the person
	// view counts without showing its content.
	if _, body := m.do(t, n, "GET", fmt.Sprintf("/backoffice/personen/%d", p.ID), nil); !strings.Contains(body, "Hinweis: Gerät entfernt") {
		t.Error("the person view does not show the mailbox's notice thread")
	}
	unlock := fmt.Sprintf("/backoffice/personen/%d/entsperren", p.ID)
	if code, _ := m.do(t, n, "POST", unlock, url.Values{"grund": {"Anruf"}}); code != http.StatusConflict {
		t.Errorf("unlocking an unlocked login: %d, want 409", code)
	}
	for range 5 {
		_, err := n.Accounts.Login(t.Context(), account.Login{KVNR: p.KVNR, Password: "falsch-falsch-falsch", ClientIP: "192.0.2.9"}, session.KindBrowser)
		if !errors.Is(err, account.ErrLoginFailed) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, body := m.do(t, n, "GET", fmt.Sprintf("/backoffice/personen/%d", p.ID), nil); !strings.Contains(body, "vorübergehend gesperrt") {
		t.Error("the person view does not show the lock")
	}
	if code, _ := m.do(t, n, "POST", unlock, url.Values{"grund": {"Anruf, Person identifiziert"}}); code != http.StatusSeeOther {
		t.Fatalf("unlock: %d", code)
	}
	if _, err := n.Accounts.Login(t.Context(), account.Login{KVNR: p.KVNR, Password: in.Password, ClientIP: "192.0.2.9"}, session.KindBrowser); err != nil {
		t.Errorf("login after the unlock: %v", err)
	}
}

// TestLetterReview: a letter to an unverified address is released at once;
// one to an address changed in the last 30 days only after a second staff
// member confirmed.
func TestLetterReview(t *testing.T) {
	n := start(t)
	ctx := t.Context()
	a := n.Person(t, store.Person{KVNR: "X110411675", FamilyName: "Weiß", GivenNames: "Jürgen", BirthDate: "1970-01-02",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	b := n.Person(t, store.Person{KVNR: "T555558879", FamilyName: "Groß", GivenNames: "Anna", BirthDate: "1971-02-03",
		Street: "Lindenallee", HouseNumber: "3", PostalCode: "04109", City: "Leipzig"})
	for _, p := range []store.Person{a, b} {
		if err := n.Access.RequestLetter(ctx, access.Request{KVNR: p.KVNR, PostalCode: p.PostalCode, BirthDate: p.BirthDate}); err != nil {
			t.Fatal(err)
		}
	}
	mk := notice.NewMaker(n.Cfg.Keys, time.Now, nil)
	nb, err := mk.Make(b.ID, notice.AddressChanged, notice.Details{To: []string{"Alte Straße 1", "04109 Leipzig"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store.QueueNotice(ctx, nb); err != nil {
		t.Fatal(err)
	}
	letterOf := func(p store.Person) store.Letter {
		ls, err := n.Store.PersonLetters(ctx, p.ID)
		if err != nil || len(ls) == 0 {
			t.Fatalf("letters: %v", err)
		}
		return ls[0]
	}
	la, lb := letterOf(a), letterOf(b)
	if la.Status != store.LetterReview || lb.Status != store.LetterReview {
		t.Fatalf("letters not in review: %s %s", la.Status, lb.Status)
	}
	anna := loginStaff(t, n, "anna", staff.RoleClerk)
	sup := loginStaff(t, n, "bernd", staff.RoleSupervisor)
	if code, body := anna.do(t, n, "GET", "/backoffice/briefe", nil); code != 200 || !strings.Contains(body, la.ID) ||
		!strings.Contains(body, "in den letzten 30 Tagen geändert") {
		t.Errorf("review queue: %d", code)
	}
	if code, _ := anna.do(t, n, "POST", "/backoffice/briefe/"+la.ID+"/freigeben", url.Values{"grund": {""}}); code != http.StatusBadRequest {
		t.Errorf("release without reason: %d", code)
	}
	if code, _ := anna.do(t, n, "POST", "/backoffice/briefe/"+la.ID+"/freigeben", url.Values{"grund": {"Anschrift telefonisch bestätigt"}}); code != http.StatusSeeOther {
		t.Fatalf("release: %d", code)
	}
	if got := letterOf(a); got.Status != store.LetterQueued {
		t.Errorf("released letter: %s", got.Status)
	}
	if code, _ := anna.do(t, n, "POST", "/backoffice/briefe/"+lb.ID+"/freigeben", url.Values{"grund": {"Umzug bestätigt"}}); code != http.StatusSeeOther {
		t.Fatalf("release to a changed address: %d", code)
	}
	if got := letterOf(b); got.Status != store.LetterReview {
		t.Fatalf("released without a second pair of eyes: %s", got.Status)
	}
	reqs, _ := n.Staff.Pending(ctx, b.ID)
	if len(reqs) != 1 || reqs[0].Target != lb.ID {
		t.Fatalf("requests: %+v", reqs)
	}
	if code, _ := sup.do(t, n, "POST", "/backoffice/vier-augen/"+reqs[0].ID+"/bestaetigen", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", code)
	}
	if got := letterOf(b); got.Status != store.LetterQueued {
		t.Errorf("after the confirmation: %s", got.Status)
	}
	if code, _ := anna.do(t, n, "POST", "/backoffice/briefe/"+lb.ID+"/ablehnen", url.Values{"grund": {"zu spät"}}); code != http.StatusConflict {
		t.Errorf("rejecting a released letter: %d, want 409", code)
	}
	if code, _ := anna.do(t, n, "POST", fmt.Sprintf("/backoffice/personen/%d/aktivierungsbrief", a.ID), url.Values{"grund": {"neues Telefon"}}); code != http.StatusSeeOther {
		t.Errorf("order a letter: %d", code)
	}
}

// TestNotMeReport: a person's "that was not me" shows on the person view
// until staff answer it with what they did; each report is answered once.
func TestNotMeReport(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	if err := n.Audit.Record(t.Context(), audit.Event{Actor: p.ID.Ref(), Event: "approval.not_me", Subject: p.ID.Ref(),
		Details: map[string]any{"approval": "a-1", "action": "portal.login"}}); err != nil {
		t.Fatal(err)
	}
	es := auditOf(t, n, store.AuditFilter{Event: "approval.not_me"})
	if len(es) != 1 {
		t.Fatalf("reports: %d", len(es))
	}
	m := loginStaff(t, n, "anna", staff.RoleClerk)
	view := fmt.Sprintf("/backoffice/personen/%d", p.ID)
	if _, body := m.do(t, n, "GET", view, nil); !strings.Contains(body, "<strong>offen</strong>") {
		t.Error("the open report is not shown")
	}
	answer := fmt.Sprintf("%s/nicht-ich/%d", view, es[0].Seq)
	if code, _ := m.do(t, n, "POST", answer, url.Values{"grund": {""}}); code != http.StatusBadRequest {
		t.Errorf("without what was done: %d", code)
	}
	if code, _ := m.do(t, n, "POST", fmt.Sprintf("%s/nicht-ich/%d", view, es[0].Seq-1), url.Values{"grund": {"x"}}); code != http.StatusNotFound {
		t.Errorf("another entry as report: %d", code)
	}
	if code, _ := m.do(t, n, "POST", answer, url.Values{"grund": {"Zurückgerufen, Passwort geändert, Sitzungen beendet"}}); code != http.StatusSeeOther {
		t.Fatalf("answer: %d", code)
	}
	if code, _ := m.do(t, n, "POST", answer, url.Values{"grund": {"nochmal"}}); code != http.StatusConflict {
		t.Errorf("answering twice: %d", code)
	}
	if _, body := m.do(t, n, "GET", view, nil); strings.Contains(body, "<strong>offen</strong>") || !strings.Contains(body, "beantwortet") {
		t.Error("the report is not shown answered")
	}
}
