package profile

import (
	"context"
	"errors"

	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Devices removes the person's phones at once where the session may
// (package device).
type Devices interface {
	// RemoveAtOnce removes the device after a fresh eID identification;
	// otherwise it returns the device and device.ErrApprovalNeeded.
	RemoveAtOnce(ctx context.Context, sess store.Session, dev store.DeviceID, clientIP string) (store.Device, error)
}

// Removal is the outcome of RequestDeviceRemoval: either done, or waiting
// for the approval Approval.
type Removal struct {
	Done     bool
	Approval store.Approval
}

// RequestDeviceRemoval removes one of the session's person's devices: at
// once after a fresh eID identification (package device decides), otherwise
// through an approval on a bound phone, which carries the removal out
// (device.RemoveExecutor); the session must meet the policy's level for that
// (approval.ErrSessionLevel). device.ErrNotFound for a device that is not
// the person's.
func (s *Service) RequestDeviceRemoval(ctx context.Context, sess store.Session, dev store.DeviceID, client, clientIP string) (Removal, error) {
	d, err := s.devices.RemoveAtOnce(ctx, sess, dev, clientIP)
	if err == nil {
		return Removal{Done: true}, nil
	}
	if !errors.Is(err, device.ErrApprovalNeeded) {
		return Removal{}, err
	}
	text, data, err := device.RemovalRequest(d)
	if err != nil {
		return Removal{}, err
	}
	a, err := s.approvals.Create(ctx, sess.PersonID, device.ActionRemove, text, data, "", client, session.Level(sess.Level))
	if err != nil {
		return Removal{}, err
	}
	return Removal{Approval: a}, nil
}
