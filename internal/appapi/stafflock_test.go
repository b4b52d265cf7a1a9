package appapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// TestStaffActsOnTheApp: a session staff ended answers 401 with a message
// that says the service team ended it; after a staff lock the app's login
// with the right password answers access_locked, with a wrong one the one
// login_failed; another token learns nothing.
func TestStaffActsOnTheApp(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	n.GivePassword(t, p, strong)
	r := login(t, n.URL, strong)
	if r.status != http.StatusCreated {
		t.Fatalf("login = %d %s", r.status, r.raw)
	}
	tok := r.body["session_token"].(string)
	if _, err := n.Sessions.EndOthers(t.Context(), p.ID, "", session.EndedByStaff); err != nil {
		t.Fatal(err)
	}
	me := call(t, "GET", n.URL+"/api/v1/me", tok, "")
	if me.status != http.StatusUnauthorized || me.body["error"] != "unauthenticated" || !strings.Contains(me.raw, "vom Service-Team beendet") {
		t.Errorf("me after staff ended the session = %d %s", me.status, me.raw)
	}
	other := call(t, "GET", n.URL+"/api/v1/me", strings.Repeat("x", 43), "")
	if other.status != http.StatusUnauthorized || strings.Contains(other.raw, "Service-Team") {
		t.Errorf("an unknown token = %d %s", other.status, other.raw)
	}
	r = login(t, n.URL, strong)
	tok = r.body["session_token"].(string)
	if _, err := account.NewDesk(n.Accounts).LockAccess(t.Context(), p.ID, "staff:1", ""); err != nil {
		t.Fatal(err)
	}
	if me := call(t, "GET", n.URL+"/api/v1/me", tok, ""); me.status != http.StatusUnauthorized || !strings.Contains(me.raw, "Zugang zu Ihrem Schutz gesperrt") {
		t.Errorf("me after the staff lock = %d %s", me.status, me.raw)
	}
	if r := login(t, n.URL, strong); r.status != http.StatusForbidden || r.body["error"] != "access_locked" {
		t.Errorf("login with the right password during the lock = %d %s", r.status, r.raw)
	}
	wrong := login(t, n.URL, "falsches Passwort 123")
	b, _ := json.Marshal(map[string]string{"kvnr": "T555558879", "password": "falsches Passwort 123"})
	unknown := call(t, "POST", n.URL+"/api/v1/sessions", "", string(b))
	if wrong.status != http.StatusUnauthorized || wrong.raw != unknown.raw {
		t.Errorf("wrong password during the lock = %d %s; unknown KVNR %s", wrong.status, wrong.raw, unknown.raw)
	}
}
