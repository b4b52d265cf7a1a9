package node_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// TestNoticesOutliveAHostileAccount: with letters.daily_cap used up by access
// letters, a hostile account alternating two passwords gets no further than
// the daily limit of password changes, and every notice its changes owe is
// still delivered as a letter (merged into one per kind and day). Run with -v
// for the figures.
func TestNoticesOutliveAHostileAccount(t *testing.T) {
	const dailyCap = 2
	n := startGuardedNode(t, nodetest.Options{Clients: nodetest.StandardClients("http://127.0.0.1:1/callback"),
		Config: func(c *node.Config) { c.Letters.DailyCap = dailyCap }})
	ctx := t.Context()

	// The day's letters with codes are used up by access requests.
	for _, p := range n.others[:dailyCap] {
		code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/access-requests", "", map[string]string{"kvnr": p.KVNR,
			"postal_code": p.PostalCode, "birth_date": p.BirthDate, "method": "letter"})
		if code != http.StatusAccepted {
			t.Fatalf("access request: %d %s", code, raw)
		}
	}
	codeLetters := 0
	for _, p := range n.others[:dailyCap] {
		list, err := n.Store.PersonLetters(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		codeLetters += len(list)
	}
	if codeLetters != dailyCap {
		t.Fatalf("%d access letters queued, want the daily cap %d", codeLetters, dailyCap)
	}

	// The hostile account: a bound phone, then two passwords in turn.
	n.bindPhone(t)
	code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": n.person.KVNR, "password": n.password})
	if code != http.StatusCreated {
		t.Fatalf("login: %d %s", code, raw)
	}
	var login struct {
		SessionToken string `json:"session_token"`
	}
	if err := json.Unmarshal(raw, &login); err != nil {
		t.Fatal(err)
	}
	passwords := [2]string{n.password, "Zweites Passwort für den Wechsel"}
	const attempts = 20
	accepted, refused := 0, 0
	for i := range attempts {
		code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/password", login.SessionToken,
			map[string]string{"current_password": passwords[i%2], "new_password": passwords[(i+1)%2]})
		switch code {
		case http.StatusNoContent:
			accepted++
		case http.StatusTooManyRequests:
			refused++
			// Still the same password: try the same change again next time.
			passwords[0], passwords[1] = passwords[1], passwords[0]
		default:
			t.Fatalf("password change %d: %d %s", i+1, code, raw)
		}
	}
	if accepted != 5 || refused != attempts-5 {
		t.Errorf("password changes: %d accepted, %d refused; want 5 and %d", accepted, refused, attempts-5)
	}

	// Every notice owed goes out, the daily cap notwithstanding. The node's
	// delivery loop may hold one it is sending right now, which Deliver then
	// skips: wait (20 s at most) until none is left queued.
	var owed []store.Notice
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := n.Notices.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		var err error
		if owed, err = n.Store.PersonNotices(ctx, n.person.ID, 100); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(owed, func(x store.Notice) bool { return x.Status != store.NoticeSent }) || time.Now().After(deadline) {
			break
		}
	}
	sent, changes := 0, map[string]int{}
	for _, x := range owed {
		if x.Status == store.NoticeSent {
			sent++
		}
		changes[x.Kind] += x.Count
	}
	letters, err := n.Store.PersonLetters(ctx, n.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, l := range letters {
		kinds[l.Kind]++
	}
	if sent != len(owed) || len(owed) != 2 || kinds["device_bound"] != 1 || kinds["password_changed"] != 1 ||
		changes["password_changed"] != accepted {
		t.Errorf("notices: %d owed, %d sent, letters %v, changes %v; want device_bound and one password_changed for %d changes",
			len(owed), sent, kinds, changes, accepted)
	}
	t.Logf("letters.daily_cap %d used up by access letters; %d password changes tried, %d accepted, %d refused (429); "+
		"notices owed %d, delivered %d as letters (%v), reporting %v changes", dailyCap, attempts, accepted, refused,
		len(owed), sent, kinds, changes)
}
