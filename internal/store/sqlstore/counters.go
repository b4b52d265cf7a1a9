package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/store"
)

// counters implements store.Counters.
type counters struct{ *db }

var _ store.Counters = (*counters)(nil)

// errRetryInsert signals that a counter appeared between our read and insert.
var errRetryInsert = errors.New("sqlstore: counter created concurrently")

// UpdateCounter implements store.Counters.
func (s *counters) UpdateCounter(ctx context.Context, key string, fn func(c *store.Counter) error) (store.Counter, error) {
	return s.UpdateCounterNotice(ctx, key, func(c *store.Counter) (bool, error) { return false, fn(c) }, store.Notice{})
}

// UpdateCounterNotice implements store.Counters.
func (s *counters) UpdateCounterNotice(ctx context.Context, key string, fn func(c *store.Counter) (bool, error), n store.Notice) (store.Counter, error) {
	for {
		c, err := s.updateCounterOnce(ctx, key, fn, n)
		if errors.Is(err, errRetryInsert) {
			// Another process inserted the row first; now it exists and
			// the next round locks it.
			continue
		}
		return c, err
	}
}

func (s *counters) updateCounterOnce(ctx context.Context, key string, fn func(c *store.Counter) (bool, error), n store.Notice) (store.Counter, error) {
	var out store.Counter
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var owed bool
		var err error
		out, err = s.updateCounterTx(ctx, tx, key, func(c *store.Counter) error {
			owed, err = fn(c)
			return err
		})
		if err != nil || !owed {
			return err
		}
		return queueNotices(ctx, tx, []store.Notice{n})
	})
	if err != nil {
		return store.Counter{}, err
	}
	return out, nil
}

// updateCounterTx applies fn to the counter key in tx and stores the result;
// errRetryInsert when the counter was inserted by another transaction
// between the read and the insert (the caller runs tx again).
func (d *db) updateCounterTx(ctx context.Context, tx *sql.Tx, key string, fn func(c *store.Counter) error) (store.Counter, error) {
	cur, err := scanCounter(tx.QueryRowContext(ctx,
		"SELECT key, value, window_start, locked_until, updated_at FROM counters WHERE key = $1"+d.forUpdate(), key))
	exists := err == nil
	if errors.Is(err, store.ErrNotFound) {
		cur = store.Counter{Key: key}
	} else if err != nil {
		return store.Counter{}, err
	}
	next := cur
	if err := fn(&next); err != nil {
		return store.Counter{}, err
	}
	next.Key = key
	if exists {
		_, err = tx.ExecContext(ctx, `UPDATE counters SET value = $1, window_start = $2, locked_until = $3, updated_at = $4
			WHERE key = $5`, next.Value, micros(next.WindowStart), micros(next.LockedUntil), micros(next.UpdatedAt), key)
		if err != nil {
			return store.Counter{}, fmt.Errorf("sqlstore: update counter: %w", err)
		}
		return next, nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO counters (key, value, window_start, locked_until, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING`,
		key, next.Value, micros(next.WindowStart), micros(next.LockedUntil), micros(next.UpdatedAt))
	if err != nil {
		return store.Counter{}, fmt.Errorf("sqlstore: insert counter: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Counter{}, fmt.Errorf("sqlstore: insert counter: %w", err)
	} else if n == 0 {
		return store.Counter{}, errRetryInsert
	}
	return next, nil
}

func scanCounter(row rowScanner) (store.Counter, error) {
	var (
		c                             store.Counter
		windowStart, locked, updateAt int64
	)
	err := row.Scan(&c.Key, &c.Value, &windowStart, &locked, &updateAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Counter{}, store.ErrNotFound
	}
	if err != nil {
		return store.Counter{}, fmt.Errorf("sqlstore: scan counter: %w", err)
	}
	c.WindowStart, c.LockedUntil, c.UpdatedAt = fromMicros(windowStart), fromMicros(locked), fromMicros(updateAt)
	return c, nil
}

// CounterByKey implements store.Counters.
func (s *counters) CounterByKey(ctx context.Context, key string) (store.Counter, error) {
	return scanCounter(s.r.QueryRowContext(ctx,
		"SELECT key, value, window_start, locked_until, updated_at FROM counters WHERE key = $1", key))
}
