package familyapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestMailboxOnBehalf: the mother reads her son's mailbox and writes from
// it; the messages are the son's, not hers, and each act is audited with
// both persons.
func TestMailboxOnBehalf(t *testing.T) {
	f := start(t, testdb.Open(t))
	ctx := t.Context()
	var sent struct{ ID string }
	if code, raw := f.call(t, "POST", "/api/v1/staff/mailbox/threads", staffToken, map[string]any{"kvnr": f.young.KVNR, "author": "4711",
		"subject": "Impfpass", "text": "Bitte senden Sie uns eine Kopie."}, &sent); code != http.StatusCreated {
		t.Fatalf("staff send = %d %s", code, raw)
	}
	tok := f.token(t, f.mother, session.LevelSubstantial)
	handle := f.handles(t, tok)["Max"].Handle

	var list struct {
		Unread  int `json:"unread"`
		Threads []struct {
			ID      string `json:"id"`
			Subject string `json:"subject"`
		} `json:"threads"`
	}
	if code, raw := f.call(t, "GET", "/api/v1/family/members/"+handle+"/mailbox", tok, nil, &list); code != http.StatusOK ||
		len(list.Threads) != 1 || list.Threads[0].Subject != "Impfpass" || list.Unread != 1 {
		t.Fatalf("son's mailbox = %d %s", code, raw)
	}
	var thread struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	if code, raw := f.call(t, "GET", "/api/v1/family/members/"+handle+"/mailbox/"+sent.ID, tok, nil, &thread); code != http.StatusOK ||
		len(thread.Messages) != 1 || thread.Messages[0].Text != "Bitte senden Sie uns eine Kopie." {
		t.Fatalf("son's thread = %d %s", code, raw)
	}
	var written struct{ ID string }
	if code, raw := f.call(t, "POST", "/api/v1/family/members/"+handle+"/mailbox", tok,
		map[string]string{"subject": "Kopie Impfpass", "text": "Die Kopie folgt per Post."}, &written); code != http.StatusCreated {
		t.Fatalf("write = %d %s", code, raw)
	}
	if _, _, err := f.n.Store.MailThread(ctx, f.young.ID, written.ID); err != nil {
		t.Errorf("the written thread is not the son's: %v", err)
	}
	if _, _, err := f.n.Store.MailThread(ctx, f.mother.ID, written.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the written thread as the mother's = %v, want ErrNotFound", err)
	}
	// Another person's thread through the son's handle is not found.
	var other struct{ ID string }
	if code, raw := f.call(t, "POST", "/api/v1/staff/mailbox/threads", staffToken, map[string]any{"kvnr": f.other.KVNR, "author": "4711",
		"subject": "Privat", "text": "Nur für Sie."}, &other); code != http.StatusCreated {
		t.Fatalf("staff send = %d %s", code, raw)
	}
	code, raw := f.call(t, "GET", "/api/v1/family/members/"+handle+"/mailbox/"+other.ID, tok, nil, nil)
	refused(t, "another person's thread through the son's handle", code, raw, http.StatusNotFound, "not_found")

	entries, err := f.n.Store.SearchAudit(ctx, store.AuditFilter{Actor: f.mother.ID.Ref(), Subject: f.young.ID.Ref(), Event: "family.acted"}, 20)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		var d struct{ Action string }
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatal(err)
		}
		actions[d.Action]++
	}
	if actions["mailbox.read"] < 2 || actions["mailbox.write"] != 1 {
		t.Errorf("audited acts = %v, want mailbox.read twice or more and mailbox.write once", actions)
	}
}
