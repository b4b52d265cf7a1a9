package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// The back office's own tables, one type per role: staffAccounts implements
// store.StaffAccounts, staffSessions store.StaffSessions and staffRequests
// store.StaffRequests.
type (
	staffAccounts struct{ *db }
	staffSessions struct{ *db }
	staffRequests struct{ *db }
)

var (
	_ store.StaffAccounts = (*staffAccounts)(nil)
	_ store.StaffSessions = (*staffSessions)(nil)
	_ store.StaffRequests = (*staffRequests)(nil)
)

const staffColumns = `id, login, name, role, password_hash, totp_key_id, totp_secret, totp_last_step, failures, locked_until,
	disabled_at, version, created_at, updated_at, external_id`

func scanStaff(row rowScanner) (store.StaffMember, error) {
	var (
		m                                 store.StaffMember
		locked, disabled, created, update int64
	)
	err := row.Scan(&m.ID, &m.Login, &m.Name, &m.Role, &m.PasswordHash, &m.TOTPSecret.KeyID, &m.TOTPSecret.Ciphertext,
		&m.TOTPLastStep, &m.Failures, &locked, &disabled, &m.Version, &created, &update, &m.ExternalID)
	if errors.Is(err, sql.ErrNoRows) {
		return store.StaffMember{}, store.ErrNotFound
	}
	if err != nil {
		return store.StaffMember{}, fmt.Errorf("sqlstore: scan staff: %w", err)
	}
	m.LockedUntil, m.DisabledAt = fromMicros(locked), fromMicros(disabled)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(update)
	return m, nil
}

// AddStaff implements store.StaffAccounts.
func (s *staffAccounts) AddStaff(ctx context.Context, m store.StaffMember) (store.StaffID, error) {
	var id int64
	err := s.writeRow(ctx, func(r rowScanner) error { return r.Scan(&id) },
		`INSERT INTO staff (login, name, role, password_hash, totp_key_id, totp_secret, totp_last_step,
		failures, locked_until, disabled_at, version, created_at, updated_at, external_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11, $12) RETURNING id`,
		m.Login, m.Name, m.Role, m.PasswordHash, m.TOTPSecret.KeyID, nonNil(m.TOTPSecret.Ciphertext), m.TOTPLastStep,
		m.Failures, micros(m.LockedUntil), micros(m.DisabledAt), micros(m.CreatedAt), m.ExternalID)
	if isUniqueViolation(err) {
		return 0, store.ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: add staff: %w", err)
	}
	return store.StaffID(id), nil
}

