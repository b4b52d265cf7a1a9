package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/store"
)

// passwordLogins implements store.PasswordLogins.
type passwordLogins struct{ *db }

var _ store.PasswordLogins = (*passwordLogins)(nil)

// SettlePasswordLogin implements store.PasswordLogins.
//
// The order of the locks matters on PostgreSQL. The counter row comes first,
// as in every counter update (a reservation that queues a notice locks the
// counter row and then the person's row, by the notice's foreign key), so
// the two never wait for each other crosswise. The person's row is then
// locked FOR UPDATE: LockPerson locks the same row FOR UPDATE before it
// stores the lock, so a lock stored at the same time either committed before
// (and the read of person_locks after the row lock sees it) or waits until
// this transaction committed its session (and the DeletePersonSessions that
// follows the lock ends it). The audit head's row comes last: the chain's
// lock is held only from the entry's append to the commit. On SQLite the
// transaction holds the one write lock throughout.
func (s *passwordLogins) SettlePasswordLogin(ctx context.Context, key string, reset func(c *store.Counter) error,
	sess store.Session, e store.LoginEvent, audit store.AuditAppend) error {
	for {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := s.updateCounterTx(ctx, tx, key, reset); err != nil {
				return err
			}
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM persons WHERE id = $1"+s.forUpdate(), int64(sess.PersonID)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("sqlstore: settle password login: %w", err)
			}
			err = tx.QueryRowContext(ctx, "SELECT 1 FROM person_locks WHERE person_id = $1", int64(sess.PersonID)).Scan(&one)
			if err == nil {
				return store.ErrPersonLocked
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlstore: settle password login: %w", err)
			}
			if err := insertSession(ctx, tx, sess); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_events (person_id, at, kind, method, outcome, user_agent, device_name, place)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, int64(e.PersonID), micros(e.At), e.Kind, e.Method, e.Outcome,
				e.UserAgent, e.DeviceName, e.Place); err != nil {
				return fmt.Errorf("sqlstore: settle password login: %w", err)
			}
			if audit != nil {
				return s.appendAudit(ctx, tx, audit)
			}
			return nil
		})
		if errors.Is(err, errRetryInsert) {
			continue // the counter row exists now; the next round locks it
		}
		return err
	}
}
