package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func assistantTurn(conv, asker string, minute int, question string) store.AssistantTurn {
	return store.AssistantTurn{Conversation: conv, Asker: asker, At: at(minute),
		Question: store.Sealed{KeyID: "k1", Ciphertext: []byte(question)}, Entry: "passwortbrief", Confidence: 0.75}
}

// testAssistantTurns: turns come back oldest first, as stored, only those
// of the conversation and at or after since, at most limit (the latest);
// DeleteAssistantTurnsBefore removes the older turns of every conversation.
func testAssistantTurns(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := assistantTurn("c1", "7", 0, "Wann kommt der Brief?")
	first.Masked = []string{"kvnr", "iban"}
	second := assistantTurn("c1", "7", 2, "Mein Antrag?")
	second.Entry, second.Confidence, second.Handover = "", 0, "own_case"
	other := assistantTurn("c2", "8", 1, "Andere Frage")
	for _, turn := range []store.AssistantTurn{first, other, second} {
		if err := s.AppendAssistantTurn(ctx, turn); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendAssistantTurn(ctx, store.AssistantTurn{Asker: "7", At: at(3)}); err == nil {
		t.Error("a turn without conversation was stored")
	}
	if err := s.AppendAssistantTurn(ctx, store.AssistantTurn{Conversation: "c1", At: at(3)}); err == nil {
		t.Error("a turn without asker was stored")
	}

	got, err := s.AssistantTurns(ctx, "c1", at(0), 20)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.AssistantTurn{first, second}, got); diff != "" {
		t.Errorf("turns (-want +got):\n%s", diff)
	}
	if got, _ := s.AssistantTurns(ctx, "c1", at(1), 20); len(got) != 1 || got[0].At != at(2) {
		t.Errorf("since at(1): %+v, want only the second turn", got)
	}
	if got, _ := s.AssistantTurns(ctx, "c1", at(0), 1); len(got) != 1 || got[0].At != at(2) {
		t.Errorf("limit 1: %+v, want the latest turn", got)
	}
	if got, err := s.AssistantTurns(ctx, "unknown", at(0), 20); err != nil || len(got) != 0 {
		t.Errorf("unknown conversation: %v, %v; want none, no error", got, err)
	}

	n, err := s.DeleteAssistantTurnsBefore(ctx, at(2))
	if err != nil || n != 2 {
		t.Fatalf("DeleteAssistantTurnsBefore = %d, %v; want 2 (one of each conversation)", n, err)
	}
	if got, _ := s.AssistantTurns(ctx, "c2", at(-60), 20); len(got) != 0 {
		t.Errorf("c2 after the sweep: %+v", got)
	}
	if got, _ := s.AssistantTurns(ctx, "c1", at(-60), 20); len(got) != 1 || got[0].At != at(2) {
		t.Errorf("c1 after the sweep: %+v, want the turn at the cut-off kept", got)
	}
	if n, err := s.DeleteAssistantTurnsBefore(ctx, at(2)); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; want 0", n, err)
	}
}

// testAssistantTurnsParallel: turns appended at once to one conversation
// (several nodes) are all kept.
func testAssistantTurnsParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.AppendAssistantTurn(ctx, assistantTurn("c1", "7", i, fmt.Sprintf("Frage %d", i)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AssistantTurns(ctx, "c1", at(0), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d turns kept, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, turn := range got {
		seen[string(turn.Question.Ciphertext)] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct turns, want %d", len(seen), n)
	}
}
