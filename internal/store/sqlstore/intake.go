package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// intakes implements store.Intakes.
type intakes struct{ *db }

var _ store.Intakes = (*intakes)(nil)

const intakeColumns = `id, kind, key_id, data, created_at, lease_until, attempts`

func scanIntake(row rowScanner) (store.Intake, error) {
	var (
		in             store.Intake
		created, lease int64
	)
	err := row.Scan(&in.ID, &in.Kind, &in.Data.KeyID, &in.Data.Ciphertext, &created, &lease, &in.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Intake{}, store.ErrNotFound
	}
	if err != nil {
		return store.Intake{}, fmt.Errorf("sqlstore: scan intake: %w", err)
	}
	in.CreatedAt, in.LeaseUntil = fromMicros(created), fromMicros(lease)
	return in, nil
}

// AddIntake implements store.Intakes: the count and the insert run in one
// transaction (on PostgreSQL, parallel ones may each see the count below
// the limit; that is the slack the contract allows).
func (s *intakes) AddIntake(ctx context.Context, in store.Intake, limit int) error {
	if in.ID == "" || in.Kind == "" || in.Data.IsZero() || in.CreatedAt.IsZero() {
		return errors.New("sqlstore: add intake: id, kind, data and time are required")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM intake").Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: add intake: %w", err)
		}
		if n >= limit {
			return store.ErrIntakeFull
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO intake (`+intakeColumns+`) VALUES ($1, $2, $3, $4, $5, 0, 0)`,
			in.ID, in.Kind, in.Data.KeyID, in.Data.Ciphertext, micros(in.CreatedAt))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add intake: %w", err)
		}
		return nil
	})
}

// ClaimIntakes implements store.Intakes, as ClaimMails does: the due rows
// are selected and leased in one transaction (PostgreSQL skips rows
// another node holds locked; SQLite has one writer).
func (s *intakes) ClaimIntakes(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Intake, error) {
	return leaseQueue[store.Intake]{
		what: "claim intake",
		due: "SELECT " + intakeColumns + ` FROM intake
			WHERE lease_until <= $1 ORDER BY created_at, id LIMIT $2`,
		lease:  `UPDATE intake SET lease_until = $1, attempts = attempts + 1 WHERE id = $2`,
		scan:   scanIntake,
		id:     func(in *store.Intake) any { return in.ID },
		leased: func(in *store.Intake, until time.Time) { in.Attempts, in.LeaseUntil = in.Attempts+1, until },
	}.claim(ctx, s.db, now, lease, limit)
}

// DeleteIntake implements store.Intakes.
func (s *intakes) DeleteIntake(ctx context.Context, id string) error {
	n, err := s.execCount(ctx, "delete intake", "DELETE FROM intake WHERE id = $1", id)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// deleteIntakeTx is DeleteIntake inside the letter's transaction.
func deleteIntakeTx(ctx context.Context, tx *sql.Tx, id string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM intake WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete intake: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: delete intake: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// IntakeBacklog implements store.Intakes.
func (s *intakes) IntakeBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM intake").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: intake backlog: %w", err)
	}
	return n, nil
}
