package account_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingHasher counts real password checks (Verify, and the verdicts of
// Derive taken), not dummy ones, not the hashes whose verdict was dropped
// uncalled, and not the calls turned away busy before they hashed (on a
// loaded machine a burst's calls wait longer than the pool's queue timeout;
// a busy call checks nothing and its attempt is given back).
type countingHasher struct {
	*password.Hasher
	verifies atomic.Int64
}

func (h *countingHasher) Derive(ctx context.Context, pw, stored string) (password.Verdict, error) {
	v, err := h.Hasher.Derive(ctx, pw, stored)
	if err != nil {
		return nil, err
	}
	return func() (bool, bool) {
		h.verifies.Add(1)
		return v()
	}, nil
}

func (h *countingHasher) Verify(ctx context.Context, pw, stored string) (bool, bool, error) {
	ok, rehash, err := h.Hasher.Verify(ctx, pw, stored)
	if !errors.Is(err, password.ErrBusy) {
		h.verifies.Add(1)
	}
	return ok, rehash, err
}

// testNotices makes notices sealed with a fresh test key.
func testNotices(t testing.TB, now func() time.Time) *notice.Maker {
	t.Helper()
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return notice.NewMaker(ring, now, nil)
}

// noticeCount is how many notices are queued for the fixture's person.
func (f *fixture) noticeCount(t *testing.T) int {
	t.Helper()
	list, err := f.st.PersonNotices(t.Context(), f.person.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// lockNotices is how many repeated-lock notices are queued for the fixture's
// person (merged ones counted with their count).
func (f *fixture) lockNotices(t *testing.T) int {
	t.Helper()
	list, err := f.st.PersonNotices(t.Context(), f.person.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range list {
		if x.Kind == string(notice.LoginLocked) {
			n += x.Count
		}
	}
	return n
}

type fixture struct {
	st       store.Store
	svc      *account.Service
	sessions *session.Manager
	hasher   *countingHasher
	clk      *clock
	person   store.Person
}

const kvnr = "X110411675"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := testdb.Open(t)
	p := store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember,
		Digest: []byte("d"), UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, _ = st.PersonByKVNR(t.Context(), kvnr)
	// A queue timeout longer than any test: the tests are about attempt
	// limits, and a slow machine must not turn calls away busy (a busy
	// call checks nothing and gives its attempt back, so a burst would
	// leave some of the lock's checks unspent).
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4,
		password.WithQueueTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	sessions := session.NewManager(st, session.Config{}, clk.now)
	f := &fixture{st: st, sessions: sessions, hasher: &countingHasher{Hasher: h}, clk: clk, person: p}
	f.svc = account.New(st, f.hasher, sessions, audit.New(st, audit.GenerateKey(), clk.now, logger), testNotices(t, clk.now), clk.now, account.Config{}, logger)
	return f
}

func (f *fixture) login(t *testing.T, pw string) (account.LoginResult, error) {
	t.Helper()
	return f.svc.Login(t.Context(), account.Login{KVNR: kvnr, Password: pw, ClientIP: "192.0.2.1"}, session.KindBrowser)
}

const initial = "ABCD-EFGH-JKLM"

func TestInitialPasswordForcesChange(t *testing.T) {
	f := newFixture(t)
	if _, err := f.login(t, initial); !errors.Is(err, account.ErrLoginFailed) {
		t.Fatalf("login without account = %v", err)
	}
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	res, err := f.login(t, initial)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Session.MustChangePassword || res.Session.Level != "low" || res.Session.Origin != "letter" {
		t.Errorf("session after initial login: %+v", res.Session)
	}
	// The policy refuses a weak or personal password, with reasons.
	err = f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, "Müller1970", "192.0.2.1")
	var refused *account.RefusedError
	if !errors.As(err, &refused) || len(refused.Reasons) == 0 {
		t.Fatalf("weak new password = %v", err)
	}
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, "wrong-initial", "Kastanienbaum im Herbstwind", "192.0.2.1"); !errors.Is(err, account.ErrWrongPassword) {
		t.Errorf("wrong current = %v", err)
	}
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, "Kastanienbaum im Herbstwind", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	s, err := f.sessions.Authenticate(t.Context(), res.Token)
	if err != nil || s.MustChangePassword {
		t.Errorf("new session = %+v, %v", s, err)
	}
	if n := f.noticeCount(t); n != 0 {
		t.Errorf("replacing the initial password sent %d notices", n)
	}
	if _, err := f.login(t, initial); !errors.Is(err, account.ErrLoginFailed) {
		t.Errorf("initial password still works: %v", err)
	}
	if _, err := f.login(t, "Kastanienbaum im Herbstwind"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, "NEW-INITIAL-PW"); !errors.Is(err, account.ErrHasPassword) {
		t.Errorf("initial password over a chosen one = %v", err)
	}
}

func TestInitialPasswordExpires(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(31 * 24 * time.Hour)
	if _, err := f.login(t, initial); !errors.Is(err, account.ErrLoginFailed) {
		t.Errorf("expired initial password = %v", err)
	}
}

func TestChangePasswordEndsOtherSessionsAndNotifies(t *testing.T) {
	f := newFixture(t)
	f.svc.SetInitialPassword(t.Context(), f.person.ID, initial)
	res, _ := f.login(t, initial)
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, "Kastanienbaum im Herbstwind", ""); err != nil {
		t.Fatal(err)
	}
	tok := res.Token
	other, err := f.login(t, "Kastanienbaum im Herbstwind")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := f.sessions.Authenticate(t.Context(), tok)
	if err := f.svc.ChangePassword(t.Context(), tok, s, "Kastanienbaum im Herbstwind", "Leuchtturm an der Ostsee", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sessions.Authenticate(t.Context(), other.Token); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("other session survived a password change: %v", err)
	}
	if n := f.noticeCount(t); n != 1 {
		t.Errorf("notices = %d, want 1", n)
	}
}

