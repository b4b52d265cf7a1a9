package account_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/store"
)

// TestDeskShowsAndEndsTheLock: staff see the attempt state and end a
// temporary lock; the person logs in at once, and the act names the staff
// member.
func TestDeskShowsAndEndsTheLock(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	ctx := t.Context()
	desk := account.NewDesk(f.svc)
	if st, err := desk.LockState(ctx, f.person.ID); err != nil || st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("state before any failure: %+v, %v", st, err)
	}
	if err := desk.Unlock(ctx, f.person.ID, "staff:1", "192.0.2.1"); !errors.Is(err, account.ErrNotLocked) {
		t.Errorf("unlock without a lock = %v, want ErrNotLocked", err)
	}
	f.lock(t)
	st, err := desk.LockState(ctx, f.person.ID)
	if err != nil || st.Failures != 5 || !st.LockedUntil.After(f.clk.now()) {
		t.Errorf("state after five failures: %+v, %v", st, err)
	}
	if err := desk.Unlock(ctx, f.person.ID, "staff:1", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, chosen); err != nil {
		t.Errorf("login after the unlock: %v", err)
	}
	es, err := f.st.SearchAudit(ctx, store.AuditFilter{Event: "account.unlocked"}, 10)
	if err != nil || len(es) != 1 || es[0].Actor != "staff:1" || es[0].Subject != f.person.ID.Ref() {
		t.Errorf("audit: %+v, %v", es, err)
	}
}
