package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// loginEvents implements store.LoginEvents.
type loginEvents struct{ *db }

var _ store.LoginEvents = (*loginEvents)(nil)

// AddLoginEvent implements store.LoginEvents.
func (s *loginEvents) AddLoginEvent(ctx context.Context, e store.LoginEvent) error {
	if _, err := s.exec(ctx, `INSERT INTO login_events (person_id, at, kind, method, outcome, user_agent, device_name, place)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, int64(e.PersonID), micros(e.At), e.Kind, e.Method, e.Outcome,
		e.UserAgent, e.DeviceName, e.Place); err != nil {
		return fmt.Errorf("sqlstore: add login event: %w", err)
	}
	return nil
}

// PersonLoginEvents implements store.LoginEvents.
func (s *loginEvents) PersonLoginEvents(ctx context.Context, id store.PersonID, since time.Time, limit int) ([]store.LoginEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT person_id, at, kind, method, outcome, user_agent, device_name, place
		FROM login_events WHERE person_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3`, int64(id), micros(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: login events: %w", err)
	}
	defer rows.Close()
	var out []store.LoginEvent
	for rows.Next() {
		var (
			e  store.LoginEvent
			at int64
		)
		if err := rows.Scan(&e.PersonID, &at, &e.Kind, &e.Method, &e.Outcome, &e.UserAgent, &e.DeviceName, &e.Place); err != nil {
			return nil, fmt.Errorf("sqlstore: login events: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: login events: %w", err)
	}
	return out, nil
}

// DeleteLoginEventsBefore implements store.LoginEvents.
func (s *loginEvents) DeleteLoginEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete login events", "DELETE FROM login_events WHERE at < $1", micros(t))
}
