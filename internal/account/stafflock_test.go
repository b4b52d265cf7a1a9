package account_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// TestStaffLockHoldsForEveryPasswordLogin: a staff lock ends the person's
// sessions (with the reason their cookies meet), the right password answers
// session.ErrPersonLocked (the way back), a wrong one the one
// ErrLoginFailed, a proven password is not set, and after the release the
// person logs in again. Both acts name the staff member in the audit trail.
func TestStaffLockHoldsForEveryPasswordLogin(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	ctx := t.Context()
	desk := account.NewDesk(f.svc)
	before, err := f.login(t, chosen)
	if err != nil {
		t.Fatal(err)
	}
	if err := desk.ReleaseAccess(ctx, f.person.ID, "staff:1", "192.0.2.1"); !errors.Is(err, account.ErrNotStaffLocked) {
		t.Errorf("release without a lock = %v, want ErrNotStaffLocked", err)
	}
	n, err := desk.LockAccess(ctx, f.person.ID, "staff:1", "192.0.2.1")
	if err != nil || n < 1 {
		t.Fatalf("LockAccess = %d, %v; want the live sessions ended", n, err)
	}
	if _, err := desk.LockAccess(ctx, f.person.ID, "staff:2", "192.0.2.1"); !errors.Is(err, account.ErrAlreadyStaffLocked) {
		t.Errorf("second lock = %v, want ErrAlreadyStaffLocked", err)
	}
	var ended *session.EndedError
	if _, err := f.sessions.Authenticate(ctx, before.Token); !errors.As(err, &ended) || ended.Reason != session.EndedStaffLock {
		t.Errorf("the session before the lock: %v, want EndedError(staff_locked)", err)
	}
	if l, ok, err := desk.StaffLock(ctx, f.person.ID); err != nil || !ok || l.LockedBy != "staff:1" {
		t.Errorf("StaffLock = %+v, %v, %v", l, ok, err)
	}
	for _, kind := range []string{session.KindBrowser, session.KindApp} {
		if _, err := f.svc.Login(ctx, account.Login{KVNR: f.person.KVNR, Password: chosen}, kind); !errors.Is(err, session.ErrPersonLocked) {
			t.Errorf("%s login with the right password = %v, want ErrPersonLocked", kind, err)
		}
		if _, err := f.svc.Login(ctx, account.Login{KVNR: f.person.KVNR, Password: "wrong password 1"}, kind); !errors.Is(err, account.ErrLoginFailed) {
			t.Errorf("%s login with a wrong password = %v, want ErrLoginFailed", kind, err)
		}
	}
	if st, err := desk.LockState(ctx, f.person.ID); err != nil || st.Failures != 2 {
		t.Errorf("attempt state: %+v, %v; want the two wrong passwords counted, the right ones not", st, err)
	}
	if _, err := f.svc.SetProvenPassword(ctx, f.person, "ein ganz neues Passwort 7", session.New{PersonID: f.person.ID,
		Kind: session.KindBrowser, Level: session.LevelHigh, Origin: session.OriginEID}, "eid"); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("SetProvenPassword during the lock = %v, want ErrPersonLocked", err)
	}
	if err := desk.ReleaseAccess(ctx, f.person.ID, "staff:2", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, chosen); err != nil {
		t.Errorf("login after the release (the old password kept): %v", err)
	}
	for event, actor := range map[string]string{"account.staff_locked": "staff:1", "account.staff_lock_released": "staff:2"} {
		es, err := f.st.SearchAudit(ctx, store.AuditFilter{Event: event}, 10)
		if err != nil || len(es) != 1 || es[0].Actor != actor || es[0].Subject != f.person.ID.Ref() {
			t.Errorf("audit %s: %+v, %v", event, es, err)
		}
	}
}
