package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// assistantTurns implements store.AssistantConversations.
type assistantTurns struct{ *db }

var _ store.AssistantConversations = (*assistantTurns)(nil)

// AppendAssistantTurn implements store.AssistantConversations.
func (a *assistantTurns) AppendAssistantTurn(ctx context.Context, t store.AssistantTurn) error {
	if t.Conversation == "" || t.Asker == "" {
		return errors.New("sqlstore: assistant turn: conversation and asker are required")
	}
	_, err := a.exec(ctx, `INSERT INTO assistant_turns (conversation, asker, at, question_key_id, question,
		masked, entry, confidence, handover) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.Conversation, t.Asker, micros(t.At), t.Question.KeyID, nonNil(t.Question.Ciphertext),
		strings.Join(t.Masked, ","), t.Entry, t.Confidence, t.Handover)
	if err != nil {
		return fmt.Errorf("sqlstore: assistant turn: %w", err)
	}
	return nil
}

// AssistantTurns implements store.AssistantConversations.
func (a *assistantTurns) AssistantTurns(ctx context.Context, conversation string, since time.Time, limit int) ([]store.AssistantTurn, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := a.r.QueryContext(ctx, `SELECT conversation, asker, at, question_key_id, question, masked, entry,
		confidence, handover FROM assistant_turns WHERE conversation = $1 AND at >= $2 ORDER BY seq DESC LIMIT $3`,
		conversation, micros(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: assistant turns: %w", err)
	}
	defer rows.Close()
	var out []store.AssistantTurn
	for rows.Next() {
		var (
			t      store.AssistantTurn
			at     int64
			masked string
		)
		if err := rows.Scan(&t.Conversation, &t.Asker, &at, &t.Question.KeyID, &t.Question.Ciphertext, &masked,
			&t.Entry, &t.Confidence, &t.Handover); err != nil {
			return nil, fmt.Errorf("sqlstore: assistant turns: %w", err)
		}
		t.At = fromMicros(at)
		if masked != "" {
			t.Masked = strings.Split(masked, ",")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: assistant turns: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// DeleteAssistantTurnsBefore implements store.AssistantConversations.
func (a *assistantTurns) DeleteAssistantTurnsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := a.exec(ctx, `DELETE FROM assistant_turns WHERE at < $1`, micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete assistant turns: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete assistant turns: %w", err)
	}
	return int(n), nil
}
