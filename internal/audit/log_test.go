package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pforte/pforte/internal/store"
)

// stepClock returns a clock that starts at start and advances by step on every
// call. The step has sub-microsecond parts so that truncation matters.
func stepClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}

var clockStart = time.Date(2026, 11, 29, 8, 0, 0, 0, time.FixedZone("CET", 3600))

func newTestLog(c *memChain) *Log {
	return New(c, testKey, stepClock(clockStart, time.Millisecond+789), nil)
}

func TestRecordWritesChain(t *testing.T) {
	c := &memChain{}
	l := newTestLog(c)
	events := []Event{
		{Actor: "import", Event: "registry.import", Details: map[string]any{"inserted": 12, "updated": 3}},
		{Actor: "person:42", Event: "account.login_failed", Subject: "account:42", ClientIP: "192.0.2.7", Details: map[string]any{"attempt": 2}},
		{Actor: "staff:1", Event: "approval.granted", Subject: "person:42", ClientIP: "2001:db8::1"},
	}
	for _, ev := range events {
		if err := l.Record(t.Context(), ev); err != nil {
			t.Fatalf("Record(%s): %v", ev.Event, err)
		}
	}
	got, err := c.AuditEntries(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	at := func(n int) time.Time {
		return clockStart.Add(time.Duration(n) * (time.Millisecond + 789)).UTC().Truncate(time.Microsecond)
	}
	want := []store.AuditEntry{
		{Seq: 1, Time: at(1), Actor: "import", Event: "registry.import", Details: []byte(`{"inserted":12,"updated":3}`)},
		{Seq: 2, Time: at(2), Actor: "person:42", Event: "account.login_failed", Subject: "account:42", ClientIP: "192.0.2.7", Details: []byte(`{"attempt":2}`)},
		{Seq: 3, Time: at(3), Actor: "staff:1", Event: "approval.granted", Subject: "person:42", ClientIP: "2001:db8::1", Details: []byte(`{}`)},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(store.AuditEntry{}, "PrevHash", "Hash")); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
	for i, e := range got {
		if e.Time.Location() != time.UTC {
			t.Errorf("entry %d: time zone %v, want UTC", e.Seq, e.Time.Location())
		}
		if diff := cmp.Diff(keyedHash(testKey, e), e.Hash); diff != "" {
			t.Errorf("entry %d: stored hash is not the entry's hash (-want +got):\n%s", e.Seq, diff)
		}
		if i > 0 {
			if diff := cmp.Diff(got[i-1].Hash, e.PrevHash); diff != "" {
				t.Errorf("entry %d: PrevHash mismatch (-want +got):\n%s", e.Seq, diff)
			}
		} else if len(e.PrevHash) != 0 {
			t.Errorf("entry 1: PrevHash = %x, want empty", e.PrevHash)
		}
	}
	res, err := Verify(t.Context(), c, testKey, nil, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Entries != 3 {
		t.Errorf("Verify: Entries = %d, want 3", res.Entries)
	}
}

// TestWithinContinuesTheChain: an entry appended through Within by another
// write's transaction continues the chain between Record's entries and
// verifies with the key; an invalid event is refused before any write.
func TestWithinContinuesTheChain(t *testing.T) {
	c := &memChain{}
	l := newTestLog(c)
	if err := l.Record(t.Context(), Event{Actor: "import", Event: "registry.import"}); err != nil {
		t.Fatal(err)
	}
	fn, err := l.Within(Event{Actor: "person:42", Event: "account.login", Subject: "person:42", Details: map[string]any{"kind": "app"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AppendAudit(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(t.Context(), Event{Actor: "staff:1", Event: "approval.granted"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.AuditEntries(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Event != "account.login" || got[1].Seq != 2 || string(got[1].Details) != `{"kind":"app"}` {
		t.Fatalf("entries = %+v, want account.login as the second", got)
	}
	if res, err := Verify(t.Context(), c, testKey, nil, nil); err != nil || res.Entries != 3 {
		t.Fatalf("Verify = %+v, %v; want 3 entries", res, err)
	}
	if _, err := l.Within(Event{Actor: "", Event: "account.login"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Within(no actor) = %v, want ErrInvalid", err)
	}
}

func TestRecordValidation(t *testing.T) {
	ok := Event{Actor: "person:1", Event: "account.login", Subject: "account:1"}
	with := func(change func(e *Event)) Event {
		e := ok
		change(&e)
		return e
	}
	tests := []struct {
		name    string
		ev      Event
		wantErr string // substring; empty means success
	}{
		{"valid", ok, ""},
		{"valid event name charset", with(func(e *Event) { e.Event = "a0_.-z" }), ""},
		{"longest event name", with(func(e *Event) { e.Event = "a" + strings.Repeat("b", 63) }), ""},
		{"nested details", with(func(e *Event) {
			e.Details = map[string]any{"client": "portal", "scopes": []string{"openid"}, "n": map[string]int{"x": 1}}
		}), ""},
		{"details at the size limit", with(func(e *Event) {
			e.Details = map[string]any{"x": strings.Repeat("a", MaxDetailsSize-len(`{"x":""}`))}
		}), ""},
		{"empty event", with(func(e *Event) { e.Event = "" }), "event name"},
		{"event starts with digit", with(func(e *Event) { e.Event = "1login" }), "event name"},
		{"event upper case", with(func(e *Event) { e.Event = "Account.login" }), "event name"},
		{"event with space", with(func(e *Event) { e.Event = "account login" }), "event name"},
		{"event too long", with(func(e *Event) { e.Event = "a" + strings.Repeat("b", 64) }), "event name"},
		{"no actor", with(func(e *Event) { e.Actor = "" }), "actor missing"},
		{"actor too long", with(func(e *Event) { e.Actor = strings.Repeat("a", 129) }), "actor longer than 128 bytes"},
		{"actor control char", with(func(e *Event) { e.Actor = "person:1\nforged" }), "actor has control characters"},
		{"subject not utf-8", with(func(e *Event) { e.Subject = "person:\xff" }), "subject not UTF-8"},
		{"subject too long", with(func(e *Event) { e.Subject = strings.Repeat("s", 257) }), "subject longer than 256 bytes"},
		{"subject kvnr", with(func(e *Event) { e.Subject = "kvnr:A123456789" }), "subject looks like it holds a KVNR"},
		{"client ip with port", with(func(e *Event) { e.ClientIP = "192.0.2.1:443" }), "client ip"},
		{"client ip not canonical", with(func(e *Event) { e.ClientIP = "2001:DB8::1" }), "client ip"},
		{"client ip garbage", with(func(e *Event) { e.ClientIP = "localhost" }), "client ip"},
		{"details too large", with(func(e *Event) {
			e.Details = map[string]any{"x": strings.Repeat("a", MaxDetailsSize)}
		}), "details are 4104 bytes, limit 4096"},
		{"details not encodable", with(func(e *Event) { e.Details = map[string]any{"x": math.NaN()} }), "details"},
		{"details password", with(func(e *Event) { e.Details = map[string]any{"Password": "x"} }), `key "Password"`},
		{"details nested token", with(func(e *Event) {
			e.Details = map[string]any{"oidc": map[string]any{"refresh-token": "x"}}
		}), `key "refresh-token"`},
		{"details birth date in list", with(func(e *Event) {
			e.Details = map[string]any{"changes": []any{map[string]any{"birth_date": "1970"}}}
		}), `key "birth_date"`},
		{"details kvnr value", with(func(e *Event) { e.Details = map[string]any{"ref": "X987654321"} }), "a value looks like a KVNR"},
		{"details struct with code", with(func(e *Event) {
			e.Details = map[string]any{"letter": struct{ Code string }{"ABCD"}}
		}), `key "Code"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &memChain{}
			err := newTestLog(c).Record(t.Context(), tt.ev)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Record: %v", err)
				}
				if got := c.appends.Load(); got != 1 {
					t.Errorf("appends = %d, want 1", got)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Record error = %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
			if got := c.appends.Load(); got != 0 {
				t.Errorf("appends = %d after invalid event, want 0", got)
			}
		})
	}
}

func TestValidationErrorsHideValues(t *testing.T) {
	secrets := []Event{
		{Actor: "person:1", Event: "x", Subject: "A123456789"},
		{Actor: "person:1", Event: "x", Details: map[string]any{"ref": "A123456789"}},
		{Actor: "person:1", Event: "x", Details: map[string]any{"pin": "A123456789"}},
		{Actor: "person:1", Event: "x", ClientIP: "A123456789"},
	}
	for _, ev := range secrets {
		_, err := prepare(ev)
		if err == nil {
			t.Fatalf("prepare(%+v) succeeded", ev)
		}
		if strings.Contains(err.Error(), "A123456789") {
			t.Errorf("error %q repeats the value", err)
		}
	}
}

func TestContainsKVNR(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"A123456789", true},
		{"kvnr A123456789.", true},
		{"x:Z000000000", true},
		{"A12345678", false},
		{"A1234567890", false},
		{"aA123456789", false},
		{"a123456789", false},
		{"person:123456789", false},
		{"AB123456789", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := containsKVNR(tt.s); got != tt.want {
			t.Errorf("containsKVNR(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestRecordConcurrent(t *testing.T) {
	const goroutines, perGoroutine = 64, 50
	tests := []struct {
		name  string
		chain *memChain
	}{
		{"fsync", &memChain{commitDelay: 50 * time.Microsecond}},
		{"store retries fn", &memChain{commitDelay: 50 * time.Microsecond, runTwice: true}},
		{"no delay", &memChain{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(tt.chain)
			var wg sync.WaitGroup
			errs := make(chan error, goroutines*perGoroutine)
			for g := range goroutines {
				wg.Go(func() {
					for i := range perGoroutine {
						err := l.Record(t.Context(), Event{
							Actor:   fmt.Sprintf("person:%d", g),
							Event:   "account.login",
							Details: map[string]any{"i": i},
						})
						if err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("Record: %v", err)
			}

			res, err := Verify(t.Context(), tt.chain, testKey, nil, nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Entries != goroutines*perGoroutine {
				t.Errorf("Verify: Entries = %d, want %d", res.Entries, goroutines*perGoroutine)
			}
			appends := tt.chain.appends.Load()
			t.Logf("%d entries in %d appends, largest batch %d", res.Entries, appends, tt.chain.maxBatch.Load())
			if tt.chain.commitDelay > 0 && appends >= res.Entries {
				t.Errorf("appends = %d for %d entries: no batching", appends, res.Entries)
			}
			if got := tt.chain.maxBatch.Load(); got > maxBatch {
				t.Errorf("largest batch = %d, want <= %d", got, maxBatch)
			}
			assertIdle(t, l)
		})
	}
}

func TestRecordBatchBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &memChain{gate: make(chan struct{})}
		l := newTestLog(c)
		const n = 1 + maxBatch + 10
		var wg sync.WaitGroup
		wg.Go(func() { l.Record(t.Context(), Event{Actor: "system", Event: "first"}) })
		synctest.Wait() // the first is the leader, held in the store
		for range n - 1 {
			wg.Go(func() { l.Record(t.Context(), Event{Actor: "system", Event: "queued"}) })
		}
		synctest.Wait()
		close(c.gate)
		wg.Wait()
		if got, want := c.appends.Load(), int64(3); got != want {
			t.Errorf("appends = %d, want %d (1, then %d, then 10)", got, want, maxBatch)
		}
		if got := c.maxBatch.Load(); got != maxBatch {
			t.Errorf("largest batch = %d, want %d", got, maxBatch)
		}
		if _, err := Verify(t.Context(), c, testKey, nil, nil); err != nil {
			t.Errorf("Verify: %v", err)
		}
		assertIdle(t, l)
	})
}

// recordAsync starts Record in a goroutine and waits until everything in the
// bubble is blocked, so that calls queue in the order they are started.
func recordAsync(ctx context.Context, l *Log, event string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.Record(ctx, Event{Actor: "system", Event: event}) }()
	synctest.Wait()
	return done
}

// TestRecordCancelQueued cancels a caller whose entry waits in the queue: it
// returns at once and its entry is withdrawn.
func TestRecordCancelQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &memChain{gate: make(chan struct{})}
		l := newTestLog(c)
		a := recordAsync(t.Context(), l, "a") // leader, held in the store
		ctxB, cancelB := context.WithCancel(t.Context())
		b := recordAsync(ctxB, l, "b")
		cdone := recordAsync(t.Context(), l, "c")

		cancelB()
		synctest.Wait()
		if err := <-b; !errors.Is(err, context.Canceled) {
			t.Errorf("b: err = %v, want context.Canceled", err)
		}

		c.gate <- struct{}{} // a commits and hands the lead to c
		synctest.Wait()
		if err := <-a; err != nil {
			t.Errorf("a: %v", err)
		}
		c.gate <- struct{}{} // c commits
		synctest.Wait()
		if err := <-cdone; err != nil {
			t.Errorf("c: %v", err)
		}
		assertEvents(t, c, "a", "c")
		assertIdle(t, l)
	})
}

// TestRecordCancelTaken cancels callers whose entries are in the append in
// flight: the leader stays until its append ends, a follower returns at once
// without knowing the outcome, and both entries are committed.
func TestRecordCancelTaken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &memChain{gate: make(chan struct{})}
		l := newTestLog(c)
		a := recordAsync(t.Context(), l, "a")
		ctxB, cancelB := context.WithCancel(t.Context())
		b := recordAsync(ctxB, l, "b")
		ctxC, cancelC := context.WithCancel(t.Context())
		cdone := recordAsync(ctxC, l, "c")

		c.gate <- struct{}{} // a commits alone and hands the lead to b, which takes b and c
		synctest.Wait()
		if err := <-a; err != nil {
			t.Errorf("a: %v", err)
		}

		cancelB()
		cancelC()
		synctest.Wait()
		select {
		case err := <-b:
			t.Fatalf("leader b returned %v while its append was in flight", err)
		default:
		}
		err := <-cdone
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "outcome unknown") {
			t.Errorf("c: err = %v, want outcome unknown wrapping context.Canceled", err)
		}

		c.gate <- struct{}{} // b commits b and c
		synctest.Wait()
		if err := <-b; err != nil {
			t.Errorf("b: %v", err)
		}
		assertEvents(t, c, "a", "b", "c")
		assertIdle(t, l)
	})
}

// TestAbandonStates drives abandon through each request state directly, since
// which of two ready channels a select picks is up to the runtime.
func TestAbandonStates(t *testing.T) {
	newReq := func() *request { return &request{wake: make(chan wakeup, 1)} }

	t.Run("promoted with a successor", func(t *testing.T) {
		l := newTestLog(&memChain{})
		r1, r2 := newReq(), newReq()
		l.leading = true
		l.queue = []*request{r1, r2}
		l.handOff() // r1 is promoted
		err := l.abandon(r1, context.Canceled)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("abandon: err = %v, want context.Canceled", err)
		}
		if len(l.queue) != 1 || l.queue[0] != r2 || r2.state != promoted || !l.leading {
			t.Fatalf("after abandon: queue %v, r2 state %v, leading %v; want r2 promoted", l.queue, r2.state, l.leading)
		}
		if w := <-r2.wake; !w.lead {
			t.Errorf("r2 woken with %+v, want the lead", w)
		}
		if len(r1.wake) != 0 {
			t.Error("r1's lead message left in its channel")
		}
	})
	t.Run("promoted alone", func(t *testing.T) {
		l := newTestLog(&memChain{})
		r1 := newReq()
		l.leading = true
		l.queue = []*request{r1}
		l.handOff()
		l.abandon(r1, context.Canceled)
		if len(l.queue) != 0 || l.leading {
			t.Errorf("after abandon: queue %v, leading %v; want empty and not leading", l.queue, l.leading)
		}
	})
	t.Run("queued", func(t *testing.T) {
		l := newTestLog(&memChain{})
		r1, r2, r3 := newReq(), newReq(), newReq()
		l.leading = true
		l.queue = []*request{r1, r2, r3}
		l.abandon(r2, context.Canceled)
		if !slices.Equal(l.queue, []*request{r1, r3}) {
			t.Errorf("queue after abandon = %v, want [r1 r3]", l.queue)
		}
		if !l.leading || len(r1.wake)+len(r3.wake) != 0 {
			t.Error("abandon of a queued request changed the lead")
		}
	})
	t.Run("taken, outcome known", func(t *testing.T) {
		l := newTestLog(&memChain{})
		r := newReq()
		r.state = taken
		r.wake <- wakeup{}
		if err := l.abandon(r, context.Canceled); err != nil {
			t.Errorf("abandon: err = %v, want nil (the entry was committed)", err)
		}
	})
	t.Run("taken, outcome unknown", func(t *testing.T) {
		l := newTestLog(&memChain{})
		r := newReq()
		r.state = taken
		err := l.abandon(r, context.DeadlineExceeded)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "outcome unknown") {
			t.Errorf("abandon: err = %v, want outcome unknown wrapping DeadlineExceeded", err)
		}
	})
}

// TestRecordCancelStress cancels many callers at random moments; every call
// returns, the chain stays whole, and every success is in it.
func TestRecordCancelStress(t *testing.T) {
	c := &memChain{commitDelay: 20 * time.Microsecond}
	l := newTestLog(c)
	const goroutines, perGoroutine = 32, 40
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok = make(map[string]bool)
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				ctx, cancel := context.WithCancel(t.Context())
				if i%3 == 0 {
					cancel() // before or while waiting, depending on timing
				}
				subject := fmt.Sprintf("r:%d:%d", g, i)
				err := l.Record(ctx, Event{Actor: "system", Event: "stress", Subject: subject})
				cancel()
				if err == nil {
					mu.Lock()
					ok[subject] = true
					mu.Unlock()
				} else if !errors.Is(err, context.Canceled) {
					t.Errorf("Record: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if _, err := Verify(t.Context(), c, testKey, nil, nil); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	entries, _ := c.AuditEntries(t.Context(), 0, math.MaxInt)
	stored := make(map[string]int)
	for _, e := range entries {
		stored[e.Subject]++
	}
	for s := range ok {
		if stored[s] != 1 {
			t.Errorf("successful record %s stored %d times, want 1", s, stored[s])
		}
	}
	for s, n := range stored {
		if n != 1 {
			t.Errorf("record %s stored %d times, want 1", s, n)
		}
	}
	t.Logf("%d of %d records committed, %d reported success", len(entries), goroutines*perGoroutine, len(ok))
	assertIdle(t, l)
}

// failingChain fails every append with err.
type failingChain struct{ err error }

func (f failingChain) AppendAudit(context.Context, func(store.AuditHead) ([]store.AuditEntry, error)) error {
	return f.err
}

func TestRecordAppendError(t *testing.T) {
	l := New(failingChain{err: store.ErrConflict}, testKey, nil, nil)
	err := l.Record(t.Context(), Event{Actor: "system", Event: "x"})
	if !errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "audit: append: ") {
		t.Errorf("Record: err = %v, want audit: append wrapping store.ErrConflict", err)
	}
	assertIdle(t, l)
}

// TestRecordBatchErrorReachesAll fails one append carrying several callers'
// entries: each caller gets the error, and the next Record succeeds.
func TestRecordBatchErrorReachesAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &memChain{gate: make(chan struct{})}
		l := newTestLog(c)
		errs := make(chan error, 4)
		go func() { errs <- l.Record(t.Context(), Event{Actor: "system", Event: "a"}) }()
		synctest.Wait()
		for range 3 {
			go func() { errs <- l.Record(t.Context(), Event{Actor: "system", Event: "b"}) }()
		}
		synctest.Wait()
		c.gate <- struct{}{} // a commits
		synctest.Wait()
		// The batch of three now waits in the store; break the head so
		// that the append is refused.
		c.setHead(store.AuditHead{Seq: 1, Hash: []byte("short")})
		c.gate <- struct{}{}
		synctest.Wait()
		var failed int
		for range 4 {
			if err := <-errs; err != nil {
				if !strings.Contains(err.Error(), "malformed chain head") {
					t.Errorf("Record: %v", err)
				}
				failed++
			}
		}
		if failed != 3 {
			t.Errorf("%d callers failed, want 3", failed)
		}
		assertIdle(t, l)
	})
}

func assertEvents(t *testing.T, c *memChain, want ...string) {
	t.Helper()
	entries, err := c.AuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Event)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored events mismatch (-want +got):\n%s", diff)
	}
	if _, err := Verify(t.Context(), c, testKey, nil, nil); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// assertIdle checks that no leader is left and nothing is queued.
func assertIdle(t *testing.T, l *Log) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leading || len(l.queue) != 0 {
		t.Errorf("log not idle: leading %v, %d queued", l.leading, len(l.queue))
	}
}
