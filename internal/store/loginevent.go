package store

import (
	"context"
	"time"
)

// LoginEvent is one sign-in or failed attempt of a person, for the person's
// own history (the last days; the audit trail keeps the security record).
type LoginEvent struct {
	PersonID PersonID
	At       time.Time
	Kind     string // "browser" or "app"
	// Method is the proof: "password", "letter", "eid", "device", "egk".
	Method string
	// Outcome is "ok", "failed" or "locked".
	Outcome    string
	UserAgent  string // at most 300 characters
	DeviceName string // the phone that signed in, if any
	// Place is an approximate place, only where the node is configured to
	// tell one (empty otherwise).
	Place string
}

// LoginEvents is the contract for the sign-in history.
type LoginEvents interface {
	// AddLoginEvent stores e.
	AddLoginEvent(ctx context.Context, e LoginEvent) error
	// PersonLoginEvents returns up to limit of the person's events at or
	// after since, newest first.
	PersonLoginEvents(ctx context.Context, id PersonID, since time.Time, limit int) ([]LoginEvent, error)
	// DeleteLoginEventsBefore removes the events before t and returns how
	// many it removed.
	DeleteLoginEventsBefore(ctx context.Context, t time.Time) (int64, error)
}
