package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Removing a device from the portal or the API (not from the device itself,
// which proves itself with Unbind): a bound phone approves the removal
// (action "device.remove"; the phone being removed may approve it too), and
// the removal is carried out in the approving transaction with its notice.
// Without a phone that can approve (lost, or its PIN locked), a fresh eID
// identification removes it at once. The password alone never does: someone
// who knows it must not be able to strip the second factor.

// ActionRemove is the approval action of a device removal.
const ActionRemove = "device.remove"

// Approvals creates approval requests (package approval).
type Approvals interface {
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string,
		sessionLevel session.Level) (store.Approval, error)
}

// Remover removes the person's devices.
type Remover struct {
	store     Store
	approvals Approvals
	notices   Notices
	audit     Auditor
	now       func() time.Time
	logger    *slog.Logger
}

// NewRemover returns a remover.
func NewRemover(st Store, approvals Approvals, notices Notices, aud Auditor, now func() time.Time, logger *slog.Logger) *Remover {
	return &Remover{store: st, approvals: approvals, notices: notices, audit: aud, now: now, logger: logger}
}

// Removal is the outcome of Request: either done, or waiting for the approval
// Approval.
type Removal struct {
	Done     bool
	Approval store.Approval
}

type removeData struct {
	DeviceID string `json:"device_id"`
}

// Request removes one of the session's person's devices: at once when the
// session came from an eID identification at most session.EIDFreshness ago
// (session.FreshEID), otherwise through an approval on a bound device, which
// carries the removal out (RemoveExecutor); the session must meet the
// policy's level for that (approval.ErrSessionLevel). ErrNotFound for a
// device that is not the person's.
func (r *Remover) Request(ctx context.Context, sess store.Session, dev store.DeviceID, client, clientIP string) (Removal, error) {
	person := sess.PersonID
	d, err := r.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (d.PersonID != person || !d.RemovedAt.IsZero())) {
		return Removal{}, ErrNotFound
	}
	if err != nil {
		return Removal{}, fmt.Errorf("device: remove: %w", err)
	}
	if session.FreshEID(sess, r.now()) {
		if err := removeDevice(ctx, r.store, r.notices, d, r.now()); err != nil {
			return Removal{}, err
		}
		r.notices.Kick()
		r.record(ctx, audit.Event{Actor: subject(person), Event: "device.removed", Subject: subject(person), ClientIP: clientIP,
			Details: map[string]any{"device": string(d.ID), "by": "eid"}})
		return Removal{Done: true}, nil
	}
	data, err := json.Marshal(removeData{DeviceID: string(d.ID)})
	if err != nil {
		return Removal{}, err
	}
	a, err := r.approvals.Create(ctx, person, ActionRemove, "Gerät „"+d.Name+"“ von Ihrem Zugang trennen", data, "", client,
		session.Level(sess.Level))
	if err != nil {
		return Removal{}, err
	}
	return Removal{Approval: a}, nil
}

func (r *Remover) record(ctx context.Context, e audit.Event) {
	if err := r.audit.Record(ctx, e); err != nil {
		r.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

// RemoveExecutor carries out an approved device.remove inside the approving
// transaction: the device is removed and the notice queued, or neither.
type RemoveExecutor struct {
	notices Notices
}

// NewRemoveExecutor returns the executor of ActionRemove.
func NewRemoveExecutor(notices Notices) *RemoveExecutor {
	return &RemoveExecutor{notices: notices}
}

// Execute implements approval.Executor. A device that is already removed (or
// not the person's) leaves nothing to do.
func (e *RemoveExecutor) Execute(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
	var data removeData
	if err := json.Unmarshal(a.Data, &data); err != nil {
		return fmt.Errorf("device: removal: %w", err)
	}
	now := a.AnsweredAt // the approving transaction's time
	var removed store.Device
	_, err := tx.UpdateDevice(ctx, store.DeviceID(data.DeviceID), func(x *store.Device) error {
		if x.PersonID != a.PersonID || !x.RemovedAt.IsZero() {
			return errNothingToRemove
		}
		x.RemovedAt, x.UpdatedAt = now, now
		removed = *x
		return nil
	})
	if errors.Is(err, errNothingToRemove) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("device: removal: %w", err)
	}
	n, err := e.notices.Make(a.PersonID, notice.DeviceRemoved, notice.Details{At: now, Device: removed.Name})
	if err != nil {
		return fmt.Errorf("device: removal: %w", err)
	}
	return tx.QueueNotice(ctx, n)
}

var errNothingToRemove = errors.New("device: nothing to remove")
