package account_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/session"
)

const chosen = "Kastanienbaum im Herbstwind"

// withChosenPassword gives the person the password chosen.
func (f *fixture) withChosenPassword(t *testing.T) {
	t.Helper()
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	res, err := f.login(t, initial)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, chosen, ""); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) lock(t *testing.T) {
	t.Helper()
	for range 5 {
		if _, err := f.login(t, "wrong"); !errors.Is(err, account.ErrLoginFailed) {
			t.Fatalf("wrong password = %v", err)
		}
	}
}

// TestRightPasswordDuringTheLock: the right password during a lock is no
// login, but a ticket for the phone-confirmed one; the phone's confirmation
// starts a session of origin device and the lock still holds for password-only
// logins.
func TestRightPasswordDuringTheLock(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	f.lock(t)
	verifies := f.hasher.verifies.Load()
	_, err := f.login(t, chosen)
	var locked *account.LockedError
	if !errors.As(err, &locked) || locked.Ticket == "" || locked.Person != f.person.ID {
		t.Fatalf("right password during the lock = %v, want *LockedError with a ticket", err)
	}
	if want := f.clk.now().Add(time.Minute); !locked.Until.Equal(want) {
		t.Errorf("locked until %v, want %v", locked.Until, want)
	}
	if f.hasher.verifies.Load() != verifies+1 {
		t.Errorf("the right password during the lock was not checked")
	}
	if got, err := f.svc.LockedLogin(t.Context(), locked.Ticket); err != nil || got.Person != f.person.ID || !got.Until.Equal(locked.Until) {
		t.Errorf("LockedLogin = %+v, %v", got, err)
	}
	res, err := f.svc.ConfirmLockedLogin(t.Context(), locked.Ticket, session.LevelSubstantial, "pin", "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Session.Origin != "device" || res.Session.Level != "substantial" || res.Session.PersonID != f.person.ID {
		t.Errorf("confirmed session = %+v", res.Session)
	}
	if _, err := f.svc.ConfirmLockedLogin(t.Context(), locked.Ticket, session.LevelSubstantial, "pin", "", ""); !errors.Is(err, account.ErrLockedTicket) {
		t.Errorf("second use of the ticket = %v, want ErrLockedTicket", err)
	}
	if _, err := f.svc.LockedLogin(t.Context(), "no-such-ticket"); !errors.Is(err, account.ErrLockedTicket) {
		t.Errorf("unknown ticket = %v", err)
	}
	// The lock still holds: the right password alone gives no session.
	if res, err := f.login(t, chosen); !errors.As(err, &locked) || res.Token != "" {
		t.Errorf("password-only login after the confirmed one = %v, want *LockedError", err)
	}
	f.clk.advance(61 * time.Second)
	if _, err := f.login(t, chosen); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}

// TestLockChecksAreBounded: during a lock only LockedChecks wrong passwords
// are checked; after them even the right one gets ErrLoginFailed (no password
// oracle), and each wrong answer is the same error with the same work.
func TestLockChecksAreBounded(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	f.lock(t)
	before := f.hasher.verifies.Load()
	for i := range 3 {
		if _, err := f.login(t, "wrong"); err != account.ErrLoginFailed {
			t.Fatalf("wrong password %d during the lock = %v", i+1, err)
		}
	}
	if got := f.hasher.verifies.Load() - before; got != 3 {
		t.Errorf("%d passwords checked during the lock, want 3", got)
	}
	if _, err := f.login(t, chosen); err != account.ErrLoginFailed {
		t.Errorf("right password after the lock's checks are spent = %v, want ErrLoginFailed", err)
	}
	if got := f.hasher.verifies.Load() - before; got != 3 {
		t.Errorf("%d passwords checked, want still 3", got)
	}
	// The next lock has its own checks.
	f.clk.advance(61 * time.Second)
	f.lock(t)
	var locked *account.LockedError
	if _, err := f.login(t, chosen); !errors.As(err, &locked) {
		t.Errorf("right password in the next lock = %v, want *LockedError", err)
	}
	if want := f.clk.now().Add(2 * time.Minute); !locked.Until.Equal(want) {
		t.Errorf("second lock until %v, want %v", locked.Until, want)
	}
}

// TestRepeatedLocksNotifyOncePerWindow: the third lock in a row sends one
// notice; the sixth within 24 hours none; a later one again.
func TestRepeatedLocksNotifyOncePerWindow(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	lockAndWait := func() {
		f.lock(t)
		f.clk.advance(time.Hour + time.Second)
	}
	for range 2 {
		lockAndWait()
	}
	if n := f.lockNotices(t); n != 0 {
		t.Fatalf("%d notices after two locks", n)
	}
	lockAndWait()
	if n := f.lockNotices(t); n != 1 {
		t.Fatalf("%d notices after three locks, want 1", n)
	}
	for range 3 {
		lockAndWait()
	}
	if n := f.lockNotices(t); n != 1 {
		t.Errorf("%d notices after six locks within 24 h, want 1", n)
	}
	f.clk.advance(24 * time.Hour)
	for range 3 {
		lockAndWait()
	}
	if n := f.lockNotices(t); n != 2 {
		t.Errorf("%d notices after nine locks, the last three a day later, want 2", n)
	}
}
