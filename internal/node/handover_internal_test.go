package node

import (
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestConversationsSealedInPlace: the masked question is sealed at rest,
// bound to its conversation and asker: a stored turn copied into another
// conversation, or given another asker, does not open. An anonymous
// asker's turn is not kept.
func TestConversationsSealedInPlace(t *testing.T) {
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	st := testdb.Open(t)
	c := dbConversations{store: st, sealer: ring}
	ctx, at := t.Context(), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	const a, b, anon = assistant.ConversationID("aaaaaaaaaaaaaaaaaaaaaa"), assistant.ConversationID("bbbbbbbbbbbbbbbbbbbbbb"),
		assistant.ConversationID("cccccccccccccccccccccc")
	turn := assistant.Turn{At: at, Asker: "7", Question: "Wie ist der Stand meines Antrags?", Masked: []assistant.Sensitive{assistant.SensitiveKVNR},
		Entry: "postfach", Confidence: 0.5, Handover: assistant.ReasonOwnCase}
	if err := c.Append(ctx, a, turn); err != nil {
		t.Fatal(err)
	}
	got, err := c.Turns(ctx, a, at)
	if err != nil || len(got) != 1 || got[0].Question != turn.Question || got[0].Asker != "7" || got[0].Handover != assistant.ReasonOwnCase ||
		len(got[0].Masked) != 1 || got[0].Masked[0] != assistant.SensitiveKVNR {
		t.Fatalf("Turns = %+v, %v", got, err)
	}

	rows, err := st.AssistantTurns(ctx, string(a), at, 10)
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	if strings.Contains(string(rows[0].Question.Ciphertext), "Antrag") {
		t.Error("the question is stored in clear")
	}
	moved := rows[0]
	moved.Conversation = string(b)
	if err := st.AppendAssistantTurn(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Turns(ctx, b, at); err == nil {
		t.Errorf("a question copied into another conversation opened: %+v", got)
	}
	other := rows[0]
	other.Asker = "8"
	if err := st.AppendAssistantTurn(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Turns(ctx, a, at); err == nil {
		t.Errorf("a question given another asker opened: %+v", got)
	}

	if err := c.Append(ctx, anon, assistant.Turn{At: at, Question: "Wo ist mein Brief?"}); err != nil {
		t.Fatal(err)
	}
	if rows, err := st.AssistantTurns(ctx, string(anon), at, 10); err != nil || len(rows) != 0 {
		t.Errorf("an anonymous asker's turn was kept: %+v, %v", rows, err)
	}
}
