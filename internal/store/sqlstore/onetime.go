package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// oneTimes implements store.OneTimes.
type oneTimes struct{ *db }

var _ store.OneTimes = (*oneTimes)(nil)

// PutOneTime implements store.OneTimes.
func (s *oneTimes) PutOneTime(ctx context.Context, v store.OneTime) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return putOneTime(ctx, tx, v) })
}

// putOneTime stores v through x: PutOneTime, and a letter's codes in the
// letter's transaction (QueueLetter).
func putOneTime(ctx context.Context, x *sql.Tx, v store.OneTime) error {
	_, err := x.ExecContext(ctx, `INSERT INTO one_times (kind, digest, subject, data, created_at, expires_at, consumed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		v.Kind, nonNil(v.Digest), v.Subject, v.Data, micros(v.CreatedAt), micros(v.ExpiresAt), micros(v.ConsumedAt))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put one-time: %w", err)
	}
	return nil
}

// ConsumeOneTime implements store.OneTimes. The check and the consumption are one
// UPDATE statement, so the database decides the single winner.
func (s *oneTimes) ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error) {
	v := store.OneTime{Kind: kind, Digest: digest, ConsumedAt: now.UTC().Truncate(time.Microsecond)}
	var created, expires int64
	err := s.writeRow(ctx, func(r rowScanner) error { return r.Scan(&v.Subject, &v.Data, &created, &expires) },
		`UPDATE one_times SET consumed_at = $1
		WHERE kind = $2 AND digest = $3 AND consumed_at = 0 AND expires_at > $1
		RETURNING subject, data, created_at, expires_at`,
		micros(now), kind, nonNil(digest))
	if errors.Is(err, sql.ErrNoRows) {
		return store.OneTime{}, store.ErrNotFound
	}
	if err != nil {
		return store.OneTime{}, fmt.Errorf("sqlstore: consume one-time: %w", err)
	}
	v.CreatedAt, v.ExpiresAt = fromMicros(created), fromMicros(expires)
	return v, nil
}

// VoidOneTimes implements store.OneTimes.
func (s *oneTimes) VoidOneTimes(ctx context.Context, kind, subject string, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		n, err = voidOneTimes(ctx, tx, kind, subject, now)
		return err
	})
	return n, err
}

// voidOneTimes voids through x: VoidOneTimes, and the earlier codes a new
// letter replaces in the letter's transaction (QueueLetter).
func voidOneTimes(ctx context.Context, x *sql.Tx, kind, subject string, now time.Time) (int64, error) {
	res, err := x.ExecContext(ctx, `UPDATE one_times SET consumed_at = $1
		WHERE kind = $2 AND subject = $3 AND consumed_at = 0`, micros(now), kind, subject)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: void one-times: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: void one-times: %w", err)
	}
	return n, nil
}

// DeleteOneTimesBefore implements store.OneTimes.
func (s *oneTimes) DeleteOneTimesBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	for _, q := range []string{`DELETE FROM one_times WHERE expires_at < $1`, `DELETE FROM used_challenges WHERE expires_at < $1`} {
		res, err := s.exec(ctx, q, micros(t))
		if err != nil {
			return 0, fmt.Errorf("sqlstore: delete one-times: %w", err)
		}
		m, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("sqlstore: delete one-times: %w", err)
		}
		n += m
	}
	return n, nil
}

// OneTimeByDigest implements store.OneTimes.
func (s *oneTimes) OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error) {
	v := store.OneTime{Kind: kind, Digest: digest}
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT subject, data, created_at, expires_at FROM one_times
		WHERE kind = $1 AND digest = $2 AND consumed_at = 0 AND expires_at > $3`,
		kind, nonNil(digest), micros(now)).Scan(&v.Subject, &v.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.OneTime{}, store.ErrNotFound
	}
	if err != nil {
		return store.OneTime{}, fmt.Errorf("sqlstore: one-time: %w", err)
	}
	v.CreatedAt, v.ExpiresAt = fromMicros(created), fromMicros(expires)
	return v, nil
}
