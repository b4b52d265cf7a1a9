package approval_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// TestStaffLockStopsPendingChanges: a change asked for before staff locked
// the person's access is not carried out when the phone approves it during
// the lock (the phone may be the one taken over); after the release it is.
func TestStaffLockStopsPendingChanges(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		a := f.createAddressChange(t)
		if err := f.st.LockPerson(ctx, store.PersonLock{PersonID: f.person.ID, LockedAt: f.clk.now(), LockedBy: "staff:1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); !errors.Is(err, session.ErrPersonLocked) {
			t.Errorf("approve during the lock = %v, want ErrPersonLocked", err)
		}
		if p, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p.Version != f.person.Version {
			t.Errorf("the change was carried out during the lock: v%d (%v)", p.Version, err)
		}
		if err := f.st.UnlockPerson(ctx, f.person.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); err != nil ||
			got.Status != store.ApprovalApproved {
			t.Errorf("approve after the release = %+v, %v", got.Status, err)
		}
	})
}
