package store

import (
	"context"
	"time"
)

// AssistantTurn is one question to the assistant and what it did with it,
// kept so that the conversation can be handed over to staff. The question
// was masked before it reached the store (no KVNR, IBAN, date or PIN-like
// number survives) and is sealed by the caller on top; the store never sees
// it in clear.
type AssistantTurn struct {
	// Conversation names the conversation (the assistant's random id).
	Conversation string
	// Asker is the person who asked, as an opaque id (never a KVNR).
	Asker    string
	At       time.Time
	Question Sealed
	// Masked lists the kinds of data masking removed ("kvnr", "iban", …).
	Masked []string
	// Entry is the knowledge base entry answered or tried, Confidence the
	// retrieval's confidence in it (0 to 1), Handover why a hand-over was
	// offered ("" when the assistant answered).
	Entry      string
	Confidence float64
	Handover   string
}

// AssistantConversations keeps the assistant's turns for the retention the
// assistant is configured with, so that a question asked on one node can be
// handed over on another.
type AssistantConversations interface {
	// AppendAssistantTurn stores t as the latest turn of its conversation.
	// Conversation and Asker are required.
	AppendAssistantTurn(ctx context.Context, t AssistantTurn) error
	// AssistantTurns returns the latest limit turns of conversation
	// recorded at or after since, oldest first; none (and no error) for an
	// unknown conversation.
	AssistantTurns(ctx context.Context, conversation string, since time.Time, limit int) ([]AssistantTurn, error)
	// DeleteAssistantTurnsBefore removes every turn of every conversation
	// recorded before t and returns how many it removed.
	DeleteAssistantTurnsBefore(ctx context.Context, t time.Time) (int, error)
}
