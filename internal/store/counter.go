package store

import (
	"context"
	"time"
)

// Counter is a named counter with an optional window and lock, the building block
// of attempt limits and caps (login failures per account, letters per person and
// per day). Its meaning belongs to the package that names it; keys are
// namespaced by that package ("login:<account>", "letters:day:2026-11-29").
type Counter struct {
	Key         string
	Value       int64
	WindowStart time.Time // zero if the counter has no window
	LockedUntil time.Time // zero if not locked
	UpdatedAt   time.Time
}

// Counters is the contract for counters.
type Counters interface {
	// UpdateCounter applies fn to the counter atomically across all processes
	// sharing the database and stores the result. A counter that does not
	// exist yet is passed to fn with its Key set and everything else zero. If
	// fn returns an error nothing is written and the error is returned. fn may
	// run more than once. Parallel updaters never lose an update.
	UpdateCounter(ctx context.Context, key string, fn func(c *Counter) error) (Counter, error)
	// UpdateCounterNotice is UpdateCounter whose fn may decide that the
	// update owes the person a notice: when fn returns owed true, n is
	// queued (as Notices.QueueNotice does) in the same transaction.
	UpdateCounterNotice(ctx context.Context, key string, fn func(c *Counter) (owed bool, err error), n Notice) (Counter, error)
	// CounterByKey returns the counter, or ErrNotFound.
	CounterByKey(ctx context.Context, key string) (Counter, error)
}
