package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// personLocks implements store.PersonLocks.
type personLocks struct{ *db }

var _ store.PersonLocks = (*personLocks)(nil)

// LockPerson implements store.PersonLocks.
func (s *personLocks) LockPerson(ctx context.Context, l store.PersonLock) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// The person's row is held until the lock commits: an app login
		// holds it (FOR KEY SHARE) while it reads the lock and stores its
		// session (DecideDeviceProof), so it sees this lock or its session
		// exists before the lock and is ended with the others.
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM persons WHERE id = $1"+s.forUpdate(), int64(l.PersonID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: lock person: %w", err)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO person_locks (person_id, locked_at, locked_by) VALUES ($1, $2, $3)",
			int64(l.PersonID), micros(l.LockedAt.UTC().Truncate(time.Microsecond)), l.LockedBy)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: lock person: %w", err)
		}
		// Tokens the person's applications hold end with the lock: a
		// refresh token from before it must not work again after the
		// release.
		if _, err := tx.ExecContext(ctx, "UPDATE tokens SET revoked_at = $1 WHERE person_id = $2 AND revoked_at = 0",
			micros(l.LockedAt.UTC().Truncate(time.Microsecond)), int64(l.PersonID)); err != nil {
			return fmt.Errorf("sqlstore: lock person: %w", err)
		}
		return nil
	})
}

// PersonLockByID implements store.PersonLocks.
func (s *personLocks) PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error) {
	var (
		l      store.PersonLock
		locked int64
	)
	err := s.r.QueryRowContext(ctx, "SELECT person_id, locked_at, locked_by FROM person_locks WHERE person_id = $1", int64(id)).
		Scan(&l.PersonID, &locked, &l.LockedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PersonLock{}, store.ErrNotFound
	}
	if err != nil {
		return store.PersonLock{}, fmt.Errorf("sqlstore: person lock: %w", err)
	}
	l.LockedAt = fromMicros(locked)
	return l, nil
}

// UnlockPerson implements store.PersonLocks.
func (s *personLocks) UnlockPerson(ctx context.Context, id store.PersonID) error {
	n, err := s.execCount(ctx, "unlock person", "DELETE FROM person_locks WHERE person_id = $1", int64(id))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
