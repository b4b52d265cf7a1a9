package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	// A good login holds the person's row before the binding's, in the
	// order AddDevice takes them (a deadlock with another order is retried
	// by inTx).
	hold := p.Session != nil && p.PINOK && p.DeviceOK
	used, held, err := s.useChallengeHold(ctx, tx, p, hold)
	if err != nil {
		return store.ProofResult{}, err
	}
	if used || !p.DeviceOK || (hold && !held) {
		return refused, nil // a challenge used here stays used
	}
	// The staff lock is read with the binding: on PostgreSQL the
	// statement starts after the person's row is held, so it sees every
	// lock committed before (a later one waits for this transaction).
	var locked bool
	d, err := scanDevice(withExtra(tx.QueryRowContext(ctx, "SELECT "+deviceColumns+
		", EXISTS (SELECT 1 FROM person_locks l WHERE l.person_id = devices.person_id) FROM devices WHERE id = $1"+s.forUpdate(),
		string(p.Device)), &locked))
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
		return s.acceptProof(ctx, tx, p, d, locked)
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
// session with its history line unless staff locked the person's access
// (locked, read in the transaction that holds the person's row).
func (s *devices) acceptProof(ctx context.Context, tx *sql.Tx, p store.DeviceProof, d store.Device, locked bool) (store.ProofResult, error) {
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
	if locked {
		out.Outcome = store.ProofPersonLocked
		return out, nil
	}
	if s.dialect == Postgres && p.History != nil {
		return out, s.insertSessionHistory(ctx, tx, *p.Session, *p.History)
	}
	if err := insertSession(ctx, tx, *p.Session); err != nil {
		return store.ProofResult{}, err
	}
	if err := s.addHistory(ctx, tx, p.History, "ok", p.Session.CreatedAt); err != nil {
		return store.ProofResult{}, err
	}
	return out, nil
}

// insertSessionHistory stores the session and its history line (outcome
// ok, at the session's start) in one statement, one round trip on
// PostgreSQL: what insertSession and addHistory do one after the other.
func (s *devices) insertSessionHistory(ctx context.Context, tx *sql.Tx, ss store.Session, e store.LoginEvent) error {
	_, err := tx.ExecContext(ctx, `WITH s AS (INSERT INTO sessions (`+sessionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING 1)
		INSERT INTO login_events (person_id, at, kind, method, outcome, user_agent, device_name, place)
		SELECT $15, $16, $17, $18, 'ok', $19, $20, $21 FROM s`,
		nonNil(ss.TokenHash), int64(ss.PersonID), ss.Kind, ss.Level, strings.Join(ss.AMR, " "), ss.Origin, micros(ss.OriginAt),
		ss.MustChangePassword, ss.ClientIP, ss.UserAgent, micros(ss.CreatedAt), micros(ss.LastSeenAt), micros(ss.IdleExpiresAt),
		micros(ss.ExpiresAt), int64(e.PersonID), micros(ss.CreatedAt), e.Kind, e.Method, e.UserAgent, e.DeviceName, e.Place)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create session, add login event: %w", err)
	}
	return nil
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

// withExtra scans the row's columns after those of r's caller into extra.
func withExtra(r rowScanner, extra ...any) rowScanner { return extraScanner{r, extra} }

type extraScanner struct {
	r     rowScanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.r.Scan(append(dest, e.extra...)...) }

// useChallengeHold records p's challenge as used (used: it was used before)
// and, when hold is set, holds the row of the session's person (held: it
// exists) with forKeyShare. On PostgreSQL both are one statement, one round
// trip; the binding's row and the staff lock are read by the next one, so
// it sees every lock committed before the person's row was held.
func (s *devices) useChallengeHold(ctx context.Context, tx *sql.Tx, p store.DeviceProof, hold bool) (used, held bool, err error) {
	if hold && s.dialect == Postgres {
		var inserted, persons int
		err := tx.QueryRowContext(ctx, `WITH used AS (
				INSERT INTO used_challenges (digest, expires_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING RETURNING 1),
			person AS (SELECT 1 FROM persons WHERE id = $3`+s.forKeyShare()+`)
			SELECT (SELECT count(*) FROM used), (SELECT count(*) FROM person)`,
			nonNil(p.ChallengeDigest), micros(p.ChallengeExpires), int64(p.Session.PersonID)).Scan(&inserted, &persons)
		if err != nil {
			return false, false, fmt.Errorf("sqlstore: use challenge, hold person: %w", err)
		}
		return inserted == 0, persons == 1, nil
	}
	if used, err = useChallenge(ctx, tx, p.ChallengeDigest, p.ChallengeExpires); err != nil || used || !hold {
		return used, false, err
	}
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM persons WHERE id = $1"+s.forKeyShare(), int64(p.Session.PersonID)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("sqlstore: hold person: %w", err)
	}
	return false, true, nil
}

// useChallenge records the challenge with digest as used until expires,
// through x; used reports that it was used before (nothing written then).
func useChallenge(ctx context.Context, x *sql.Tx, digest []byte, expires time.Time) (used bool, err error) {
	res, err := x.ExecContext(ctx, `INSERT INTO used_challenges (digest, expires_at) VALUES ($1, $2)
		ON CONFLICT (digest) DO NOTHING`, nonNil(digest), micros(expires))
	if err != nil {
		return false, fmt.Errorf("sqlstore: use challenge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: use challenge: %w", err)
	}
	return n == 0, nil
}

// UseChallenge implements store.UsedChallenges.
func (s *oneTimes) UseChallenge(ctx context.Context, digest []byte, expiresAt time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		used, err := useChallenge(ctx, tx, digest, expiresAt)
		if err == nil && used {
			return store.ErrConflict
		}
		return err
	})
}

// ChallengeUsed implements store.UsedChallenges.
func (s *oneTimes) ChallengeUsed(ctx context.Context, digest []byte) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, "SELECT 1 FROM used_challenges WHERE digest = $1", nonNil(digest)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: challenge used: %w", err)
	}
	return true, nil
}
