package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// signingKeys implements store.SigningKeys.
type signingKeys struct{ *db }

var _ store.SigningKeys = (*signingKeys)(nil)

const signingKeyColumns = `id, algorithm, private_key_id, private_sealed, public_key,
	created_at, activate_at, retire_at, delete_after`

// AddSigningKey implements store.SigningKeys.
func (s *signingKeys) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertSigningKey(ctx, tx, k) })
}

func insertSigningKey(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, k store.SigningKey) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.Algorithm, k.Private.KeyID, nonNil(k.Private.Ciphertext), nonNil(k.Public),
		micros(k.CreatedAt), micros(k.ActivateAt), micros(k.RetireAt), micros(k.DeleteAfter))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add signing key: %w", err)
	}
	return nil
}

// SigningKeys implements store.SigningKeys.
func (s *signingKeys) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return querySigningKeys(ctx, s.r, "SELECT "+signingKeyColumns+" FROM signing_keys ORDER BY activate_at, id")
}

func querySigningKeys(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]store.SigningKey, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k                                  store.SigningKey
			created, activate, retire, deleted int64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private.KeyID, &k.Private.Ciphertext, &k.Public,
			&created, &activate, &retire, &deleted); err != nil {
			return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
		}
		k.CreatedAt, k.ActivateAt, k.RetireAt, k.DeleteAfter = fromMicros(created), fromMicros(activate), fromMicros(retire), fromMicros(deleted)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	return out, nil
}

// DeleteSigningKeysBefore implements store.SigningKeys.
func (s *signingKeys) DeleteSigningKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM signing_keys WHERE delete_after < $1", micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete signing keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete signing keys: %w", err)
	}
	return n, nil
}

// RotateSigningKeys implements store.SigningKeys. The head row is the key set's
// lock: FOR UPDATE on PostgreSQL, the IMMEDIATE write transaction on SQLite. On
// PostgreSQL the keys are read after the lock is taken, so (at READ COMMITTED)
// they include every key the previous holder committed.
func (s *signingKeys) RotateSigningKeys(ctx context.Context, now time.Time, fn func(current []store.SigningKey) (*store.SigningKey, error)) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var head int
		if err := tx.QueryRowContext(ctx, "SELECT id FROM signing_key_head WHERE id = 1"+s.forUpdate()).Scan(&head); err != nil {
			return fmt.Errorf("sqlstore: signing key head: %w", err)
		}
		current, err := querySigningKeys(ctx, tx, "SELECT "+signingKeyColumns+
			" FROM signing_keys WHERE delete_after >= $1 ORDER BY activate_at, id", micros(now))
		if err != nil {
			return err
		}
		add, err := fn(current)
		if err != nil || add == nil {
			return err
		}
		return insertSigningKey(ctx, tx, *add)
	})
}
