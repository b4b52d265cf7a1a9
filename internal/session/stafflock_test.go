package session_test

import (
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