// TestFailuresLookAlike: unknown KVNR, wrong password and locked account give the
// same error.
func TestFailuresLookAlike(t *testing.T) {
	f := newFixture(t)
	f.svc.SetInitialPassword(t.Context(), f.person.ID, initial)
	unknown := account.Login{KVNR: "T555558879", Password: "x", ClientIP: "192.0.2.1"}
	malformed := account.Login{KVNR: "not a kvnr", Password: "x"}
	for _, in := range []account.Login{unknown, malformed} {
		if _, err := f.svc.Login(t.Context(), in, session.KindBrowser); !errors.Is(err, account.ErrLoginFailed) || err.Error() != account.ErrLoginFailed.Error() {
			t.Errorf("Login(%q) = %v", in.KVNR, err)
		}
	}
	for range 5 {
		if _, err := f.login(t, "wrong"); err != account.ErrLoginFailed {
			t.Errorf("wrong password = %v", err)
		}
	}
	// Locked now: a wrong password fails with the same error; the right
	// one is told of the lock (lock_test.go).
	if _, err := f.login(t, "wrong"); err != account.ErrLoginFailed {
		t.Errorf("wrong password on the locked account = %v", err)
	}
	var locked *account.LockedError
	if _, err := f.login(t, initial); !errors.As(err, &locked) {
		t.Errorf("right password on the locked account = %v, want *LockedError", err)
	}
	f.clk.advance(61 * time.Second)
	if _, err := f.login(t, initial); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}

func TestLockEscalates(t *testing.T) {
	f := newFixture(t)
	f.svc.SetInitialPassword(t.Context(), f.person.ID, initial)
	for round, lock := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		for range 5 {
			f.login(t, "wrong")
		}
		f.clk.advance(lock - time.Second)
		if _, err := f.login(t, initial); err == nil {
			t.Fatalf("round %d: lock shorter than %v", round+1, lock)
		}
		f.clk.advance(2 * time.Second)
		if round == 2 {
			if _, err := f.login(t, initial); err != nil {
				t.Errorf("round %d: still locked after %v: %v", round+1, lock, err)
			}
		}
	}
}

// TestParallelWrongPasswordsCheckAtMostTheLimit fires 40 wrong passwords at once:
// only MaxFailures are ever checked, and the lock's own LockedChecks; the others
// meet the lock, and then even the right password gets ErrLoginFailed.
func TestParallelWrongPasswordsCheckAtMostTheLimit(t *testing.T) {
	f := newFixture(t)
	f.svc.SetInitialPassword(t.Context(), f.person.ID, initial)
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if _, err := f.login(t, "wrong"); !errors.Is(err, account.ErrLoginFailed) && !errors.Is(err, password.ErrBusy) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.hasher.verifies.Load(); n > 5+3 {
		t.Errorf("%d passwords checked in parallel, limit 5 + 3 during the lock", n)
	}
	if _, err := f.login(t, initial); !errors.Is(err, account.ErrLoginFailed) {
		t.Errorf("right password after the burst = %v, want locked", err)
	}
}

// TestLanguageChoice: the language a person chooses is kept on the account
// and every login returns it; only a language of the portal is kept, and a
// person without an account has nothing to keep it on.
func TestLanguageChoice(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.SetLanguage(t.Context(), f.person.ID, lang.English); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("without an account: %v, want store.ErrNotFound", err)
	}
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	res, err := f.login(t, initial)
	if err != nil || res.Language != "" {
		t.Fatalf("login before a choice: language %q, %v", res.Language, err)
	}
	if err := f.svc.SetLanguage(t.Context(), f.person.ID, lang.Language("fr")); err == nil {
		t.Error("French was kept")
	}
	if err := f.svc.SetLanguage(t.Context(), f.person.ID, lang.English); err != nil {
		t.Fatal(err)
	}
	if res, err = f.login(t, initial); err != nil || res.Language != "en" {
		t.Errorf("login after choosing English: language %q, %v", res.Language, err)
	}
	if acct, err := f.st.AccountByPerson(t.Context(), f.person.ID); err != nil || acct.Language != "en" || acct.PasswordHash == "" {
		t.Errorf("account after the choice: %+v, %v", acct, err)
	}
	// A password set after a proof of identity starts a session too.
	res, err = f.svc.SetProvenPassword(t.Context(), f.person, "Kastanienbaum im Herbstwind",
		session.New{PersonID: f.person.ID, Kind: session.KindBrowser, Level: session.LevelHigh, Origin: session.OriginEID}, "eid")
	if err != nil || res.Language != "en" {
		t.Errorf("proven password: language %q, %v", res.Language, err)
	}
}
