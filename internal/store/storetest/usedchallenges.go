package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pforte/pforte/internal/store"
)

// testUsedChallenges: a challenge is used once; a second use is refused,
// by UseChallenge and by DecideDeviceProof alike, and writes nothing; the
// cleanup of one-time values removes the expired ones.
func testUsedChallenges(t *testing.T, s store.Store) {
	ctx := t.Context()
	used := func(digest string) bool {
		t.Helper()
		ok, err := s.ChallengeUsed(ctx, []byte(digest))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if used("a") {
		t.Error("an unused challenge counts as used")
	}
	if err := s.UseChallenge(ctx, []byte("a"), at(5)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.UseChallenge(ctx, []byte("a"), at(5)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second use: %v, want ErrConflict", err)
	}
	if !used("a") || used("b") {
		t.Error("ChallengeUsed does not report the use of a alone")
	}

	// A proof with a challenge used before is refused and changes nothing;
	// one decided proof uses its challenge.
	p := newProofs(t, s)
	x := p.good("s-used")
	x.ChallengeDigest = []byte("a")
	if res := p.decide(x); res.Outcome != store.ProofRefused {
		t.Errorf("proof with a used challenge: %v, want refused", res.Outcome)
	}
	w := p.wrong()
	w.ChallengeDigest = []byte("a")
	p.decide(w)
	if _, err := s.SessionByHash(ctx, []byte("s-used"), at(2)); err == nil {
		t.Error("a session was stored with a used challenge")
	}
	if d, err := s.DeviceByID(ctx, "D"); err != nil || d.PINFailures != 0 {
		t.Errorf("a wrong PIN with a used challenge counted: %d failures, %v", d.PINFailures, err)
	}
	if h := historyOutcomes(t, s, p.pid); len(h) != 0 {
		t.Errorf("proofs with a used challenge left history %v", h)
	}
	g := p.good("s-first")
	if res := p.decide(g); res.Outcome != store.ProofAccepted {
		t.Fatalf("good proof: %v", res.Outcome)
	}
	if !used(string(g.ChallengeDigest)) {
		t.Error("the decided proof did not use its challenge")
	}
	if err := s.UseChallenge(ctx, g.ChallengeDigest, g.ChallengeExpires); !errors.Is(err, store.ErrConflict) {
		t.Errorf("using a decided proof's challenge: %v, want ErrConflict", err)
	}

	// The cleanup: rows expired before the cutoff go, the others stay.
	if err := s.UseChallenge(ctx, []byte("late"), at(30)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteOneTimesBefore(ctx, at(11)); err != nil {
		t.Fatal(err)
	}
	if used("a") || used(string(g.ChallengeDigest)) {
		t.Error("an expired used challenge was not removed")
	}
	if !used("late") {
		t.Error("a used challenge was removed before it expired")
	}
}

// testUsedChallengesParallel: parallel uses of one challenge, by UseChallenge
// and by DecideDeviceProof with good proofs: exactly one succeeds, and
// exactly one session is stored.
func testUsedChallengesParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 40
	var wins atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := s.UseChallenge(ctx, []byte("raced"), at(10))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if w := wins.Load(); w != 1 {
		t.Errorf("%d parallel uses of one challenge: %d succeeded, want 1", n, w)
	}

	p := newProofs(t, s)
	xs := make([]store.DeviceProof, n)
	for i := range xs {
		xs[i] = p.good(fmt.Sprintf("same-%d", i))
		xs[i].ChallengeDigest = []byte("same challenge")
	}
	var accepted atomic.Int64
	start = make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := s.DecideDeviceProof(ctx, xs[i])
			switch {
			case err != nil:
				t.Error(err)
			case res.Outcome == store.ProofAccepted:
				accepted.Add(1)
			case res.Outcome != store.ProofRefused:
				t.Errorf("proof %d: %v", i, res.Outcome)
			}
		})
	}
	close(start)
	wg.Wait()
	if a := accepted.Load(); a != 1 {
		t.Errorf("%d parallel proofs with one challenge: %d accepted, want 1", n, a)
	}
	if live, err := s.PersonSessions(ctx, p.pid, at(2)); err != nil || len(live) != 1 {
		t.Errorf("%d sessions stored (%v), want 1", len(live), err)
	}
}
