package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// Desk is what the insurer's staff see of and do to a person's password
// login from the back office: the temporary lock and ending it. It is a
// type of its own beside Service, whose methods are the person's flows.
type Desk struct{ s *Service }

// NewDesk returns the staff acts on s's accounts.
func NewDesk(s *Service) *Desk { return &Desk{s: s} }

// LockState is the password login's attempt state of one person.
type LockState struct {
	Failures    int64     // failed attempts counted since the last success
	LockedUntil time.Time // zero or past: not locked
}

// ErrNotLocked: the password login is not locked; there is nothing to end.
var ErrNotLocked = errors.New("account: not locked")

// LockState returns the person's attempt state (zero when no attempt was
// ever counted).
func (d *Desk) LockState(ctx context.Context, id store.PersonID) (LockState, error) {
	c, err := d.s.store.CounterByKey(ctx, counterKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return LockState{}, nil
	}
	if err != nil {
		return LockState{}, fmt.Errorf("account: lock state: %w", err)
	}
	return LockState{Failures: c.Value, LockedUntil: c.LockedUntil}, nil
}

// Unlock ends a temporary lock of the person's password login now, as
// staff member staffRef ("staff:<id>"); ErrNotLocked if it is not locked.
func (d *Desk) Unlock(ctx context.Context, id store.PersonID, staffRef, clientIP string) error {
	st, err := d.LockState(ctx, id)
	if err != nil {
		return err
	}
	if !st.LockedUntil.After(d.s.now()) {
		return ErrNotLocked
	}
	if err := d.s.reset(ctx, id); err != nil {
		return err
	}
	d.s.record(ctx, audit.Event{Actor: staffRef, Event: "account.unlocked", Subject: id.Ref(), ClientIP: clientIP})
	return nil
}
