package assistant

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"sync"
	"time"
)

// ConversationID names one conversation: 128 random bits, base64url without
// padding (22 characters). Only the assistant makes them; an id a client
// sends that the assistant does not know starts a new conversation.
type ConversationID string

// newConversationID returns a fresh id from crypto/rand.
func newConversationID() ConversationID {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return ConversationID(base64.RawURLEncoding.EncodeToString(b[:]))
}

// wellFormed reports whether id could be one the assistant made.
func (id ConversationID) wellFormed() bool {
	if len(id) != 22 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(string(id))
	return err == nil && len(b) == 16
}

// Turn is one question and what the assistant did with it, as it is kept:
// the question is masked (no KVNR, IBAN, date, PIN-like number or password
// survives masking) and neutralised, never the raw input.
type Turn struct {
	At time.Time
	// Asker is who asked, as the node names the person (an opaque id, never
	// a KVNR); a hand-over is only made for the same asker.
	Asker string
	// Question is the masked question.
	Question string
	// Masked lists what was removed from the question.
	Masked []Sensitive
	// Entry is the knowledge base entry answered or tried ("" when none
	// came close).
	Entry string
	// Confidence is the retrieval's confidence in Entry, 0 to 1.
	Confidence float64
	// Handover is why a hand-over was offered, "" when the assistant
	// answered.
	Handover Reason
}

// Conversations keeps the masked turns of conversations that may be handed
// over to staff, for the retention the assistant is configured with. The
// node backs it with its database; MemoryConversations keeps them in the
// process and KeepNothing keeps none. Implementations are safe for
// concurrent use.
//
// The contract:
//   - Append records turn as the latest turn of conversation id, creating
//     the conversation when it is new. The turn is already masked; the
//     implementation stores it as given and may drop a conversation's oldest
//     turns beyond a bound of its own (at least MaxTurns are kept).
//   - Turns returns the turns of id recorded at or after since, oldest
//     first. An unknown id, or one whose turns are all older, gives none and
//     no error. It never returns a turn older than since, whether or not
//     DeleteBefore has run.
//   - DeleteBefore removes every turn, of every conversation, recorded
//     before t, and returns how many it removed. The assistant calls it with
//     now minus the retention (Assistant.Sweep); after it returns, no turn
//     older than t exists anywhere the implementation keeps data.
type Conversations interface {
	Append(ctx context.Context, id ConversationID, turn Turn) error
	Turns(ctx context.Context, id ConversationID, since time.Time) ([]Turn, error)
	DeleteBefore(ctx context.Context, t time.Time) (int, error)
}

// MaxTurns is how many of a conversation's latest turns a hand-over carries.
const MaxTurns = 20

// MemoryConversations keeps conversations in the process: for a single
// node, the command line and tests. It holds at most max conversations;
// when full, the one with the oldest latest turn goes first.
type MemoryConversations struct {
	mu    sync.Mutex
	max   int
	convs map[ConversationID][]Turn
}

// NewMemoryConversations returns an empty store for at most limit
// conversations (at least 1).
func NewMemoryConversations(limit int) *MemoryConversations {
	return &MemoryConversations{max: max(limit, 1), convs: map[ConversationID][]Turn{}}
}

// Append implements Conversations.
func (m *MemoryConversations) Append(_ context.Context, id ConversationID, turn Turn) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.convs[id]; !ok && len(m.convs) >= m.max {
		m.evictOldest()
	}
	turns := append(m.convs[id], turn)
	if len(turns) > MaxTurns {
		turns = slices.Clone(turns[len(turns)-MaxTurns:])
	}
	m.convs[id] = turns
	return nil
}

// evictOldest drops the conversation whose latest turn is the oldest.
func (m *MemoryConversations) evictOldest() {
	var (
		oldest ConversationID
		at     time.Time
		found  bool
	)
	for id, turns := range m.convs {
		last := turns[len(turns)-1].At
		if !found || last.Before(at) {
			oldest, at, found = id, last, true
		}
	}
	delete(m.convs, oldest)
}

// Turns implements Conversations.
func (m *MemoryConversations) Turns(_ context.Context, id ConversationID, since time.Time) ([]Turn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Turn
	for _, t := range m.convs[id] {
		if !t.At.Before(since) {
			t.Masked = slices.Clone(t.Masked)
			out = append(out, t)
		}
	}
	return out, nil
}

// DeleteBefore implements Conversations.
func (m *MemoryConversations) DeleteBefore(_ context.Context, t time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, turns := range m.convs {
		kept := turns[:0]
		for _, turn := range turns {
			if turn.At.Before(t) {
				n++
				continue
			}
			kept = append(kept, turn)
		}
		if len(kept) == 0 {
			delete(m.convs, id)
		} else {
			m.convs[id] = kept
		}
	}
	return n, nil
}

// KeepNothing is the Conversations of a node that keeps no conversations
// (the command line): Append forgets and Turns finds nothing, so there is
// never a conversation to hand over.
type KeepNothing struct{}

// Append implements Conversations: it keeps nothing.
func (KeepNothing) Append(context.Context, ConversationID, Turn) error { return nil }

// Turns implements Conversations: there are none.
func (KeepNothing) Turns(context.Context, ConversationID, time.Time) ([]Turn, error) {
	return nil, nil
}

// DeleteBefore implements Conversations: there is nothing to delete.
func (KeepNothing) DeleteBefore(context.Context, time.Time) (int, error) { return 0, nil }
