package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/store"
)

// callLog is the access flows' store, recording which methods a request
// calls, in order.
type callLog struct {
	access.Store
	mu    sync.Mutex
	calls []string
}

func (c *callLog) add(name string) { c.mu.Lock(); defer c.mu.Unlock(); c.calls = append(c.calls, name) }

func (c *callLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *callLog) PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error) {
	c.add("PersonByKVNR")
	return c.Store.PersonByKVNR(ctx, kvnr)
}

func (c *callLog) PersonByID(ctx context.Context, id store.PersonID) (store.Person, error) {
	c.add("PersonByID")
	return c.Store.PersonByID(ctx, id)
}

func (c *callLog) UpdatePerson(ctx context.Context, id store.PersonID, fn func(p *store.Person) error) (store.Person, error) {
	c.add("UpdatePerson")
	return c.Store.UpdatePerson(ctx, id, fn)
}

func (c *callLog) AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error) {
	c.add("AccountByPerson")
	return c.Store.AccountByPerson(ctx, id)
}

func (c *callLog) UpdateAccount(ctx context.Context, id store.PersonID, now time.Time, fn func(a *store.Account, exists bool) error,
	notices ...store.Notice) (store.Account, error) {
	c.add("UpdateAccount")
	return c.Store.UpdateAccount(ctx, id, now, fn, notices...)
}

func (c *callLog) AddIdentification(ctx context.Context, r store.Identification) error {
	c.add("AddIdentification")
	return c.Store.AddIdentification(ctx, r)
}

func (c *callLog) PutOneTime(ctx context.Context, v store.OneTime) error {
	c.add("PutOneTime")
	return c.Store.PutOneTime(ctx, v)
}

func (c *callLog) OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error) {
	c.add("OneTimeByDigest")
	return c.Store.OneTimeByDigest(ctx, kind, digest, now)
}

func (c *callLog) ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error) {
	c.add("ConsumeOneTime")
	return c.Store.ConsumeOneTime(ctx, kind, digest, now)
}

func (c *callLog) VoidOneTimes(ctx context.Context, kind, subject string, now time.Time) (int64, error) {
	c.add("VoidOneTimes")
	return c.Store.VoidOneTimes(ctx, kind, subject, now)
}

func (c *callLog) AddIntake(ctx context.Context, in store.Intake, limit int) error {
	c.add("AddIntake")
	return c.Store.AddIntake(ctx, in, limit)
}

func (c *callLog) ClaimIntakes(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Intake, error) {
	c.add("ClaimIntakes")
	return c.Store.ClaimIntakes(ctx, now, lease, limit)
}

func (c *callLog) DeleteIntake(ctx context.Context, id string) error {
	c.add("DeleteIntake")
	return c.Store.DeleteIntake(ctx, id)
}

func (c *callLog) PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error) {
	c.add("PersonLockByID")
	return c.Store.PersonLockByID(ctx, id)
}

// auditOutcomes returns the outcomes of the audit trail's entries of event.
func auditOutcomes(t *testing.T, f *fixture, event string) []string {
	t.Helper()
	entries, err := f.st.AuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range entries {
		if e.Event != event {
			continue
		}
		var d struct {
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Outcome)
	}
	return out
}

func backlog(t *testing.T, f *fixture) int {
	t.Helper()
	n, err := f.st.IntakeBacklog(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestResetRequestIsTheSameWhateverTheKVNR guards the rule that a reset
// request's answer cannot depend on whether its KVNR is known: the request
// itself makes the same store calls (one intake row, no lookup) and writes
// nothing else (no letter, no audit entry) for a person with a password,
// one without, a wrong birth date and an unknown KVNR; the worker does the
// rest.
func TestResetRequestIsTheSameWhateverTheKVNR(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now().AddDate(0, -1, 0))
	a, sink := newAccess(t, f)
	log := &callLog{Store: f.st}
	access.WithStore(a, log)
	known := access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}
	requests := []struct {
		name string
		in   access.Request
	}{
		{"known, no password", known},
		{"known, wrong birth date", access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-15"}},
		{"unknown KVNR", access.Request{KVNR: "T555558879", PostalCode: "10115", BirthDate: "1970-03-14"}},
		{"known, again", known},
	}
	var want []string
	for i, r := range requests {
		audited := len(auditOutcomes(t, f, "access.reset_requested"))
		if err := a.RequestReset(t.Context(), r.in); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		got := log.take()
		if i == 0 {
			want = got
			if !cmp.Equal(got, []string{"AddIntake"}) {
				t.Errorf("%s: store calls %v, want only AddIntake", r.name, got)
			}
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: store calls differ from the first request's (-first +this):\n%s", r.name, diff)
		}
		if len(sink.pdfs) != 0 {
			t.Errorf("%s: a letter before the worker ran", r.name)
		}
		if n := len(auditOutcomes(t, f, "access.reset_requested")); n != audited {
			t.Errorf("%s: the request recorded its outcome itself", r.name)
		}
		if n := backlog(t, f); n != i+1 {
			t.Errorf("%s: backlog %d, want %d", r.name, n, i+1)
		}
		f.clk.advance(time.Second) // the worker takes them in this order
	}
	if n, err := a.DrainIntake(t.Context()); err != nil || n != len(requests) {
		t.Fatalf("DrainIntake = %d, %v; want %d", n, err, len(requests))
	}
	if diff := cmp.Diff([]string{"queued", "no_match", "no_match", "queued"}, auditOutcomes(t, f, "access.reset_requested")); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if len(sink.pdfs) != 2 || backlog(t, f) != 0 {
		t.Errorf("after the worker: %d letters, backlog %d; want 2 and 0", len(sink.pdfs), backlog(t, f))
	}
}

// TestIntakeWorkerAfterACrash: a worker that claimed a request and died
// leaves it to the next claim after the lease, which queues the letter
// once; the dead worker coming back finds it handled and queues nothing,
// records nothing.
func TestIntakeWorkerAfterACrash(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now().AddDate(0, -1, 0))
	a, sink := newAccess(t, f)
	if err := a.RequestReset(t.Context(), access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14", ClientIP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	dead, err := f.st.ClaimIntakes(t.Context(), f.clk.now(), time.Minute, 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("claim = %v, %v", dead, err)
	}
	if n, err := a.DrainIntake(t.Context()); err != nil || n != 0 {
		t.Errorf("drain during the dead worker's lease = %d, %v; want 0", n, err)
	}
	f.clk.advance(time.Minute + time.Second)
	if n, err := a.DrainIntake(t.Context()); err != nil || n != 1 {
		t.Fatalf("drain after the lease = %d, %v; want 1", n, err)
	}
	if err := access.HandleIntake(t.Context(), a, dead[0]); err != nil {
		t.Errorf("the dead worker's late try = %v, want nil (handled elsewhere)", err)
	}
	letters, err := f.st.PersonLetters(t.Context(), f.person.ID)
	if err != nil || len(letters) != 1 || len(sink.pdfs) != 1 {
		t.Errorf("letters = %d (%d delivered), %v; want one", len(letters), len(sink.pdfs), err)
	}
	if got := auditOutcomes(t, f, "access.reset_requested"); !cmp.Equal(got, []string{"queued"}) {
		t.Errorf("outcomes = %v, want [queued] once", got)
	}
	entries, err := f.st.AuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Event == "access.reset_requested" && (e.ClientIP != "192.0.2.7" || e.Actor != "anonymous") {
			t.Errorf("audit entry = %+v; want the request's client IP, actor anonymous", e)
		}
	}
	if backlog(t, f) != 0 {
		t.Error("the request is still in the intake")
	}
}

