package account_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// writeLog is the real store, noting every write a login commits: the
// counter it updated, or "history" for a line in the sign-in history.
type writeLog struct {
	store.Store
	mu     sync.Mutex
	writes []string
	// lockOnSettle, when set, is stored by staff at the moment a login
	// settles: after the login's look at anything and before its
	// transaction.
	lockOnSettle *store.PersonLock
	// onWrite, when set, runs before each write is noted.
	onWrite func()
}

func (w *writeLog) note(s string) {
	if w.onWrite != nil {
		w.onWrite()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, s)
}

func (w *writeLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.writes
	w.writes = nil
	return out
}

func (w *writeLog) UpdateCounter(ctx context.Context, key string, fn func(c *store.Counter) error) (store.Counter, error) {
	c, err := w.Store.UpdateCounter(ctx, key, fn)
	if err == nil {
		w.note(key)
	}
	return c, err
}

func (w *writeLog) UpdateCounterNotice(ctx context.Context, key string, fn func(c *store.Counter) (bool, error), n store.Notice) (store.Counter, error) {
	c, err := w.Store.UpdateCounterNotice(ctx, key, fn, n)
	if err == nil {
		w.note(key)
	}
	return c, err
}

func (w *writeLog) AddLoginEvent(ctx context.Context, e store.LoginEvent) error {
	err := w.Store.AddLoginEvent(ctx, e)
	if err == nil {
		w.note("history")
	}
	return err
}

func (w *writeLog) SettlePasswordLogin(ctx context.Context, key string, reset func(c *store.Counter) error, s store.Session, e store.LoginEvent,
	audit store.AuditAppend) error {
	if w.lockOnSettle != nil {
		if err := w.Store.LockPerson(ctx, *w.lockOnSettle); err != nil {
			return err
		}
	}
	err := w.Store.SettlePasswordLogin(ctx, key, reset, s, e, audit)
	if err == nil {
		w.note("settle " + key)
	}
	return err
}

// withWriteLog rebuilds the fixture's service on a writeLog.
func (f *fixture) withWriteLog(t *testing.T) *writeLog {
	t.Helper()
	w := &writeLog{Store: f.st}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.sessions = session.NewManager(w, session.Config{}, f.clk.now)
	f.svc = account.New(w, f.hasher, f.sessions, audit.New(f.st, audit.GenerateKey(), f.clk.now, logger), testNotices(t, f.clk.now),
		f.clk.now, account.Config{}, logger)
	return w
}

var standIn = regexp.MustCompile(`^login:-([1-9][0-9]*)$`)

// TestFailedLoginsWriteAlike: a wrong password, an unknown KVNR and a lock
// whose checks are spent commit the same number of writes, the first on a
// counter "login:<n>" in each case, so that their times do not tell a known
// person from an unknown one; a success reserves and then settles in one
// write.
func TestFailedLoginsWriteAlike(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	w := f.withWriteLog(t)
	ctx := t.Context()
	own := fmt.Sprintf("login:%d", f.person.ID)

	if _, err := f.login(t, "wrong"); !errors.Is(err, account.ErrLoginFailed) {
		t.Fatal(err)
	}
	wrong := w.take()
	if len(wrong) != 2 || wrong[0] != own || wrong[1] != "history" {
		t.Errorf("writes of a wrong password = %q, want [%s history]", wrong, own)
	}
	unknown := account.Login{KVNR: "T555558879", Password: "wrong"}
	if _, err := f.svc.Login(ctx, unknown, session.KindBrowser); !errors.Is(err, account.ErrLoginFailed) {
		t.Fatal(err)
	}
	got := w.take()
	if len(got) != len(wrong) || !standIn.MatchString(got[0]) {
		t.Errorf("writes of an unknown KVNR = %q, want %d, the first on a counter login:-<n>", got, len(wrong))
	}
	for range 4 + 3 { // the rest to the lock, and the lock's checks
		f.login(t, "wrong")
	}
	w.take()
	if _, err := f.login(t, "wrong"); !errors.Is(err, account.ErrLoginFailed) {
		t.Fatal(err)
	}
	got = w.take()
	if len(got) != len(wrong) || !standIn.MatchString(got[0]) {
		t.Errorf("writes of a wrong password against a spent lock = %q, want %d, the first on a counter login:-<n>", got, len(wrong))
	}
	f.clk.advance(2 * time.Minute)
	if _, err := f.login(t, chosen); err != nil {
		t.Fatal(err)
	}
	if got := w.take(); len(got) != 2 || got[0] != own || got[1] != "settle "+own {
		t.Errorf("writes of a success = %q, want the reservation and one settle of %s", got, own)
	}
}

