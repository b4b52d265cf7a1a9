package store

import (
	"context"
	"time"
)

// Session is a browser or app session. The store keeps only the SHA-256 of the
// session token.
type Session struct {
	TokenHash []byte
	PersonID  PersonID
	Kind      string // "browser" or "app"
	Level     string // assurance level: "low", "substantial", "high"
	AMR       []string
	// Origin is what proof started the session: "password", "letter",
	// "eid", "device" or "egk" (package session names them); OriginAt is
	// when that proof was made (an eID identification may precede its
	// session by a few minutes).
	Origin             string
	OriginAt           time.Time
	MustChangePassword bool
	ClientIP           string
	UserAgent          string
	CreatedAt          time.Time
	LastSeenAt         time.Time
	IdleExpiresAt      time.Time
	ExpiresAt          time.Time // absolute end
}

// Sessions is the contract for sessions.
type Sessions interface {
	// CreateSession stores a new session. ErrConflict if the hash exists.
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns the session if it exists and neither its idle
	// nor its absolute expiry has passed at now; ErrNotFound otherwise.
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (Session, error)
	// TouchSession moves LastSeenAt to now and IdleExpiresAt to idleUntil
	// (never past ExpiresAt) for a live session; ErrNotFound otherwise.
	TouchSession(ctx context.Context, hash []byte, now, idleUntil time.Time) error
	// ReplaceSession deletes the session old and stores next in one
	// transaction (a new id on every level change). ErrNotFound if old is
	// gone: the replacement is then not stored.
	ReplaceSession(ctx context.Context, old []byte, next Session) error
	// ClearMustChangePassword records that the session's person chose a
	// password; ErrNotFound if the session is gone.
	ClearMustChangePassword(ctx context.Context, hash []byte) error
	// DeleteSession removes the session; removing a missing one is no error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeletePersonSessions removes all sessions of the person except the one
	// with hash keep (nil keeps none) and returns how many it removed.
	DeletePersonSessions(ctx context.Context, id PersonID, keep []byte) (int64, error)
	// PersonSessions lists the person's sessions live at now, newest first.
	PersonSessions(ctx context.Context, id PersonID, now time.Time) ([]Session, error)
	// DeleteExpiredSessions removes sessions whose absolute or idle expiry
	// passed before t.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error)
}
