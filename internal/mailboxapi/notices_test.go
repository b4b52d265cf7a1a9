package mailboxapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pforte/pforte/internal/session"
)

// TestChangesFileTheirNoticesInTheMailbox: a bound phone and a changed
// password each owe a notice; both are in the mailbox as soon as the change
// answered, and the letters stay queued beside them.
func TestChangesFileTheirNoticesInTheMailbox(t *testing.T) {
	f := start(t)
	f.n.BindPhone(t, f.alice, f.password, "482915")
	code, raw := f.call(t, "POST", "/api/v1/sessions", "", map[string]string{"kvnr": f.alice.KVNR, "password": f.password}, nil)
	if code != http.StatusCreated {
		t.Fatalf("login: %d %s", code, raw)
	}
	var login struct {
		SessionToken string `json:"session_token"`
	}
	if err := json.Unmarshal(raw, &login); err != nil {
		t.Fatal(err)
	}
	if code, raw := f.call(t, "POST", "/api/v1/password", login.SessionToken,
		map[string]string{"current_password": f.password, "new_password": "Sonnenblume-Fahrrad-Kaffeetasse-42"}, nil); code != http.StatusNoContent {
		t.Fatalf("password change: %d %s", code, raw)
	}
	var list listAnswer
	f.call(t, "GET", "/api/v1/mailbox", f.token(t, f.alice, session.LevelSubstantial), nil, &list)
	got := map[string]bool{}
	for _, th := range list.Threads {
		got[th.Subject] = true
	}
	for _, want := range []string{"Ihr Passwort wurde geändert", "Neues Gerät mit Ihrem Zugang verbunden"} {
		if !got[want] {
			t.Errorf("mailbox lacks %q: %+v", want, list.Threads)
		}
	}
	if list.Unread != 2 {
		t.Errorf("unread = %d, want 2", list.Unread)
	}
	notices, err := f.n.Store.PersonNotices(t.Context(), f.alice.ID, 10)
	if err != nil || len(notices) != 2 {
		t.Errorf("notices (the letters' queue): %d, %v; want 2", len(notices), err)
	}
}
