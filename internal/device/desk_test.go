package device_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestDeskResetsPINLockAndRevokes: staff reset only a locked PIN of the
// person's own bound phone (the PIN stays), and remove it with the notice a
// removal owes; each act names the staff member.
func TestDeskResetsPINLockAndRevokes(t *testing.T) {
	st := testdb.Open(t)
	f := newFixture(t, st)
	ctx := t.Context()
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	desk := device.NewDesk(f.svc)
	if err := desk.ResetPINLock(ctx, f.person.ID, dev, "staff:1", "192.0.2.1"); !errors.Is(err, device.ErrPINNotLocked) {
		t.Errorf("reset of a usable PIN = %v, want ErrPINNotLocked", err)
	}
	before, _ := st.DeviceByID(ctx, dev)
	if _, err := st.UpdateDevice(ctx, dev, func(x *store.Device) error {
		x.PINFailures, x.PINLockedAt = 3, f.clk.now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := desk.ResetPINLock(ctx, f.person.ID+1, dev, "staff:1", "192.0.2.1"); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("reset for another person = %v, want ErrNotFound", err)
	}
	if err := desk.ResetPINLock(ctx, f.person.ID, dev, "staff:1", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	after, _ := st.DeviceByID(ctx, dev)
	if !after.PINLockedAt.IsZero() || after.PINFailures != 0 || string(after.PINKey) != string(before.PINKey) {
		t.Errorf("after the reset: locked %v, failures %d, PIN key kept %v", after.PINLockedAt, after.PINFailures,
			string(after.PINKey) == string(before.PINKey))
	}
	// The phone logs in with its PIN again.
	if _, _, err := f.svc.Login(ctx, dev, f.loginProof(t, phone, pin), "pin", "", ""); err != nil {
		t.Errorf("login after the reset: %v", err)
	}
	if err := desk.Revoke(ctx, f.person.ID+1, dev, "staff:1", ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("revoke for another person = %v, want ErrNotFound", err)
	}
	if err := desk.Revoke(ctx, f.person.ID, dev, "staff:1", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.PersonDevices(ctx, f.person.ID); len(got) != 0 {
		t.Errorf("%d devices bound after the revoke", len(got))
	}
	if f.notices.count(notice.DeviceRemoved) != 1 {
		t.Errorf("removal notices: %d, want 1", f.notices.count(notice.DeviceRemoved))
	}
	if err := desk.Revoke(ctx, f.person.ID, dev, "staff:1", ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("revoking twice = %v, want ErrNotFound", err)
	}
	entries, err := st.SearchAudit(ctx, store.AuditFilter{Actor: "staff:1"}, 10)
	if err != nil || len(entries) != 2 || entries[0].Event != "device.removed" || entries[1].Event != "device.pin_lock_reset" {
		t.Errorf("staff entries: %+v, %v", entries, err)
	}
}
