package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// accounts implements store.Accounts.
type accounts struct{ *db }

var _ store.Accounts = (*accounts)(nil)

const accountColumns = `person_id, password_hash, password_initial, password_expires_at, password_changed_at,
	language, version, created_at, updated_at`

func scanAccount(row rowScanner) (store.Account, error) {
	var (
		a                              store.Account
		expires, changed, created, upd int64
	)
	err := row.Scan(&a.PersonID, &a.PasswordHash, &a.PasswordInitial, &expires, &changed, &a.Language, &a.Version, &created, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlstore: scan account: %w", err)
	}
	a.PasswordExpiresAt, a.PasswordChangedAt = fromMicros(expires), fromMicros(changed)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(upd)
	return a, nil
}

// AccountByPerson implements store.Accounts.
func (s *accounts) AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error) {
	return scanAccount(s.r.QueryRowContext(ctx, "SELECT "+accountColumns+" FROM accounts WHERE person_id = $1", int64(id)))
}

// UpdateAccount implements store.Accounts. The person's row is the lock, so an
// account that does not exist yet is created by exactly one updater.
func (s *accounts) UpdateAccount(ctx context.Context, id store.PersonID, now time.Time,
	fn func(a *store.Account, exists bool) error, notices ...store.Notice) (store.Account, error) {
	var out store.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		next, err := updateAccountTx(ctx, tx, s.db, id, now, fn, true)
		if err != nil {
			return err
		}
		out = next
		return queueNotices(ctx, tx, notices)
	})
	if err != nil {
		return store.Account{}, err
	}
	return out, nil
}

// updateAccountTx applies fn to the person's account inside tx, holding the
// person's row lock: UpdateAccount, and the account write of a letter's codes
// (QueueLetter), which must commit with the letter. With always false the
// account is written only when fn changed it.
func updateAccountTx(ctx context.Context, tx *sql.Tx, d *db, id store.PersonID, now time.Time,
	fn func(a *store.Account, exists bool) error, always bool) (store.Account, error) {
	var pid int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM persons WHERE id = $1"+d.forUpdate(), int64(id)).Scan(&pid)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlstore: lock person: %w", err)
	}
	cur, err := scanAccount(tx.QueryRowContext(ctx, "SELECT "+accountColumns+" FROM accounts WHERE person_id = $1", int64(id)))
	exists := err == nil
	if errors.Is(err, store.ErrNotFound) {
		cur = store.Account{PersonID: id}
	} else if err != nil {
		return store.Account{}, err
	}
	next := cur
	if err := fn(&next, exists); err != nil {
		return store.Account{}, err
	}
	next.PersonID = id
	if !always && next == cur {
		return cur, nil
	}
	next.UpdatedAt = now.UTC().Truncate(time.Microsecond)
	if exists {
		next.Version = cur.Version + 1
		next.CreatedAt = cur.CreatedAt
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET password_hash = $1, password_initial = $2,
			password_expires_at = $3, password_changed_at = $4, version = $5, updated_at = $6, language = $7 WHERE person_id = $8`,
			next.PasswordHash, next.PasswordInitial, micros(next.PasswordExpiresAt), micros(next.PasswordChangedAt),
			next.Version, micros(next.UpdatedAt), next.Language, int64(id))
	} else {
		next.Version = 1
		next.CreatedAt = next.UpdatedAt
		_, err = tx.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			int64(id), next.PasswordHash, next.PasswordInitial, micros(next.PasswordExpiresAt), micros(next.PasswordChangedAt),
			next.Language, next.Version, micros(next.CreatedAt), micros(next.UpdatedAt))
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlstore: write account: %w", err)
	}
	return next, nil
}
