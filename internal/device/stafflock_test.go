package device_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestStaffLockHoldsForTheApp: while staff lock the person's access, the
// app login with the right PIN starts no session and no phone is bound;
// after the release the app logs in again.
func TestStaffLockHoldsForTheApp(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	ctx := t.Context()
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	if err := f.st.LockPerson(ctx, store.PersonLock{PersonID: f.person.ID, LockedAt: f.clk.now(), LockedBy: "staff:1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(ctx, dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("app login during the lock = %v, want ErrPersonLocked", err)
	}
	if _, err := f.svc.BindWithLetter(ctx, f.bindRequest(t, newPhone(t), f.newCode(t))); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("binding a phone during the lock = %v, want ErrPersonLocked", err)
	}
	if list, err := f.st.PersonDevices(ctx, f.person.ID); err != nil || len(list) != 1 {
		t.Errorf("devices after the refused binding: %d, %v; want 1", len(list), err)
	}
	if err := f.st.UnlockPerson(ctx, f.person.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(ctx, dev, f.loginProof(t, phone, pin), "pin", "", ""); err != nil {
		t.Errorf("app login after the release: %v", err)
	}
}
