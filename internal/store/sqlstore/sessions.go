package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// sessions implements store.Sessions.
type sessions struct{ *db }

var _ store.Sessions = (*sessions)(nil)

const sessionColumns = `token_hash, person_id, kind, level, amr, origin, origin_at, must_change_password, client_ip, user_agent,
	created_at, last_seen_at, idle_expires_at, expires_at`

func scanSession(row rowScanner) (store.Session, error) {
	var (
		s                                    store.Session
		amr                                  string
		origin, created, seen, idle, expires int64
	)
	err := row.Scan(&s.TokenHash, &s.PersonID, &s.Kind, &s.Level, &amr, &s.Origin, &origin, &s.MustChangePassword, &s.ClientIP, &s.UserAgent,
		&created, &seen, &idle, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlstore: scan session: %w", err)
	}
	if amr != "" {
		s.AMR = strings.Fields(amr)
	}
	s.OriginAt = fromMicros(origin)
	s.CreatedAt, s.LastSeenAt, s.IdleExpiresAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(idle), fromMicros(expires)
	return s, nil
}

func insertSession(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, s store.Session) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		nonNil(s.TokenHash), int64(s.PersonID), s.Kind, s.Level, strings.Join(s.AMR, " "), s.Origin, micros(s.OriginAt), s.MustChangePassword, s.ClientIP, s.UserAgent,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.IdleExpiresAt), micros(s.ExpiresAt))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

// CreateSession implements store.Sessions.
func (s *sessions) CreateSession(ctx context.Context, sess store.Session) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertSession(ctx, tx, sess) })
}

// SessionByHash implements store.Sessions.
func (s *sessions) SessionByHash(ctx context.Context, hash []byte, now time.Time) (store.Session, error) {
	return scanSession(s.r.QueryRowContext(ctx, "SELECT "+sessionColumns+
		" FROM sessions WHERE token_hash = $1 AND idle_expires_at > $2 AND expires_at > $2", nonNil(hash), micros(now)))
}

// TouchSession implements store.Sessions.
func (s *sessions) TouchSession(ctx context.Context, hash []byte, now, idleUntil time.Time) error {
	res, err := s.exec(ctx, `UPDATE sessions SET last_seen_at = $1,
		idle_expires_at = CASE WHEN $2 < expires_at THEN $2 ELSE expires_at END
		WHERE token_hash = $3 AND idle_expires_at > $1 AND expires_at > $1`, micros(now), micros(idleUntil), nonNil(hash))
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ReplaceSession implements store.Sessions.
func (s *sessions) ReplaceSession(ctx context.Context, old []byte, next store.Session) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = $1", nonNil(old))
		if err != nil {
			return fmt.Errorf("sqlstore: replace session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: replace session: %w", err)
		} else if n == 0 {
			return store.ErrNotFound
		}
		return insertSession(ctx, tx, next)
	})
}

// ClearMustChangePassword implements store.Sessions.
func (s *sessions) ClearMustChangePassword(ctx context.Context, hash []byte) error {
	res, err := s.exec(ctx, "UPDATE sessions SET must_change_password = $1 WHERE token_hash = $2", false, nonNil(hash))
	if err != nil {
		return fmt.Errorf("sqlstore: clear must-change: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: clear must-change: %w", err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteSession implements store.Sessions.
func (s *sessions) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", nonNil(hash)); err != nil {
		return fmt.Errorf("sqlstore: delete session: %w", err)
	}
	return nil
}

// DeletePersonSessions implements store.Sessions.
func (s *sessions) DeletePersonSessions(ctx context.Context, id store.PersonID, keep []byte) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM sessions WHERE person_id = $1 AND token_hash <> $2", int64(id), nonNil(keep))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete sessions: %w", err)
	}
	return n, nil
}

// PersonSessions implements store.Sessions.
func (s *sessions) PersonSessions(ctx context.Context, id store.PersonID, now time.Time) ([]store.Session, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+sessionColumns+` FROM sessions
		WHERE person_id = $1 AND idle_expires_at > $2 AND expires_at > $2 ORDER BY created_at DESC, token_hash`, int64(id), micros(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: person sessions: %w", err)
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: person sessions: %w", err)
	}
	return out, nil
}

// DeleteExpiredSessions implements store.Sessions.
func (s *sessions) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM sessions WHERE expires_at < $1 OR idle_expires_at < $1", micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired sessions: %w", err)
	}
	return n, nil
}
