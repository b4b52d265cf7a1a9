package profile_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// devices returns the person's bound devices.
func (f *fixture) boundDevices(t *testing.T) []store.Device {
	t.Helper()
	list, err := f.devices.List(t.Context(), f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestRemoveTheOnlyPhoneNeedsThePhone: the password alone removes nothing;
// the phone approves its own removal, which is carried out in the approving
// transaction with its notice.
func TestRemoveTheOnlyPhoneNeedsThePhone(t *testing.T) {
	f := newFixture(t)
	dev := store.DeviceID(f.phone.ID)
	sess := func(id store.PersonID, level session.Level) store.Session {
		return store.Session{PersonID: id, Level: string(level), Origin: string(session.OriginDevice), OriginAt: time.Now()}
	}
	if _, err := f.svc.RequestDeviceRemoval(t.Context(), sess(f.person.ID+1, session.LevelSubstantial), dev, "portal", ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("another person's device = %v", err)
	}
	if _, err := f.svc.RequestDeviceRemoval(t.Context(), sess(f.person.ID, session.LevelLow), dev, "portal", ""); !errors.Is(err, approval.ErrSessionLevel) {
		t.Errorf("removal from a password-only session = %v, want ErrSessionLevel", err)
	}
	// A high session from a phone is no eID identification: it asks the phone.
	r, err := f.svc.RequestDeviceRemoval(t.Context(), sess(f.person.ID, session.LevelHigh), dev, "portal", "")
	if err != nil || r.Done || r.Approval.Status != store.ApprovalPending {
		t.Fatalf("removal of the only phone = %+v, %v; want a pending approval", r, err)
	}
	if n := len(f.boundDevices(t)); n != 1 {
		t.Fatalf("before the approval %d devices, want 1", n)
	}
	f.approve(t, r.Approval)
	got, err := f.svc.Status(t.Context(), r.Approval.ID, f.person.ID)
	if err != nil || got.UsedAt.IsZero() {
		t.Errorf("approved removal not carried out: %+v, %v", got, err)
	}
	if n := len(f.boundDevices(t)); n != 0 {
		t.Errorf("after the approval %d devices, want 0", n)
	}
	if kinds := f.queuedNotices(t); !slices.Contains(kinds, "device_removed") {
		t.Errorf("notices %v, want a device_removed one", kinds)
	}
}

// TestRemoveWithAFreshEID: a fresh eID identification removes a phone at once
// (a lost phone cannot approve), with its notice; an older one asks the phone.
func TestRemoveWithAFreshEID(t *testing.T) {
	f := newFixture(t)
	dev := store.DeviceID(f.phone.ID)
	stale := store.Session{PersonID: f.person.ID, Level: string(session.LevelHigh), Origin: string(session.OriginEID),
		OriginAt: time.Now().Add(-session.EIDFreshness - time.Second)}
	if r, err := f.svc.RequestDeviceRemoval(t.Context(), stale, dev, "portal", ""); err != nil || r.Done {
		t.Fatalf("removal after an old eID identification = %+v, %v; want a pending approval", r, err)
	}
	eid := store.Session{PersonID: f.person.ID, Level: string(session.LevelHigh), Origin: string(session.OriginEID), OriginAt: time.Now()}
	r, err := f.svc.RequestDeviceRemoval(t.Context(), eid, dev, "portal", "")
	if err != nil || !r.Done {
		t.Fatalf("removal after eID = %+v, %v", r, err)
	}
	if n := len(f.boundDevices(t)); n != 0 {
		t.Errorf("%d devices left", n)
	}
	if kinds := f.queuedNotices(t); !slices.Contains(kinds, "device_removed") {
		t.Errorf("notices %v, want a device_removed one", kinds)
	}
	if _, err := f.svc.RequestDeviceRemoval(t.Context(), eid, dev, "portal", ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("removing it again = %v, want ErrNotFound", err)
	}
}
