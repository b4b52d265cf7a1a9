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
	err := tx.QueryRowContext(ctx, `UPDATE one_times SET consumed_at = $1
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
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM persons WHERE id = $1"+s.forKeyShare(), int64(p.Session.PersonID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return refused, nil
		}
		if err != nil {
			return store.ProofResult{}, fmt.Errorf("sqlstore: hold person: %w", err)
		}
	}
	d, err := scanDevice(tx.QueryRowContext(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1"+s.forUpdate(), string(p.Device)))
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
	if _, err := tx.ExecContext(ctx, "UPDATE devices SET pin_failures = $1, pin_locked_at = $2, updated_at = $3 WHERE id = $4",
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
		if _, err := tx.ExecContext(ctx, "UPDATE devices SET pin_failures = 0, updated_at = $1 WHERE id = $2",
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
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM person_locks WHERE person_id = $1", int64(d.PersonID)).Scan(&one)
	switch {
	case err == nil:
		out.Outcome = store.ProofPersonLocked
		return out, nil
	case !errors.Is(err, sql.ErrNoRows):
		return store.ProofResult{}, fmt.Errorf("sqlstore: person lock: %w", err)
	}
	if err := insertSession(ctx, tx, *p.Session); err != nil {
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_events (person_id, at, kind, method, outcome, user_agent, device_name, place)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, int64(e.PersonID), micros(at), e.Kind, e.Method, outcome,
		e.UserAgent, e.DeviceName, e.Place); err != nil {
		return fmt.Errorf("sqlstore: add login event: %w", err)
	}
	return nil
}