// StaffByID implements store.StaffAccounts.
func (s *staffAccounts) StaffByID(ctx context.Context, id store.StaffID) (store.StaffMember, error) {
	return scanStaff(s.r.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = $1", int64(id)))
}

// StaffByLogin implements store.StaffAccounts.
func (s *staffAccounts) StaffByLogin(ctx context.Context, login string) (store.StaffMember, error) {
	return scanStaff(s.r.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE login = $1", login))
}

// StaffByExternalID implements store.StaffAccounts.
func (s *staffAccounts) StaffByExternalID(ctx context.Context, externalID string) (store.StaffMember, error) {
	if externalID == "" {
		return store.StaffMember{}, store.ErrNotFound
	}
	return scanStaff(s.r.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE external_id = $1", externalID))
}

// UpdateStaff implements store.StaffAccounts.
func (s *staffAccounts) UpdateStaff(ctx context.Context, id store.StaffID, fn func(m *store.StaffMember) error) (store.StaffMember, error) {
	var out store.StaffMember
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanStaff(tx.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = $1"+s.forUpdate(), int64(id)))
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.Login, next.CreatedAt, next.Version, next.ExternalID = cur.ID, cur.Login, cur.CreatedAt, cur.Version+1, cur.ExternalID
		next.UpdatedAt = next.UpdatedAt.UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET name = $1, role = $2, password_hash = $3, totp_key_id = $4,
			totp_secret = $5, totp_last_step = $6, failures = $7, locked_until = $8, disabled_at = $9, version = $10,
			updated_at = $11 WHERE id = $12`,
			next.Name, next.Role, next.PasswordHash, next.TOTPSecret.KeyID, nonNil(next.TOTPSecret.Ciphertext), next.TOTPLastStep,
			next.Failures, micros(next.LockedUntil), micros(next.DisabledAt), next.Version, micros(next.UpdatedAt), int64(id)); err != nil {
			return fmt.Errorf("sqlstore: update staff: %w", err)
		}
		out = next
		return nil
	})
	if err != nil {
		return store.StaffMember{}, err
	}
	return out, nil
}

// ListStaff implements store.StaffAccounts.
func (s *staffAccounts) ListStaff(ctx context.Context) ([]store.StaffMember, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+staffColumns+" FROM staff ORDER BY login")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list staff: %w", err)
	}
	defer rows.Close()
	var out []store.StaffMember
	for rows.Next() {
		m, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list staff: %w", err)
	}
	return out, nil
}

const staffSessionColumns = `token_hash, staff_id, client_ip, user_agent, created_at, last_seen_at, idle_expires_at, expires_at`

// CreateStaffSession implements store.StaffSessions.
func (s *staffSessions) CreateStaffSession(ctx context.Context, ss store.StaffSession) error {
	_, err := s.exec(ctx, `INSERT INTO staff_sessions (`+staffSessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		nonNil(ss.TokenHash), int64(ss.StaffID), ss.ClientIP, ss.UserAgent, micros(ss.CreatedAt), micros(ss.LastSeenAt),
		micros(ss.IdleExpiresAt), micros(ss.ExpiresAt))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create staff session: %w", err)
	}
	return nil
}

// StaffSessionByHash implements store.StaffSessions.
func (s *staffSessions) StaffSessionByHash(ctx context.Context, hash []byte, now time.Time) (store.StaffSession, error) {
	var (
		ss                           store.StaffSession
		created, seen, idle, expires int64
	)
	err := s.r.QueryRowContext(ctx, "SELECT "+staffSessionColumns+
		" FROM staff_sessions WHERE token_hash = $1 AND idle_expires_at > $2 AND expires_at > $2", nonNil(hash), micros(now)).
		Scan(&ss.TokenHash, &ss.StaffID, &ss.ClientIP, &ss.UserAgent, &created, &seen, &idle, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.StaffSession{}, store.ErrNotFound
	}
	if err != nil {
		return store.StaffSession{}, fmt.Errorf("sqlstore: staff session: %w", err)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.IdleExpiresAt, ss.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(idle), fromMicros(expires)
	return ss, nil
}

// TouchStaffSession implements store.StaffSessions.
func (s *staffSessions) TouchStaffSession(ctx context.Context, hash []byte, now, idleUntil time.Time) error {
	n, err := s.execCount(ctx, "touch staff session", `UPDATE staff_sessions SET last_seen_at = $1,
		idle_expires_at = CASE WHEN $2 < expires_at THEN $2 ELSE expires_at END
		WHERE token_hash = $3 AND idle_expires_at > $1 AND expires_at > $1`, micros(now), micros(idleUntil), nonNil(hash))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteStaffSession implements store.StaffSessions.
func (s *staffSessions) DeleteStaffSession(ctx context.Context, hash []byte) error {
	_, err := s.execCount(ctx, "delete staff session", "DELETE FROM staff_sessions WHERE token_hash = $1", nonNil(hash))
	return err
}

// DeleteStaffSessions implements store.StaffSessions.
func (s *staffSessions) DeleteStaffSessions(ctx context.Context, id store.StaffID) (int64, error) {
	return s.execCount(ctx, "delete staff sessions", "DELETE FROM staff_sessions WHERE staff_id = $1", int64(id))
}

// DeleteExpiredStaffSessions implements store.StaffSessions.
func (s *staffSessions) DeleteExpiredStaffSessions(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired staff sessions",
		"DELETE FROM staff_sessions WHERE expires_at < $1 OR idle_expires_at < $1", micros(t))
}

const staffRequestColumns = `id, kind, person_id, target, reason, method, status, requested_by, decided_by, created_at, decided_at, outcome`

func scanStaffRequest(row rowScanner) (store.StaffRequest, error) {
	var (
		r                store.StaffRequest
		created, decided int64
	)
	err := row.Scan(&r.ID, &r.Kind, &r.PersonID, &r.Target, &r.Reason, &r.Method, &r.Status, &r.RequestedBy, &r.DecidedBy,
		&created, &decided, &r.Outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return store.StaffRequest{}, store.ErrNotFound
	}
	if err != nil {
		return store.StaffRequest{}, fmt.Errorf("sqlstore: scan staff request: %w", err)
	}
	r.CreatedAt, r.DecidedAt = fromMicros(created), fromMicros(decided)
	return r, nil
}

// AddStaffRequest implements store.StaffRequests.
func (s *staffRequests) AddStaffRequest(ctx context.Context, r store.StaffRequest) error {
	_, err := s.exec(ctx, `INSERT INTO staff_requests (`+staffRequestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 0, '')`,
		r.ID, r.Kind, int64(r.PersonID), r.Target, r.Reason, r.Method, string(store.StaffRequestPending), int64(r.RequestedBy),
		micros(r.CreatedAt))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add staff request: %w", err)
	}
	return nil
}

// StaffRequestByID implements store.StaffRequests.
func (s *staffRequests) StaffRequestByID(ctx context.Context, id string) (store.StaffRequest, error) {
	return scanStaffRequest(s.r.QueryRowContext(ctx, "SELECT "+staffRequestColumns+" FROM staff_requests WHERE id = $1", id))
}

// DecideStaffRequest implements store.StaffRequests.
func (s *staffRequests) DecideStaffRequest(ctx context.Context, id string, status store.StaffRequestStatus, by store.StaffID, now time.Time,
	check func(r store.StaffRequest) error) (store.StaffRequest, error) {
	var out store.StaffRequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanStaffRequest(tx.QueryRowContext(ctx, "SELECT "+staffRequestColumns+" FROM staff_requests WHERE id = $1"+s.forUpdate(), id))
		if err != nil {
			return err
		}
		if r.Status != store.StaffRequestPending {
			return store.ErrConflict
		}
		if err := check(r); err != nil {
			return err
		}
		now = now.UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, "UPDATE staff_requests SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4",
			string(status), int64(by), micros(now), id); err != nil {
			return fmt.Errorf("sqlstore: decide staff request: %w", err)
		}
		r.Status, r.DecidedBy, r.DecidedAt = status, by, now
		out = r
		return nil
	})
	if err != nil {
		return store.StaffRequest{}, err
	}
	return out, nil
}

// PendingStaffRequests implements store.StaffRequests.
func (s *staffRequests) PendingStaffRequests(ctx context.Context, person store.PersonID, limit int) ([]store.StaffRequest, error) {
	q := "SELECT " + staffRequestColumns + " FROM staff_requests WHERE status = $1"
	args := []any{string(store.StaffRequestPending)}
	if person != 0 {
		q += " AND person_id = $2"
		args = append(args, int64(person))
	}
	q += " ORDER BY created_at, id LIMIT " + strconv.Itoa(max(limit, 0))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending staff requests: %w", err)
	}
	defer rows.Close()
	var out []store.StaffRequest
	for rows.Next() {
		r, err := scanStaffRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: pending staff requests: %w", err)
	}
	return out, nil
}

// FailStaffRequest implements store.StaffRequests.
func (s *staffRequests) FailStaffRequest(ctx context.Context, id, outcome string) (store.StaffRequest, error) {
	var out store.StaffRequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanStaffRequest(tx.QueryRowContext(ctx, "SELECT "+staffRequestColumns+" FROM staff_requests WHERE id = $1"+s.forUpdate(), id))
		if err != nil {
			return err
		}
		if r.Status != store.StaffRequestConfirmed {
			return store.ErrConflict
		}
		if _, err := tx.ExecContext(ctx, "UPDATE staff_requests SET status = $1, outcome = $2 WHERE id = $3",
			string(store.StaffRequestFailed), outcome, id); err != nil {
			return fmt.Errorf("sqlstore: fail staff request: %w", err)
		}
		r.Status, r.Outcome = store.StaffRequestFailed, outcome
		out = r
		return nil
	})
	if err != nil {
		return store.StaffRequest{}, err
	}
	return out, nil
}
