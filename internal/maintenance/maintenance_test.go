package maintenance_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/maintenance"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// storeApprovals expires approvals in the store at the clock's time, as
// package approval does.
type storeApprovals struct {
	st    store.Store
	now   func() time.Time
	calls atomic.Int64
}

func (a *storeApprovals) Expire(ctx context.Context) (int64, error) {
	a.calls.Add(1)
	return a.st.ExpireApprovals(ctx, a.now())
}

// provider records the provider steps.
type provider struct {
	mu      sync.Mutex
	cutoffs []time.Time
	ensured int
	fail    error
}

func (p *provider) Sweep(_ context.Context, cutoff time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutoffs = append(p.cutoffs, cutoff)
	return p.fail
}

func (p *provider) Ensure(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ensured++
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func seed(t *testing.T, st store.Store) store.PersonID {
	t.Helper()
	p := store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970", Street: "Weg",
		PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: t0}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonByKVNR(t.Context(), p.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func TestExpireMovesOnlyExpiredRequests(t *testing.T) {
	st := testdb.Open(t)
	pid := seed(t, st)
	for i, created := range []time.Time{t0, t0.Add(4 * time.Minute)} {
		a := store.Approval{ID: []string{"old", "young"}[i], PersonID: pid, Action: "address.change", Text: "x", Data: []byte(`{}`),
			ContentHash: make([]byte, 32), Level: "substantial", Status: store.ApprovalPending, CreatedAt: created,
			ExpiresAt: created.Add(5 * time.Minute)}
		if err := st.CreateApproval(t.Context(), a, t0.Add(-time.Hour), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(6 * time.Minute)
	s := maintenance.New(st, &storeApprovals{st: st, now: func() time.Time { return now }}, maintenance.NoProvider,
		func() time.Time { return now }, maintenance.Config{}, quiet())
	if n, err := s.Expire(t.Context()); err != nil || n != 1 {
		t.Errorf("Expire = %d, %v; want 1", n, err)
	}
	for id, want := range map[string]store.ApprovalStatus{"old": store.ApprovalExpired, "young": store.ApprovalPending} {
		if a, err := st.ApprovalByID(t.Context(), id); err != nil || a.Status != want {
			t.Errorf("%s: %s (%v), want %s", id, a.Status, err, want)
		}
	}
}

// TestCleanKeepsTheRetention: what expired within the retention stays, what
// expired before it goes; sign-in history older than 90 days goes; the
// provider is asked with the same cutoff.
func TestCleanKeepsTheRetention(t *testing.T) {
	st := testdb.Open(t)
	pid := seed(t, st)
	now := t0.Add(48 * time.Hour)
	for _, v := range []struct {
		digest  string
		expires time.Time
	}{{"long-gone", now.Add(-25 * time.Hour)}, {"recent", now.Add(-time.Hour)}, {"valid", now.Add(time.Hour)}} {
		if err := st.PutOneTime(t.Context(), store.OneTime{Kind: "test", Digest: []byte(v.digest), Subject: "s",
			CreatedAt: v.expires.Add(-time.Hour), ExpiresAt: v.expires}); err != nil {
			t.Fatal(err)
		}
	}
	for i, expires := range []time.Time{now.Add(-25 * time.Hour), now.Add(-time.Hour)} {
		if err := st.CreateSession(t.Context(), store.Session{TokenHash: []byte{byte(i + 1)}, PersonID: pid, Kind: "browser",
			Level: "low", Origin: "password", OriginAt: expires.Add(-time.Hour), CreatedAt: expires.Add(-time.Hour),
			LastSeenAt: expires.Add(-time.Hour), IdleExpiresAt: expires, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	for _, age := range []time.Duration{91 * 24 * time.Hour, 89 * 24 * time.Hour} {
		if err := st.AddLoginEvent(t.Context(), store.LoginEvent{PersonID: pid, At: now.Add(-age), Kind: "browser",
			Method: "password", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	staffID, err := st.AddStaff(t.Context(), store.StaffMember{Login: "erika", Name: "Erika", Role: "clerk", PasswordHash: "x",
		CreatedAt: t0, UpdatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	for i, expires := range []time.Time{now.Add(-25 * time.Hour), now.Add(-time.Hour)} {
		if err := st.CreateStaffSession(t.Context(), store.StaffSession{TokenHash: []byte{byte(i + 1)}, StaffID: staffID,
			CreatedAt: expires.Add(-time.Hour), LastSeenAt: expires.Add(-time.Hour), IdleExpiresAt: expires, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	p := &provider{}
	s := maintenance.New(st, &storeApprovals{st: st, now: func() time.Time { return now }}, p,
		func() time.Time { return now }, maintenance.Config{Retention: 24 * time.Hour}, quiet())
	got, err := s.Clean(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(maintenance.Cleaned{OneTimes: 1, Sessions: 1, LoginEvents: 1, StaffSessions: 1}, got); diff != "" {
		t.Errorf("Clean (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Time{now.Add(-24 * time.Hour)}, p.cutoffs); diff != "" || p.ensured != 1 {
		t.Errorf("provider: cutoffs (-want +got):\n%s, ensured %d times", diff, p.ensured)
	}
	// A failing step does not keep the others from running.
	p.fail = errors.New("provider down")
	if _, err := s.Clean(t.Context()); !errors.Is(err, p.fail) || p.ensured != 2 {
		t.Errorf("Clean with a failing provider = %v, ensured %d times", err, p.ensured)
	}
}

// TestRunKeepsTheIntervals: in a bubble of fake time, Run expires every
// ExpireEvery and cleans every CleanEvery, and stops with its context.
func TestRunKeepsTheIntervals(t *testing.T) {
	st := testdb.Open(t)
	synctest.Test(t, func(t *testing.T) {
		a := &storeApprovals{st: st, now: time.Now}
		p := &provider{}
		s := maintenance.New(st, a, p, time.Now, maintenance.Config{ExpireEvery: 30 * time.Second, CleanEvery: 10 * time.Minute}, quiet())
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Run(ctx)
		}()
		time.Sleep(10*time.Minute + time.Second)
		synctest.Wait()
		if n := a.calls.Load(); n != 20 {
			t.Errorf("%d expiry passes in 10 minutes, want 20", n)
		}
		p.mu.Lock()
		cleaned := len(p.cutoffs)
		p.mu.Unlock()
		if cleaned != 1 {
			t.Errorf("%d cleaning passes in 10 minutes, want 1", cleaned)
		}
		cancel()
		<-done
	})
}

func TestConfigValidate(t *testing.T) {
	if errs := (maintenance.Config{}).Validate(); len(errs) != 0 {
		t.Errorf("defaults: %v", errs)
	}
	bad := maintenance.Config{ExpireEvery: time.Millisecond, CleanEvery: time.Second, Retention: time.Minute}
	if errs := bad.Validate(); len(errs) != 3 {
		t.Errorf("bad config: %d problems, want 3: %v", len(errs), errs)
	}
}
