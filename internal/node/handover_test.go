package node_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

const (
	handoverStaffToken = "staff-token-staff-token-staff-token-0123"
	typedKVNR          = "A123456780"
	typedIBAN          = "DE89370400440532013000"
)

// sessionOf gives p a session of the service app at level and returns its
// bearer token.
func sessionOf(t *testing.T, n *nodetest.Node, p store.Person, level session.Level) string {
	t.Helper()
	tok, _, err := n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: session.KindApp, Level: level,
		Origin: session.OriginDevice})
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// ask asks the node's assistant with the bearer token.
func ask(t *testing.T, base, token, question string) assistantapi.Response {
	t.Helper()
	status, raw := nodetest.CallAPI(t, "POST", base+"/api/v1/assistant", token, map[string]string{"question": question})
	var r assistantapi.Response
	if err := json.Unmarshal(raw, &r); status != http.StatusOK || err != nil {
		t.Fatalf("ask: %d %s", status, raw)
	}
	return r
}

// handOver posts the hand-over of conversation with the bearer token.
func handOver(t *testing.T, base, token, conversation string) (int, string) {
	t.Helper()
	status, raw := nodetest.CallAPI(t, "POST", base+"/api/v1/assistant/handover", token, map[string]string{"conversation": conversation})
	return status, string(raw)
}

// staffInbox returns the threads of the staff inbox with their messages'
// texts.
func staffInbox(t *testing.T, base string) map[string]string {
	t.Helper()
	status, raw := nodetest.CallAPI(t, "GET", base+"/api/v1/staff/mailbox/inbox", handoverStaffToken, nil)
	var inbox struct {
		Threads []struct{ ID, Subject string }
	}
	if err := json.Unmarshal(raw, &inbox); status != http.StatusOK || err != nil {
		t.Fatalf("staff inbox: %d %s", status, raw)
	}
	out := map[string]string{}
	for _, th := range inbox.Threads {
		status, raw := nodetest.CallAPI(t, "GET", base+"/api/v1/staff/mailbox/threads/"+th.ID, handoverStaffToken, nil)
		var thread struct {
			Messages []struct{ From, Text string }
		}
		if err := json.Unmarshal(raw, &thread); status != http.StatusOK || err != nil {
			t.Fatalf("staff thread: %d %s", status, raw)
		}
		var b strings.Builder
		b.WriteString(th.Subject + "\n")
		for _, m := range thread.Messages {
			b.WriteString(m.From + ": " + m.Text + "\n")
		}
		out[th.ID] = b.String()
	}
	return out
}

func handoverNode(t *testing.T, st store.Store, now func() time.Time) *nodetest.Node {
	return nodetest.Start(t, nodetest.Options{Store: st, Config: func(c *node.Config) {
		c.StaffToken = handoverStaffToken
		if now != nil {
			c.Now = now
		}
	}})
}

// TestAssistantHandoverOnTheNode: a person at level substantial asks about
// their own case, is offered the hand-over by mailbox and takes it: a
// thread from the person reaches the staff inbox with the masked
// conversation, without the KVNR and IBAN the person typed. Below
// substantial the hand-over is refused in German naming the way, and
// another person's conversation is not handed over; neither sends
// anything. The conversation lives in the database: a second node hands it
// over.
func TestAssistantHandoverOnTheNode(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			n := handoverNode(t, b.Open(t), nil)
			p := n.Person(t, store.Person{KVNR: "B234567891", GivenNames: "Erika", FamilyName: "Muster", BirthDate: "1980-01-01"})
			other := n.Person(t, store.Person{KVNR: "C345678902", GivenNames: "Max", FamilyName: "Muster", BirthDate: "1981-02-02"})
			substantial := sessionOf(t, n, p, session.LevelSubstantial)

			r := ask(t, n.URL, substantial, "Wie ist der Stand meines Antrags auf Erstattung? Meine KVNR ist "+typedKVNR+
				", meine IBAN "+typedIBAN+".")
			if h := r.Handover; h == nil || h.Reason != "own_case" || h.Channel != "mailbox" || r.Conversation == "" {
				t.Fatalf("own case at substantial = %+v %+v", r, r.Handover)
			}

			// The question is kept masked and sealed.
			turns, err := n.Store.AssistantTurns(t.Context(), r.Conversation, time.Time{}, 100)
			if err != nil || len(turns) != 1 {
				t.Fatalf("kept turns: %v, %v", turns, err)
			}
			if kept := turns[0]; kept.Question.KeyID == "" || strings.Contains(string(kept.Question.Ciphertext), "Antrag") ||
				kept.Asker != strconv.FormatInt(int64(p.ID), 10) || !slices.Contains(kept.Masked, "kvnr") || !slices.Contains(kept.Masked, "iban") {
				t.Errorf("kept turn = %+v", kept)
			}

			// Below substantial: refused, naming the phone confirmation.
			low := sessionOf(t, n, p, session.LevelLow)
			status, body := handOver(t, n.URL, low, r.Conversation)
			if status != http.StatusForbidden || !strings.Contains(body, "bestätigen die Anmeldung mit Ihrem Smartphone") {
				t.Errorf("hand-over at low: %d %s", status, body)
			}
			// Without a session: refused the same way.
			if status, body := handOver(t, n.URL, "", r.Conversation); status != http.StatusForbidden {
				t.Errorf("hand-over without a session: %d %s", status, body)
			}
			// Another person's conversation: not theirs to hand over.
			status, body = handOver(t, n.URL, sessionOf(t, n, other, session.LevelHigh), r.Conversation)
			if status != http.StatusNotFound || !strings.Contains(body, "Gespräch") {
				t.Errorf("hand-over of another person's conversation: %d %s", status, body)
			}
			// The API takes no cookie: another site cannot make a logged-in
			// browser hand a conversation over.
			browserTok, _, err := n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: session.KindBrowser,
				Level: session.LevelSubstantial, Origin: session.OriginDevice})
			if err != nil {
				t.Fatal(err)
			}
			cookie := string(browserTok)
			req, err := http.NewRequestWithContext(t.Context(), "POST", n.URL+"/api/v1/assistant/handover",
				strings.NewReader(`{"conversation":"`+r.Conversation+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: "__Host-pforte_session", Value: cookie})
			req.AddCookie(&http.Cookie{Name: "pforte_session", Value: cookie})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("hand-over with the portal's cookie on the API: %d", resp.StatusCode)
			}
			if got := staffInbox(t, n.URL); len(got) != 0 {
				t.Fatalf("refused hand-overs sent %v", got)
			}

			// The hand-over reaches a second node of the installation,
			// which reads the conversation from the shared database.
			second := n.Another(t)
			status, body = handOver(t, second.BaseOf(), substantial, r.Conversation)
			if status != http.StatusAccepted {
				t.Fatalf("hand-over on the second node: %d %s", status, body)
			}
			got := staffInbox(t, second.BaseOf())
			if len(got) != 1 {
				t.Fatalf("staff inbox after the hand-over: %v", got)
			}
			for _, text := range got {
				if !strings.Contains(text, "person: ") || !strings.Contains(text, "Stand meines Antrags") ||
					!strings.Contains(text, "Frage zum eigenen Anliegen") {
					t.Errorf("hand-over message:\n%s", text)
				}
				for _, secret := range []string{typedKVNR, typedIBAN, "0532 0130", "0532013000"} {
					if strings.Contains(text, secret) {
						t.Errorf("the hand-over carries %q:\n%s", secret, text)
					}
				}
			}
			threads, err := n.Store.MailThreads(t.Context(), p.ID, store.MailThreadQuery{Limit: 10})
			if err != nil || len(threads) != 1 {
				t.Errorf("the person's threads: %v, %v; want the hand-over", threads, err)
			}
		})
	}
}

