package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// testSettlePasswordLogin: a settled login resets the counter and stores the
// session, its history line and its audit entry together; a staff lock, or
// a reset that fails, writes none of them.
func testSettlePasswordLogin(t *testing.T, s store.Store) {
	ctx := t.Context()
	id, locked := seedPerson(t, s, 1), seedPerson(t, s, 2)
	reset := func(c *store.Counter) error {
		c.Value, c.LockedUntil, c.UpdatedAt = 0, time.Time{}, at(1)
		return nil
	}
	line := func(p store.PersonID) store.LoginEvent {
		return store.LoginEvent{PersonID: p, At: at(0), Kind: "browser", Method: "letter", Outcome: "ok", UserAgent: "Test/1.0"}
	}
	for _, p := range []store.PersonID{id, locked} {
		if _, err := s.UpdateCounter(ctx, fmt.Sprintf("login:%d", p), func(c *store.Counter) error {
			c.Value, c.WindowStart, c.UpdatedAt = 4, at(-5), at(0)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LockPerson(ctx, store.PersonLock{PersonID: locked, LockedAt: at(0), LockedBy: "staff:1"}); err != nil {
		t.Fatal(err)
	}

	appendN(t, s, 2, "before")
	entry := func(event string) store.AuditAppend {
		return func(head store.AuditHead) ([]store.AuditEntry, error) {
			return []store.AuditEntry{chainEntry(head.Seq, head.Hash, event)}, nil
		}
	}
	sess := session(id, "settle-a", 0)
	if err := s.SettlePasswordLogin(ctx, fmt.Sprintf("login:%d", id), reset, sess, line(id), entry("login.a")); err != nil {
		t.Fatal(err)
	}
	if head, err := s.AuditHead(ctx); err != nil || head.Seq != 3 {
		t.Errorf("audit head after the settled login = %+v, %v; want seq 3", head, err)
	}
	if got, err := s.AuditEntries(ctx, 2, 10); err != nil || len(got) != 1 || got[0].Event != "login.a" {
		t.Errorf("audit entries after the settled login = %+v, %v; want login.a", got, err)
	}
	if got, err := s.SessionByHash(ctx, []byte("settle-a"), at(1)); err != nil {
		t.Errorf("session after the settled login: %v", err)
	} else if diff := cmp.Diff(sess, got); diff != "" {
		t.Errorf("settled session (-want +got):\n%s", diff)
	}
	if got, err := s.PersonLoginEvents(ctx, id, at(-1), 10); err != nil || len(got) != 1 || got[0] != line(id) {
		t.Errorf("history after the settled login = %+v, %v; want the one line", got, err)
	}
	want := store.Counter{Key: fmt.Sprintf("login:%d", id), WindowStart: at(-5), UpdatedAt: at(1)}
	if got, err := s.CounterByKey(ctx, want.Key); err != nil {
		t.Fatal(err)
	} else if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counter after the settled login (-want +got):\n%s", diff)
	}

	// A counter that does not exist yet is reset into existence.
	if err := s.SettlePasswordLogin(ctx, "login:new", reset, session(id, "settle-b", 0), line(id), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CounterByKey(ctx, "login:new"); err != nil || !got.UpdatedAt.Equal(at(1)) {
		t.Errorf("new counter = %+v, %v", got, err)
	}

	// Staff locked the person: nothing is written.
	key := fmt.Sprintf("login:%d", locked)
	if err := s.SettlePasswordLogin(ctx, key, reset, session(locked, "settle-c", 0), line(locked), entry("login.c")); !errors.Is(err, store.ErrPersonLocked) {
		t.Errorf("SettlePasswordLogin(staff locked) = %v, want ErrPersonLocked", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("settle-c"), at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a staff-locked person = %v, want ErrNotFound", err)
	}
	if got, err := s.PersonLoginEvents(ctx, locked, at(-1), 10); err != nil || len(got) != 0 {
		t.Errorf("history of a staff-locked person = %+v, %v; want none", got, err)
	}
	if got, err := s.CounterByKey(ctx, key); err != nil || got.Value != 4 {
		t.Errorf("counter of a staff-locked person = %+v, %v; want 4 kept", got, err)
	}

	// A reset that fails writes nothing either.
	boom := errors.New("boom")
	if err := s.SettlePasswordLogin(ctx, "login:other", func(*store.Counter) error { return boom }, session(id, "settle-d", 0), line(id),
		entry("login.d")); !errors.Is(err, boom) {
		t.Errorf("SettlePasswordLogin(failing reset) = %v, want its error", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("settle-d"), at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session after a failing reset = %v, want ErrNotFound", err)
	}
	// Neither wrote its audit entry; an entry that does not continue the
	// chain undoes the whole login.
	if head, err := s.AuditHead(ctx); err != nil || head.Seq != 3 {
		t.Errorf("audit head after the refused logins = %+v, %v; want seq 3", head, err)
	}
	broken := func(head store.AuditHead) ([]store.AuditEntry, error) {
		return []store.AuditEntry{chainEntry(head.Seq+1, head.Hash, "login.e")}, nil
	}
	if err := s.SettlePasswordLogin(ctx, fmt.Sprintf("login:%d", id), reset, session(id, "settle-e", 0), line(id), broken); !errors.Is(err, store.ErrConflict) {
		t.Errorf("SettlePasswordLogin(broken entry) = %v, want ErrConflict", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("settle-e"), at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session with a broken audit entry = %v, want ErrNotFound", err)
	}
}

// testSettlePasswordLoginRacesTheLock: logins settle while staff lock their
// persons as LockAccess does (LockPerson, then DeletePersonSessions) and
// while other entries are appended to the audit chain; no session outlives a
// lock, however the two interleave, and the chain holds one entry per
// settled login and per append, in one unbroken sequence.
func testSettlePasswordLoginRacesTheLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 30
	ids := make([]store.PersonID, n)
	for i := range ids {
		ids[i] = seedPerson(t, s, i+1)
	}
	reset := func(c *store.Counter) error { c.Value = 0; return nil }
	head0, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var settled atomic.Int64
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			e := store.LoginEvent{PersonID: id, At: at(0), Kind: "browser", Method: "password", Outcome: "ok"}
			err := s.SettlePasswordLogin(ctx, fmt.Sprintf("login:%d", id), reset, session(id, fmt.Sprintf("race-%d", i), 0), e,
				func(head store.AuditHead) ([]store.AuditEntry, error) {
					return []store.AuditEntry{chainEntry(head.Seq, head.Hash, "login")}, nil
				})
			if err == nil {
				settled.Add(1)
			} else if !errors.Is(err, store.ErrPersonLocked) {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := s.AppendAudit(ctx, func(head store.AuditHead) ([]store.AuditEntry, error) {
				return []store.AuditEntry{chainEntry(head.Seq, head.Hash, "other")}, nil
			}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := s.LockPerson(ctx, store.PersonLock{PersonID: id, LockedAt: at(0), LockedBy: "staff:1"}); err != nil {
				t.Error(err)
				return
			}
			if _, err := s.DeletePersonSessions(ctx, id, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, err := s.AuditEntries(ctx, head0.Seq, 10*n)
	if err != nil {
		t.Fatal(err)
	}
	var logins int64
	for i, e := range entries {
		if e.Seq != head0.Seq+int64(i)+1 {
			t.Fatalf("audit entry %d has seq %d, want %d", i, e.Seq, head0.Seq+int64(i)+1)
		}
		if e.Event == "login" {
			logins++
		}
	}
	if len(entries) != n+int(settled.Load()) || logins != settled.Load() {
		t.Errorf("%d audit entries, %d of logins; want %d and %d", len(entries), logins, n+int(settled.Load()), settled.Load())
	}
	for _, id := range ids {
		if live, err := s.PersonSessions(ctx, id, at(1)); err != nil || len(live) != 0 {
			t.Errorf("person %d: %d live sessions after a lock that raced the login (%v), want none", id, len(live), err)
		}
	}
}