// TestIntakeLimitRefusesAlike: past the limit every request, known or not,
// is refused with ErrIntakeFull and stores nothing; once the worker ran,
// requests are taken again.
func TestIntakeLimitRefusesAlike(t *testing.T) {
	f := newFixture(t)
	a, _ := newAccessWith(t, f, flowOptions{intakeLimit: 2})
	known := access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}
	unknown := access.Request{KVNR: "T555558879", PostalCode: "10115", BirthDate: "1970-03-14"}
	for _, in := range []access.Request{unknown, unknown} {
		if err := a.RequestReset(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	for name, in := range map[string]access.Request{"known": known, "unknown": unknown} {
		if err := a.RequestReset(t.Context(), in); !errors.Is(err, access.ErrIntakeFull) {
			t.Errorf("%s past the limit = %v, want ErrIntakeFull", name, err)
		}
	}
	if backlog(t, f) != 2 {
		t.Errorf("backlog %d, want 2", backlog(t, f))
	}
	if _, err := a.DrainIntake(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestReset(t.Context(), known); err != nil {
		t.Errorf("after the worker ran = %v, want nil", err)
	}
}

// TestIntakeKeepsTheLimits: the worker's letters count against the
// person's limit as the request's did; over it the request leaves the
// intake with outcome "limit" and no letter.
func TestIntakeKeepsTheLimits(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now().AddDate(0, -1, 0))
	a, sink := newAccess(t, f)
	me := access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}
	for range 4 {
		if err := a.RequestReset(t.Context(), me); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.DrainIntake(t.Context()); err != nil || n != 4 {
		t.Fatalf("DrainIntake = %d, %v; want 4", n, err)
	}
	if diff := cmp.Diff([]string{"queued", "queued", "queued", "limit"}, auditOutcomes(t, f, "access.reset_requested")); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if len(sink.pdfs) != 3 || backlog(t, f) != 0 {
		t.Errorf("%d letters, backlog %d; want 3 (the person's limit) and 0", len(sink.pdfs), backlog(t, f))
	}
}

// TestIntakeDropsWhatNoKeyOpens: a request whose seal no key opens stays
// for its tries (a key may come back), then leaves the intake with an
// audit entry instead of being tried for ever.
func TestIntakeDropsWhatNoKeyOpens(t *testing.T) {
	f := newFixture(t)
	a, sink := newAccess(t, f)
	if err := f.st.AddIntake(t.Context(), store.Intake{ID: "lost", Kind: "reset",
		Data: store.Sealed{KeyID: "gone", Ciphertext: []byte("x")}, CreatedAt: f.clk.now()}, 10); err != nil {
		t.Fatal(err)
	}
	for try := 1; try <= 5; try++ {
		want := 0
		if try == 5 {
			want = 1 // dropped
		}
		if n, err := a.DrainIntake(t.Context()); err != nil || n != want {
			t.Fatalf("try %d: DrainIntake = %d, %v; want %d handled", try, n, err, want)
		}
		if try < 5 && backlog(t, f) != 1 {
			t.Fatalf("try %d: the request was dropped early", try)
		}
		f.clk.advance(2 * time.Minute)
	}
	if backlog(t, f) != 0 {
		t.Error("the request is still in the intake after its tries")
	}
	entries, err := f.st.AuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, e := range entries {
		if e.Event == "access.intake_dropped" {
			dropped++
		}
	}
	if dropped != 1 || len(sink.pdfs) != 0 {
		t.Errorf("%d intake_dropped entries, %d letters; want 1 and 0", dropped, len(sink.pdfs))
	}
}
