package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestNoSessionWhileStaffLocked: while staff lock the person's access, no
// session starts, neither new (Create) nor in place of one (Replace, a
// level change); Locked says so; after the release both work again.
func TestNoSessionWhileStaffLocked(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{}, clk.now)
	ctx := t.Context()
	n := session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow, AMR: []string{"pwd"}, Origin: session.OriginPassword}
	tok, _, err := m.Create(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LockPerson(ctx, store.PersonLock{PersonID: id, LockedAt: clk.now(), LockedBy: "staff:1"}); err != nil {
		t.Fatal(err)
	}
	if locked, err := m.Locked(ctx, id); err != nil || !locked {
		t.Errorf("Locked = %v, %v; want true", locked, err)
	}
	if _, _, err := m.Create(ctx, n); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("Create during the lock = %v, want ErrPersonLocked", err)
	}
	up := n
	up.Level, up.Origin = session.LevelSubstantial, session.OriginDevice
	if _, _, err := m.Replace(ctx, tok, up); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("Replace during the lock = %v, want ErrPersonLocked", err)
	}
	if err := st.UnlockPerson(ctx, id); err != nil {
		t.Fatal(err)
	}
	if locked, err := m.Locked(ctx, id); err != nil || locked {
		t.Errorf("Locked after the release = %v, %v; want false", locked, err)
	}
	if _, _, err := m.Replace(ctx, tok, up); err != nil {
		t.Errorf("Replace after the release: %v", err)
	}
}

// lockOnInsert is the real store, with staff locking the person at the
// moment a session row is stored: after Create looked at the lock and
// before its row exists, the race a login can lose against the lock.
type lockOnInsert struct {
	store.Store
	lock store.PersonLock
}

func (l lockOnInsert) CreateSession(ctx context.Context, s store.Session) error {
	if err := l.Store.LockPerson(ctx, l.lock); err != nil {
		return err
	}
	return l.Store.CreateSession(ctx, s)
}

// TestLoginThatRacesTheLockKeepsNoSession: staff lock the person's access
// while a login is between its look at the lock and storing its session;
// the login is refused and leaves no live session.
func TestLoginThatRacesTheLockKeepsNoSession(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(lockOnInsert{Store: st, lock: store.PersonLock{PersonID: id, LockedAt: clk.now(), LockedBy: "staff:1"}},
		session.Config{}, clk.now)
	ctx := t.Context()
	n := session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow, AMR: []string{"pwd"}, Origin: session.OriginPassword}
	if _, _, err := m.Create(ctx, n); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("Create racing the lock = %v, want ErrPersonLocked", err)
	}
	live, err := st.PersonSessions(ctx, id, clk.now())
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 0 {
		t.Errorf("%d live sessions after a login that raced the lock, want none", len(live))
	}
}
