package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
)

// padClock is the padding's clock. It stands still but for the request's
// work (each password hash, real or dummy, takes work) and for sleeping.
type padClock struct {
	t     time.Time
	work  time.Duration
	slept []time.Duration
}

func (c *padClock) now() time.Time { return c.t }

func (c *padClock) sleep(_ context.Context, d time.Duration) {
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
}

// workHasher makes every hash move the padding's clock on.
type workHasher struct {
	account.Hasher
	clk *padClock
}

func (h workHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.clk.t = h.clk.t.Add(h.clk.work)
	return h.Hasher.Hash(ctx, pw)
}

func (h workHasher) Verify(ctx context.Context, pw, stored string) (bool, bool, error) {
	h.clk.t = h.clk.t.Add(h.clk.work)
	return h.Hasher.Verify(ctx, pw, stored)
}

func (h workHasher) DummyVerify(ctx context.Context, pw string) error {
	h.clk.t = h.clk.t.Add(h.clk.work)
	return h.Hasher.DummyVerify(ctx, pw)
}

// TestAccessAnswersEndAtTheSameDeadline guards the timing padding of access
// and reset requests: whether the data match a person (and a letter is
// queued) or not, the answer is given at the same deadline, start + the
// minimum time, however long the work took.
func TestAccessAnswersEndAtTheSameDeadline(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now().AddDate(0, -1, 0))
	clk := &padClock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	f.useHasher(workHasher{Hasher: f.hasher, clk: clk})
	a, sink := newAccess(t, f)
	const minTime = 400 * time.Millisecond
	access.PadWith(a, minTime, clk.now, clk.sleep)

	match := access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}
	tests := []struct {
		name string
		req  func(context.Context, access.Request) error
		in   access.Request
		work time.Duration // how long each hash takes
	}{
		{"letter, match", a.RequestLetter, match, 270 * time.Millisecond},
		{"letter, wrong postal code", a.RequestLetter, access.Request{KVNR: kvnr, PostalCode: "10117", BirthDate: "1970-03-14"}, 20 * time.Millisecond},
		{"letter, unknown KVNR", a.RequestLetter, access.Request{KVNR: "T555558879", PostalCode: "10115", BirthDate: "1970-03-14"}, 5 * time.Millisecond},
		{"letter, match again", a.RequestLetter, match, 130 * time.Millisecond},
		{"reset, match", a.RequestReset, match, 150 * time.Millisecond},
		{"reset, wrong birth date", a.RequestReset, access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-15"}, time.Millisecond},
	}
	for _, tt := range tests {
		clk.work, clk.slept = tt.work, nil
		start := clk.t
		if err := tt.req(t.Context(), tt.in); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(clk.slept) != 1 {
			t.Errorf("%s: slept %v, want once", tt.name, clk.slept)
		}
		if got := clk.t.Sub(start); got != minTime {
			t.Errorf("%s: answered %v after the start, want %v (slept %v)", tt.name, got, minTime, clk.slept)
		}
	}
	if len(sink.pdfs) == 0 {
		t.Fatal("no letter was queued: the matching requests did not match")
	}

	// Work that took longer than the minimum is not padded further.
	clk.work, clk.slept = minTime+time.Millisecond, nil
	if err := a.RequestLetter(t.Context(), access.Request{KVNR: "T555558879", PostalCode: "10115", BirthDate: "1970-03-14"}); err != nil {
		t.Fatal(err)
	}
	if len(clk.slept) != 0 {
		t.Errorf("slept %v after work longer than the minimum", clk.slept)
	}
}

// countingHasher counts the password hashes, real or dummy.
type countingHasher struct {
	account.Hasher
	n *int
}

func (h countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	*h.n++
	return h.Hasher.Hash(ctx, pw)
}

func (h countingHasher) DummyVerify(ctx context.Context, pw string) error {
	*h.n++
	return h.Hasher.DummyVerify(ctx, pw)
}

// TestEveryOutcomeSpendsOneHash: whatever an anonymous letter or reset
// request finds (a letter queued, the person's letter limit reached, no
// match), it spends exactly one password hash (a reset's in the intake's
// worker), so that the work the floor must cover is alike.
func TestEveryOutcomeSpendsOneHash(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now().AddDate(0, -1, 0))
	var n int
	f.useHasher(countingHasher{Hasher: f.hasher, n: &n})
	a, sink := newAccess(t, f)
	match := access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}
	unknown := access.Request{KVNR: "T555558879", PostalCode: "10115", BirthDate: "1970-03-14"}
	tests := []struct {
		name string
		req  func(context.Context, access.Request) error
		in   access.Request
	}{
		{"letter 1, queued", a.RequestLetter, match},
		{"letter 2, queued", a.RequestLetter, match},
		{"letter 3, queued", a.RequestLetter, match},
		{"letter 4, person limit", a.RequestLetter, match},
		{"letter, unknown KVNR", a.RequestLetter, unknown},
		{"reset, person limit", resetter(a), match},
		{"reset, unknown KVNR", resetter(a), unknown},
	}
	for _, tt := range tests {
		n = 0
		if err := tt.req(t.Context(), tt.in); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n != 1 {
			t.Errorf("%s: %d password hashes, want 1", tt.name, n)
		}
	}
	if len(sink.pdfs) != 3 {
		t.Errorf("%d letters queued, want 3 (then the person's limit)", len(sink.pdfs))
	}
}
