package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Removing a device from the portal or the API (not from the device itself,
// which proves itself with Unbind): a bound phone approves the removal
// (action "device.remove"; the phone being removed may approve it too), and
// the removal is carried out in the approving transaction with its notice
// (RemoveExecutor). Without a phone that can approve (lost, or its PIN
// locked), a fresh eID identification removes it at once (RemoveAtOnce).
// The password alone never does: someone who knows it must not be able to
// strip the second factor. Package profile asks the phone when
// RemoveAtOnce answers ErrApprovalNeeded.

// ActionRemove is the approval action of a device removal.
const ActionRemove = "device.remove"

// ErrApprovalNeeded: the session may not remove a phone at once; a bound
// phone has to approve the removal (RemovalRequest says what it shows).
var ErrApprovalNeeded = errors.New("device: removal needs a phone's approval")

type removeData struct {
	DeviceID string `json:"device_id"`
}

// RemoveAtOnce removes one of the session's person's devices, with its
// notice, when the session came from an eID identification at most
// session.EIDFreshness ago (session.FreshEID). Any other session gets the
// device and ErrApprovalNeeded. ErrNotFound for a device that is not the
// person's or is removed.
func (s *Service) RemoveAtOnce(ctx context.Context, sess store.Session, dev store.DeviceID, clientIP string) (store.Device, error) {
	d, err := s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (d.PersonID != sess.PersonID || !d.RemovedAt.IsZero())) {
		return store.Device{}, ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("device: remove: %w", err)
	}
	if !session.FreshEID(sess, s.now()) {
		return d, ErrApprovalNeeded
	}
	return d, s.remove(ctx, d, "eid", clientIP)
}

// RemovalRequest is what a phone approves to remove d: the text it shows and
// the data RemoveExecutor carries out.
func RemovalRequest(d store.Device) (text string, data []byte, err error) {
	data, err = json.Marshal(removeData{DeviceID: string(d.ID)})
	if err != nil {
		return "", nil, fmt.Errorf("device: removal request: %w", err)
	}
	return "Gerät „" + d.Name + "“ von Ihrem Zugang trennen", data, nil
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