// TestStandInCountersAreAFixedSet: failed logins of many KVNRs nobody has
// count on a fixed set of counters, so chosen KVNRs do not grow the table.
func TestStandInCountersAreAFixedSet(t *testing.T) {
	f := newFixture(t)
	w := f.withWriteLog(t)
	ctx := t.Context()
	for i := range 40 {
		// Malformed KVNRs take the same path as well-formed ones nobody has.
		kvnr := fmt.Sprintf("Z%09d", 123456789*i)
		if _, err := f.svc.Login(ctx, account.Login{KVNR: kvnr, Password: "x"}, session.KindBrowser); !errors.Is(err, account.ErrLoginFailed) {
			t.Fatal(err)
		}
	}
	for _, key := range w.take() {
		m := standIn.FindStringSubmatch(key)
		var n int
		if m != nil {
			fmt.Sscan(m[1], &n)
		}
		if m == nil || n > 1024 {
			t.Errorf("an unknown KVNR wrote %q, want a counter login:-<n>, n at most 1024", key)
		}
	}
}

// TestLoginThatRacesTheStaffLockKeepsNoSession: staff lock the person while
// the right password's login is between its checks and its settling; the
// login answers ErrPersonLocked, leaves no session and its attempt is given
// back.
func TestLoginThatRacesTheStaffLockKeepsNoSession(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	w := f.withWriteLog(t)
	w.lockOnSettle = &store.PersonLock{PersonID: f.person.ID, LockedAt: f.clk.now(), LockedBy: "staff:1"}
	ctx := t.Context()
	live, err := f.st.PersonSessions(ctx, f.person.ID, f.clk.now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, chosen); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("login racing the staff lock = %v, want ErrPersonLocked", err)
	}
	after, err := f.st.PersonSessions(ctx, f.person.ID, f.clk.now())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(live) {
		t.Errorf("%d live sessions after a login that raced the lock, want %d as before", len(after), len(live))
	}
	if st, err := account.NewDesk(f.svc).LockState(ctx, f.person.ID); err != nil || st.Failures != 0 {
		t.Errorf("attempt state: %+v, %v; want the right password not counted", st, err)
	}
}

// TestLoginAuditEntryCommitsWithItsSession: a login's "account.login" entry
// is stored by the transaction that stores its session: once for a login
// that succeeded, not at all for one that raced the staff lock.
func TestLoginAuditEntryCommitsWithItsSession(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	w := f.withWriteLog(t)
	ctx := t.Context()
	logins := func() int {
		t.Helper()
		entries, err := f.st.AuditEntries(ctx, 0, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Event == "account.login" {
				n++
			}
		}
		return n
	}
	before := logins()
	if _, err := f.login(t, chosen); err != nil {
		t.Fatal(err)
	}
	if got := logins(); got != before+1 {
		t.Errorf("%d account.login entries after a login, want %d", got, before+1)
	}
	w.lockOnSettle = &store.PersonLock{PersonID: f.person.ID, LockedAt: f.clk.now(), LockedBy: "staff:1"}
	if _, err := f.login(t, chosen); !errors.Is(err, session.ErrPersonLocked) {
		t.Fatalf("login racing the staff lock = %v, want ErrPersonLocked", err)
	}
	if got := logins(); got != before+1 {
		t.Errorf("%d account.login entries after a login that raced the lock, want %d as before", got, before+1)
	}
}

// admissions is a hasher that counts the callers it admitted and has not
// seen done.
type admissions struct {
	*countingHasher
	open atomic.Int64
}

func (a *admissions) Admit() (func(), error) {
	done, err := a.countingHasher.Admit()
	if err != nil {
		return nil, err
	}
	a.open.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() { a.open.Add(-1) })
		done()
	}, nil
}

// TestLoginEndsItsAdmissionAfterTheHash: a login's writes after its hash
// (settling a success, the stand-in write of an unknown KVNR) run outside
// the hasher's admission, so the callers waiting at Admit are let in while
// they commit instead of leaving a hash slot idle.
func TestLoginEndsItsAdmissionAfterTheHash(t *testing.T) {
	f := newFixture(t)
	f.withChosenPassword(t)
	w := f.withWriteLog(t)
	a := &admissions{countingHasher: f.hasher}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc = account.New(w, a, f.sessions, audit.New(f.st, audit.GenerateKey(), f.clk.now, logger), testNotices(t, f.clk.now),
		f.clk.now, account.Config{}, logger)
	var during []int64
	w.onWrite = func() { during = append(during, a.open.Load()) }
	if _, err := f.login(t, chosen); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(t.Context(), account.Login{KVNR: "T555558879", Password: "x"}, session.KindBrowser); !errors.Is(err, account.ErrLoginFailed) {
		t.Fatal(err)
	}
	// The writes: the reservation and the settling; the two stand-in writes.
	if len(during) != 4 || during[1] != 0 || during[3] != 0 {
		t.Errorf("callers admitted at each write = %v, want none at the second and fourth (after the hash)", during)
	}
	if n := a.open.Load(); n != 0 {
		t.Errorf("%d admissions left open", n)
	}
}
