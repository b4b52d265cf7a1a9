package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/store"
)

// Removing a device from the portal or the API (not from the device itself):
// the last bound device is removed with the account's password; while another
// device is bound, the removal waits for an approval on a bound device
// (action "device.remove"), and is carried out once when the approval is
// complete.

// ActionRemove is the approval action of a device removal.
const ActionRemove = "device.remove"

// Approvals creates and executes approval requests (package approval).
type Approvals interface {
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string) (store.Approval, error)
	Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error)
	Execute(ctx context.Context, id string, person store.PersonID, data []byte, change store.Change) error
}

// EnableRemoval lets the service remove devices through approvals.
func (s *Service) EnableRemoval(a Approvals) { s.approvals = a }

// Removal is the outcome of RequestRemoval: either done, or waiting for the
// approval Approval.
type Removal struct {
	Done     bool
	Approval store.Approval
}

type removeData struct {
	DeviceID string `json:"device_id"`
}

// RequestRemoval removes one of the person's devices: at once with the
// password when it is the last one, otherwise through an approval on a bound
// device. ErrNotFound for a device that is not the person's; ErrBindRefused
// for a wrong password.
func (s *Service) RequestRemoval(ctx context.Context, person store.PersonID, dev store.DeviceID, pw, clientIP string) (Removal, error) {
	if s.approvals == nil {
		return Removal{}, errors.New("device: removal is not enabled")
	}
	d, err := s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (d.PersonID != person || !d.RemovedAt.IsZero())) {
		return Removal{}, ErrNotFound
	}
	if err != nil {
		return Removal{}, fmt.Errorf("device: remove: %w", err)
	}
	devs, err := s.store.PersonDevices(ctx, person)
	if err != nil {
		return Removal{}, fmt.Errorf("device: remove: %w", err)
	}
	if len(devs) <= 1 {
		if err := s.passwords.CheckPassword(ctx, person, pw, clientIP); err != nil {
			if errors.Is(err, password.ErrBusy) {
				return Removal{}, err
			}
			return Removal{}, ErrBindRefused
		}
		if err := s.remove(ctx, d, "password", clientIP); err != nil {
			return Removal{}, err
		}
		return Removal{Done: true}, nil
	}
	data, err := json.Marshal(removeData{DeviceID: string(d.ID)})
	if err != nil {
		return Removal{}, err
	}
	a, err := s.approvals.Create(ctx, person, ActionRemove, "Gerät „"+d.Name+"“ von Ihrem Zugang trennen", data, "", "removal")
	if err != nil {
		return Removal{}, err
	}
	return Removal{Approval: a}, nil
}

// RemovalStatus returns a removal's approval and, once it is approved, removes
// the device (once, however often it is asked).
func (s *Service) RemovalStatus(ctx context.Context, approvalID string, person store.PersonID) (store.Approval, error) {
	a, err := s.approvals.Status(ctx, approvalID, person)
	if err != nil {
		return store.Approval{}, err
	}
	if a.Action != ActionRemove || a.Status != store.ApprovalApproved || !a.UsedAt.IsZero() {
		return a, nil
	}
	var data removeData
	if err := json.Unmarshal(a.Data, &data); err != nil {
		return store.Approval{}, fmt.Errorf("device: removal: %w", err)
	}
	// Marking the approval used comes first: exactly one caller goes on.
	if err := s.approvals.Execute(ctx, a.ID, person, a.Data, store.Change{PersonID: person}); err != nil {
		// Another caller may have carried it out meanwhile.
		if cur, serr := s.approvals.Status(ctx, approvalID, person); serr == nil && !cur.UsedAt.IsZero() {
			return cur, nil
		}
		return store.Approval{}, err
	}
	d, err := s.store.DeviceByID(ctx, store.DeviceID(data.DeviceID))
	if err != nil {
		return store.Approval{}, fmt.Errorf("device: removal: %w", err)
	}
	if d.PersonID == person && d.RemovedAt.IsZero() {
		if err := s.remove(ctx, d, "approval", ""); err != nil && !errors.Is(err, ErrNotFound) {
			return store.Approval{}, err
		}
	}
	s.record(ctx, audit.Event{Actor: subject(person), Event: "device.removal_approved", Subject: subject(person),
		Details: map[string]any{"device": data.DeviceID, "approval": a.ID, "approved_by": string(a.DeviceID)}})
	return s.approvals.Status(ctx, approvalID, person)
}
