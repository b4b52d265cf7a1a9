package mailboxapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestNewMessageIsAnnouncedOnTheAppStream: the service app's event stream
// says how many messages are unread, at once and when a message arrives,
// and never what a message says.
func TestNewMessageIsAnnouncedOnTheAppStream(t *testing.T) {
	f := start(t)
	phone := f.n.BindPhone(t, f.alice, f.password, "482915")
	app, err := f.n.App().Login(t.Context(), phone.Device, phone.PIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", f.n.URL+"/api/v1/app/approvals/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+app.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	var seen strings.Builder
	next := func(want string) {
		t.Helper()
		for lines.Scan() {
			seen.WriteString(lines.Text() + "\n")
			if lines.Text() == want {
				return
			}
		}
		t.Fatalf("the stream ended without %q:\n%s", want, seen.String())
	}
	// The phone's binding owes a notice, which is in the mailbox already.
	next(`data: {"unread":1}`)
	f.send(t, f.alice, "Geheimer Betreff", "Geheimer Inhalt")
	next(`data: {"unread":2}`)
	if strings.Contains(seen.String(), "Geheim") {
		t.Errorf("the stream shows content:\n%s", seen.String())
	}
	if !strings.Contains(seen.String(), "event: mailbox\n") {
		t.Errorf("no mailbox event:\n%s", seen.String())
	}
}
