package backoffice_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// portalLogin posts the portal's login form with a fresh client and returns
// the status and body of the answer (redirects not followed).
func portalLogin(t *testing.T, n *nodetest.Node, kvnr, pw string) (int, string) {
	t.Helper()
	return send(t, bare(t, n), n, "POST", "/anmelden", url.Values{"kvnr": {kvnr}, "password": {pw}}, nil)
}

// TestStaffLockOfAccess: a clerk locks a person's access with a reason; the
// person's sessions end and their stale cookie meets the reason; the right
// password shows the lock and the service telephone, a wrong one the one
// login failure; a clerk releases the lock and the person logs in again.
// Both acts are recorded with the staff member, the person and the reason.
func TestStaffLockOfAccess(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	tok := portalSession(t, n, p)
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	lock := fmt.Sprintf("/backoffice/personen/%d/zugang-sperren", p.ID)
	release := fmt.Sprintf("/backoffice/personen/%d/zugang-freischalten", p.ID)
	if code, body := clerk.do(t, n, "POST", lock, url.Values{"grund": {"  "}}); code != http.StatusBadRequest || !strings.Contains(body, "Begründung") {
		t.Errorf("lock without a reason: %d", code)
	}
	if _, err := n.Store.PersonLockByID(t.Context(), p.ID); err == nil {
		t.Fatal("a refused act locked the access")
	}
	if code, body := clerk.do(t, n, "POST", release, url.Values{"grund": {"Rückruf"}}); code != http.StatusConflict || !strings.Contains(body, "nicht gesperrt") {
		t.Errorf("release without a lock: %d", code)
	}
	if code, _ := clerk.do(t, n, "POST", lock, url.Values{"grund": {"Das war ich nicht: Anruf der Person"}}); code != http.StatusSeeOther {
		t.Fatalf("lock: %d", code)
	}
	if code, body := clerk.do(t, n, "POST", lock, url.Values{"grund": {"nochmal"}}); code != http.StatusConflict || !strings.Contains(body, "bereits gesperrt") {
		t.Errorf("second lock: %d", code)
	}
	if live, _ := n.Sessions.List(t.Context(), p.ID); len(live) != 0 {
		t.Errorf("%d sessions survived the lock", len(live))
	}
	_, body := clerk.do(t, n, "GET", fmt.Sprintf("/backoffice/personen/%d", p.ID), nil)
	if !strings.Contains(body, "Der Zugang ist gesperrt seit") || !strings.Contains(body, "Zugangssperre aufheben") {
		t.Error("the person view does not show the lock and its release")
	}
	// The stale cookie of an ended session meets the reason.
	hdr := http.Header{"Cookie": {portalCookie + "=" + string(tok)}}
	code, _ := send(t, bare(t, n), n, "GET", "/konto", nil, hdr)
	if code != http.StatusSeeOther {
		t.Fatalf("stale cookie: %d", code)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", n.URL+"/konto", nil)
	req.Header = hdr
	resp, err := bare(t, n).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/anmelden?grund=gesperrt" {
		t.Errorf("stale cookie leads to %q, want /anmelden?grund=gesperrt", loc)
	}
	if _, body := send(t, bare(t, n), n, "GET", "/anmelden?grund=gesperrt", nil, nil); !strings.Contains(body, "vom Service-Team beendet und Ihr Zugang") {
		t.Error("the login page does not say that staff ended the sessions and locked the access")
	}
	// The right password: the lock and the way back. A wrong one: the one
	// failure, as for an unknown KVNR.
	code, right := portalLogin(t, n, p.KVNR, in.Password)
	if code != http.StatusForbidden || !strings.Contains(right, "Zugang gesperrt") ||
		!strings.Contains(right, "Unser Service-Team erreichen Sie unter "+nodetest.Insurer.Phone) {
		t.Errorf("right password during the lock: %d\n%s", code, right)
	}
	_, wrong := portalLogin(t, n, p.KVNR, "falsches Passwort 123")
	_, unknown := portalLogin(t, n, "T555558879", "falsches Passwort 123")
	for name, b := range map[string]string{"wrong password": wrong, "unknown KVNR": unknown} {
		if strings.Contains(b, "Zugang gesperrt") || !strings.Contains(b, "Anmeldung ist fehlgeschlagen") {
			t.Errorf("%s during the lock reveals the lock or lacks the one failure", name)
		}
	}
	if code, _ := clerk.do(t, n, "POST", release, url.Values{"grund": {"Identität per Rückruf geprüft"}}); code != http.StatusSeeOther {
		t.Fatalf("release: %d", code)
	}
	if code, _ := portalLogin(t, n, p.KVNR, in.Password); code != http.StatusSeeOther {
		t.Errorf("login after the release: %d", code)
	}
	for event, reason := range map[string]string{"staff.account_locked": "Das war ich nicht", "staff.account_lock_released": "Rückruf geprüft"} {
		es := auditOf(t, n, store.AuditFilter{Event: event})
		if len(es) != 1 || es[0].Actor != clerk.ID.Ref() || es[0].Subject != p.ID.Ref() || !strings.Contains(string(es[0].Details), reason) {
			t.Errorf("audit %s: %+v", event, es)
		}
	}
}

// TestEndedSessionsSayStaffEndedThem: after staff ended all sessions, the
// person's stale cookie leads to a login page that says so; another
// browser's login page does not.
func TestEndedSessionsSayStaffEndedThem(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	tok := portalSession(t, n, p)
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	if code, _ := clerk.do(t, n, "POST", fmt.Sprintf("/backoffice/personen/%d/sitzungen-beenden", p.ID),
		url.Values{"grund": {"Anruf: Passwort weitergegeben"}}); code != http.StatusSeeOther {
		t.Fatalf("end sessions: %d", code)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", n.URL+"/konto", nil)
	req.Header.Set("Cookie", portalCookie+"="+string(tok))
	resp, err := bare(t, n).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc != "/anmelden?grund=service" {
		t.Fatalf("stale cookie leads to %q, want /anmelden?grund=service", loc)
	}
	if _, body := send(t, bare(t, n), n, "GET", loc, nil, nil); !strings.Contains(body, "Ihre Sitzungen wurden vom Service-Team beendet") ||
		!strings.Contains(body, "melden Sie sich neu an") {
		t.Error("the login page does not say that staff ended the sessions")
	}
	// Another browser, without the cookie, learns nothing.
	if _, body := send(t, bare(t, n), n, "GET", "/konto", nil, nil); strings.Contains(body, "Service-Team beendet") {
		t.Error("a browser without the cookie sees the message")
	}
}
