package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// staffKeys implements store.StaffKeys: the staff members' security keys
// and the challenges of their WebAuthn ceremonies.
type staffKeys struct{ *db }

var _ store.StaffKeys = (*staffKeys)(nil)

// AddStaffKey implements store.StaffKeys.
func (s *staffKeys) AddStaffKey(ctx context.Context, k store.StaffKey) error {
	_, err := s.exec(ctx, `INSERT INTO staff_keys (id, staff_id, name, credential, sign_count, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, nonNil(k.ID), int64(k.StaffID), k.Name, nonNil(k.Credential), k.SignCount,
		micros(k.CreatedAt), micros(k.LastUsedAt))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add staff key: %w", err)
	}
	return nil
}

// StaffKeysOf implements store.StaffKeys.
func (s *staffKeys) StaffKeysOf(ctx context.Context, id store.StaffID) ([]store.StaffKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, staff_id, name, credential, sign_count, created_at, last_used_at
		FROM staff_keys WHERE staff_id = $1 ORDER BY created_at, id`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: staff keys: %w", err)
	}
	defer rows.Close()
	var out []store.StaffKey
	for rows.Next() {
		var (
			k             store.StaffKey
			created, used int64
		)
		if err := rows.Scan(&k.ID, &k.StaffID, &k.Name, &k.Credential, &k.SignCount, &created, &used); err != nil {
			return nil, fmt.Errorf("sqlstore: scan staff key: %w", err)
		}
		k.CreatedAt, k.LastUsedAt = fromMicros(created), fromMicros(used)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: staff keys: %w", err)
	}
	return out, nil
}

// UseStaffKey implements store.StaffKeys. The counter is compared in the
// UPDATE itself, so parallel uses cannot both move it.
func (s *staffKeys) UseStaffKey(ctx context.Context, id store.StaffID, key []byte, count int64, now time.Time) error {
	n, err := s.execCount(ctx, "use staff key", `UPDATE staff_keys SET sign_count = $1, last_used_at = $2
		WHERE staff_id = $3 AND id = $4 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`,
		count, micros(now), int64(id), nonNil(key))
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var one int
	err = s.r.QueryRowContext(ctx, "SELECT 1 FROM staff_keys WHERE staff_id = $1 AND id = $2", int64(id), nonNil(key)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: use staff key: %w", err)
	}
	return store.ErrConflict
}

// RemoveStaffFactor implements store.StaffKeys.
func (s *staffKeys) RemoveStaffFactor(ctx context.Context, id store.StaffID, key []byte, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var secret []byte
		err := tx.QueryRowContext(ctx, "SELECT totp_secret FROM staff WHERE id = $1"+s.forUpdate(), int64(id)).Scan(&secret)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: remove staff factor: %w", err)
		}
		var keys int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM staff_keys WHERE staff_id = $1", int64(id)).Scan(&keys); err != nil {
			return fmt.Errorf("sqlstore: remove staff factor: %w", err)
		}
		factors := keys
		if len(secret) > 0 {
			factors++
		}
		var res sql.Result
		if key == nil {
			if len(secret) == 0 {
				return store.ErrNotFound
			}
			if factors < 2 {
				return store.ErrConflict
			}
			res, err = tx.ExecContext(ctx, `UPDATE staff SET totp_key_id = '', totp_secret = $1, totp_last_step = 0,
				version = version + 1, updated_at = $2 WHERE id = $3`, []byte{}, micros(now.UTC()), int64(id))
		} else {
			var one int
			qerr := tx.QueryRowContext(ctx, "SELECT 1 FROM staff_keys WHERE staff_id = $1 AND id = $2", int64(id), key).Scan(&one)
			if errors.Is(qerr, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if qerr != nil {
				return fmt.Errorf("sqlstore: remove staff factor: %w", qerr)
			}
			if factors < 2 {
				return store.ErrConflict
			}
			res, err = tx.ExecContext(ctx, "DELETE FROM staff_keys WHERE staff_id = $1 AND id = $2", int64(id), key)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: remove staff factor: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sqlstore: remove staff factor: %d rows, %w", n, err)
		}
		return nil
	})
}

// DeleteStaffKeys implements store.StaffKeys.
func (s *staffKeys) DeleteStaffKeys(ctx context.Context, id store.StaffID) (int64, error) {
	return s.execCount(ctx, "delete staff keys", "DELETE FROM staff_keys WHERE staff_id = $1", int64(id))
}

// AddStaffChallenge implements store.StaffKeys.
func (s *staffKeys) AddStaffChallenge(ctx context.Context, c store.StaffChallenge, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM staff_challenges WHERE expires_at <= $1", micros(now)); err != nil {
			return fmt.Errorf("sqlstore: add staff challenge: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO staff_challenges (handle_hash, staff_id, kind, data, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, nonNil(c.HandleHash), int64(c.StaffID), c.Kind, nonNil(c.Data), micros(c.ExpiresAt))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add staff challenge: %w", err)
		}
		return nil
	})
}

// TakeStaffChallenge implements store.StaffKeys: one DELETE … RETURNING, so
// of parallel takes exactly one gets the row.
func (s *staffKeys) TakeStaffChallenge(ctx context.Context, handleHash []byte, kind string, now time.Time) (store.StaffChallenge, error) {
	var (
		c       store.StaffChallenge
		expires int64
	)
	err := s.writeRow(ctx, func(r rowScanner) error { return r.Scan(&c.HandleHash, &c.StaffID, &c.Kind, &c.Data, &expires) },
		`DELETE FROM staff_challenges WHERE handle_hash = $1
		RETURNING handle_hash, staff_id, kind, data, expires_at`, nonNil(handleHash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.StaffChallenge{}, store.ErrNotFound
	}
	if err != nil {
		return store.StaffChallenge{}, fmt.Errorf("sqlstore: take staff challenge: %w", err)
	}
	c.ExpiresAt = fromMicros(expires)
	if c.Kind != kind || !c.ExpiresAt.After(now) {
		return store.StaffChallenge{}, store.ErrNotFound
	}
	return c, nil
}