// TestAssistantConversationsSwept: the node's sweeper removes the turns
// older than the assistant's retention, and only those.
func TestAssistantConversationsSwept(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()).UTC() }
	n := handoverNode(t, nil, now)
	p := n.Person(t, store.Person{KVNR: "B234567891", GivenNames: "Erika", FamilyName: "Muster", BirthDate: "1980-01-01"})
	tok := sessionOf(t, n, p, session.LevelSubstantial)
	old := ask(t, n.URL, tok, "Ich möchte mit einem Menschen sprechen").Conversation
	clock.Add((23 * time.Hour).Microseconds())
	tok = sessionOf(t, n, p, session.LevelSubstantial) // the first has ended by now
	recent := ask(t, n.URL, tok, "Wie ist der Stand meines Antrags?").Conversation
	if old == "" || recent == "" || old == recent {
		t.Fatalf("conversations %q and %q", old, recent)
	}
	clock.Add((2 * time.Hour).Microseconds()) // the first turn is 25 hours old, the second 2

	got, err := n.Sweeper.Clean(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Conversations != 1 {
		t.Errorf("swept %d turns, want 1", got.Conversations)
	}
	for id, want := range map[string]int{old: 0, recent: 1} {
		if turns, err := n.Store.AssistantTurns(t.Context(), id, time.Time{}, 100); err != nil || len(turns) != want {
			t.Errorf("conversation %s after the sweep: %d turns, %v; want %d", id, len(turns), err, want)
		}
	}
}

// TestAssistantHandoverLongConversation: a conversation longer than a
// mailbox message may be is still handed over, with its latest questions
// and a note that older ones were left out, never an error.
func TestAssistantHandoverLongConversation(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) {
		c.StaffToken = handoverStaffToken
		c.Assistant.MaxQuestionRunes = 5000
		c.Mailbox.MaxTextRunes = 1500
	}})
	p := n.Person(t, store.Person{KVNR: "B234567891", GivenNames: "Erika", FamilyName: "Muster", BirthDate: "1980-01-01"})
	tok := sessionOf(t, n, p, session.LevelSubstantial)
	var conv string
	for _, word := range []string{"Erstens", "Zweitens", "Drittens", "Viertens"} {
		q := "Wie ist der Stand meines Antrags? " + word + " " + strings.Repeat("ausführlich ", 60)
		status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/assistant", tok, map[string]string{"question": q, "conversation": conv})
		var r assistantapi.Response
		if err := json.Unmarshal(raw, &r); status != http.StatusOK || err != nil || r.Conversation == "" {
			t.Fatalf("ask: %d %s", status, raw)
		}
		conv = r.Conversation
	}
	if status, body := handOver(t, n.URL, tok, conv); status != http.StatusAccepted {
		t.Fatalf("hand-over: %d %s", status, body)
	}
	got := staffInbox(t, n.URL)
	if len(got) != 1 {
		t.Fatalf("staff inbox: %v", got)
	}
	for _, text := range got {
		if !strings.Contains(text, "Viertens") || strings.Contains(text, "Erstens") || !strings.Contains(text, "Ältere Fragen") ||
			!strings.Contains(text, "Grund: ") {
			t.Errorf("shortened hand-over:\n%s", text)
		}
	}
}
