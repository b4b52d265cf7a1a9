package device

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// Desk is what the insurer's staff may do to a person's phones from the
// back office: remove one (a lost or stolen phone, "that was not me") and
// reset a locked Freigabe-PIN after the person's identity was checked. It
// is a type of its own beside Service, whose methods are the person's and
// the phone's own flows. Every act is recorded with the staff member as
// its actor.
type Desk struct{ s *Service }

// NewDesk returns the staff acts on s's bindings.
func NewDesk(s *Service) *Desk { return &Desk{s: s} }

// ErrPINNotLocked: the PIN of the binding is not locked; there is nothing
// to reset.
var ErrPINNotLocked = errors.New("device: the PIN is not locked")

// binding returns the person's bound device dev, or ErrNotFound.
func (d *Desk) binding(ctx context.Context, person store.PersonID, dev store.DeviceID) (store.Device, error) {
	x, err := d.s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || err == nil && (x.PersonID != person || !x.RemovedAt.IsZero()) {
		return store.Device{}, ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("device: %w", err)
	}
	return x, nil
}

// Revoke removes the person's bound phone dev at once, as staff member
// staffRef ("staff:<id>"), and queues the notice a removal owes.
// ErrNotFound for a device that is not the person's or not bound.
func (d *Desk) Revoke(ctx context.Context, person store.PersonID, dev store.DeviceID, staffRef, clientIP string) error {
	x, err := d.binding(ctx, person, dev)
	if err != nil {
		return err
	}
	if err := removeDevice(ctx, d.s.store, d.s.notices, x, d.s.now()); errors.Is(err, ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	d.s.notices.Kick()
	d.s.record(ctx, audit.Event{Actor: staffRef, Event: "device.removed", Subject: subject(person), ClientIP: clientIP,
		Details: map[string]any{"device": string(dev), "by": "staff"}})
	return nil
}

// ResetPINLock lets the person try their Freigabe-PIN again: the attempt
// counter goes back to zero and the lock ends; the PIN itself stays.
// ErrNotFound for a device that is not the person's or not bound,
// ErrPINNotLocked when there is nothing to reset.
func (d *Desk) ResetPINLock(ctx context.Context, person store.PersonID, dev store.DeviceID, staffRef, clientIP string) error {
	if _, err := d.binding(ctx, person, dev); err != nil {
		return err
	}
	now := d.s.now().UTC().Truncate(time.Microsecond)
	_, err := d.s.store.UpdateDevice(ctx, dev, func(x *store.Device) error {
		if x.PersonID != person || !x.RemovedAt.IsZero() {
			return ErrNotFound
		}
		if x.PINLockedAt.IsZero() {
			return ErrPINNotLocked
		}
		x.PINFailures, x.PINLockedAt, x.UpdatedAt = 0, time.Time{}, now
		return nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrPINNotLocked) {
		return err
	}
	if err != nil {
		return fmt.Errorf("device: reset pin lock: %w", err)
	}
	d.s.record(ctx, audit.Event{Actor: staffRef, Event: "device.pin_lock_reset", Subject: subject(person), ClientIP: clientIP,
		Details: map[string]any{"device": string(dev)}})
	return nil
}
