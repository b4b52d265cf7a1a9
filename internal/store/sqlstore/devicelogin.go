package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

var _ store.DeviceProofs = (*devices)(nil)

// forKeyShare is appended to the SELECT that holds the person's row while a
// login reads the person's staff lock: LockPerson takes the row FOR UPDATE,
// so the two serialise and a login never stores a session after a lock it
// did not see. SQLite's IMMEDIATE transactions already hold the write lock.
func (d *db) forKeyShare() string {
	if d.dialect == Postgres {
		return " FOR KEY SHARE"
	}
	return ""
}

// DecideDeviceProof implements store.DeviceProofs: the challenge, the
// binding's lock, the PIN counter, the lock with its notices, the person's
// staff lock, the session and its history line, all in one transaction.
func (s *devices) DecideDeviceProof(ctx context.Context, p store.DeviceProof) (store.ProofResult, error) {
	s.prepare(ctx)
	var out store.ProofResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.decideProof(ctx, tx, p)
		return err
	})
	if err != nil {
		return store.ProofResult{}, err
	}
	return out, nil
}

func (s *devices) decideProof(ctx context.Context, tx *sql.Tx, p store.DeviceProof) (store.ProofResult, error) {
	now := micros(p.Now)
	refused := store.ProofResult{Outcome: store.ProofRefused}
	var (
		subject string
		nonce   []byte
	)
	err := s.queryRow(ctx, tx, `UPDATE one_times SET consumed_at = $1
		WHERE kind = $2 AND digest = $3 AND consumed_at = 0 AND expires_at > $1
		RETURNING subject, data`, now, p.ChallengeKind, nonNil(p.ChallengeDigest)).Scan(&subject, &nonce)
	if errors.Is(err, sql.ErrNoRows) {
		return refused, nil
	}
	if err != nil {
		return store.ProofResult{}, fmt.Errorf("sqlstore: consume challenge: %w", err)
	}
	if subject != p.ChallengeSubject || !bytes.Equal(nonce, p.Nonce) || !p.DeviceOK {
		return refused, nil // the challenge stays consumed
	}
	if p.Session != nil && p.PINOK {
		// The person's row before the binding's, in the order AddDevice
		// takes them (a deadlock with another order is retried by inTx).
		var one int
		err := s.queryRow(ctx, tx, "SELECT 1 FROM persons WHERE id = $1"+s.forKeyShare(), int64(p.Session.PersonID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return refused, nil
		}
		if err != nil {
			return store.ProofResult{}, fmt.Errorf("sqlstore: hold person: %w", err)
		}
	}
	d, err := scanDevice(s.queryRow(ctx, tx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1"+s.forUpdate(), string(p.Device)))
	if errors.Is(err, store.ErrNotFound) {
		return refused, nil
	}
	if err != nil {
		return store.ProofResult{}, err
	}
	if !d.RemovedAt.IsZero() || !bytes.Equal(d.DeviceKey, p.DeviceKey) || !bytes.Equal(d.PINKey, p.PINKey) ||
		(p.Session != nil && p.Session.PersonID != d.PersonID) {
		return refused, nil
	}
	if !d.PINLockedAt.IsZero() {
		return store.ProofResult{Outcome: store.ProofPINLocked, Device: d, Failures: d.PINFailures}, nil
	}
	if p.PINOK {
		return s.acceptProof(ctx, tx, p, d)
	}
	d.PINFailures++
	d.UpdatedAt = p.Now
	out := store.ProofResult{Outcome: store.ProofWrongPIN, Device: d, Failures: d.PINFailures}
	outcome := "failed"
	if d.PINFailures >= p.Limit {
		d.PINLockedAt = p.Now
		out.Outcome, out.Device, outcome = store.ProofLockedNow, d, "locked"
	}
	if _, err := s.exec(ctx, tx, "UPDATE devices SET pin_failures = $1, pin_locked_at = $2, updated_at = $3 WHERE id = $4",
		d.PINFailures, micros(d.PINLockedAt), now, string(d.ID)); err != nil {
		return store.ProofResult{}, fmt.Errorf("sqlstore: count pin failure: %w", err)
	}
	if out.Outcome == store.ProofLockedNow {
		if err := queueNotices(ctx, tx, p.LockNotices); err != nil {
			return store.ProofResult{}, err
		}
	}
	if err := s.addHistory(ctx, tx, p.History, outcome, p.Now); err != nil {
		return store.ProofResult{}, err
	}
	return out, nil
}

// acceptProof resets the failures of d after a good PIN proof and stores the
// session with its history line unless staff locked the person's access.
func (s *devices) acceptProof(ctx context.Context, tx *sql.Tx, p store.DeviceProof, d store.Device) (store.ProofResult, error) {
	if d.PINFailures != 0 {
		if _, err := s.exec(ctx, tx, "UPDATE devices SET pin_failures = 0, updated_at = $1 WHERE id = $2",
			micros(p.Now), string(d.ID)); err != nil {
			return store.ProofResult{}, fmt.Errorf("sqlstore: reset pin failures: %w", err)
		}
		d.PINFailures, d.UpdatedAt = 0, p.Now
	}
	out := store.ProofResult{Outcome: store.ProofAccepted, Device: d}
	if p.Session == nil {
		return out, nil
	}
	var one int
	err := s.queryRow(ctx, tx, "SELECT 1 FROM person_locks WHERE person_id = $1", int64(d.PersonID)).Scan(&one)
	switch {
	case err == nil:
		out.Outcome = store.ProofPersonLocked
		return out, nil
	case !errors.Is(err, sql.ErrNoRows):
		return store.ProofResult{}, fmt.Errorf("sqlstore: person lock: %w", err)
	}
	if err := insertSession(ctx, execFunc(func(ctx context.Context, q string, args ...any) (sql.Result, error) {
		return s.exec(ctx, tx, q, args...)
	}), *p.Session); err != nil {
		return store.ProofResult{}, err
	}
	if err := s.addHistory(ctx, tx, p.History, "ok", p.Session.CreatedAt); err != nil {
		return store.ProofResult{}, err
	}
	return out, nil
}

// addHistory stores the sign-in history line e (if any) with outcome at at.
func (s *devices) addHistory(ctx context.Context, tx *sql.Tx, e *store.LoginEvent, outcome string, at time.Time) error {
	if e == nil {
		return nil
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO login_events (person_id, at, kind, method, outcome, user_agent, device_name, place)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, int64(e.PersonID), micros(at), e.Kind, e.Method, outcome,
		e.UserAgent, e.DeviceName, e.Place); err != nil {
		return fmt.Errorf("sqlstore: add login event: %w", err)
	}
	return nil
}

// The statements of a login's transaction are prepared once per store on
// SQLite, whose parser otherwise runs for every statement of every login;
// its one writer connection keeps them. PostgreSQL's driver keeps prepared
// statements per connection by itself.

// stmt returns query prepared on the writer and bound to tx, or nil on
// PostgreSQL and for a query not prepared yet: the caller then runs the
// text, and the next call of prepare (outside a transaction: SQLite's one
// writer connection is the transaction's) prepares it.
func (s *devices) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	st, ok := s.stmts[query]
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	if !ok {
		s.stmts[query] = nil // wanted
	}
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// prepare prepares the statements stmt was asked for and does not have.
// A statement that fails to prepare is run as text.
func (s *devices) prepare(ctx context.Context) {
	if s.dialect != SQLite {
		return
	}
	s.stmtMu.Lock()
	var want []string
	for q, st := range s.stmts {
		if st == nil {
			want = append(want, q)
		}
	}
	s.stmtMu.Unlock()
	for _, q := range want {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		s.stmtMu.Lock()
		if s.stmts[q] == nil {
			s.stmts[q] = st
			st = nil
		}
		s.stmtMu.Unlock()
		if st != nil {
			st.Close() // prepared meanwhile by another login
		}
	}
}

func (s *devices) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

func (s *devices) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// execFunc is an ExecContext as a function.
type execFunc func(ctx context.Context, query string, args ...any) (sql.Result, error)

func (f execFunc) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return f(ctx, query, args...)
}

// close releases the prepared statements.
func (s *devices) close() error {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	var errs []error
	for _, st := range s.stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	s.stmts = nil
	return errors.Join(errs...)
}
