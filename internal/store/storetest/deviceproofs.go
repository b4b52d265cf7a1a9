package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// proofs builds DecideDeviceProof calls against binding D of person pid,
// each with a challenge of its own.
type proofs struct {
	t   *testing.T
	s   store.Store
	pid store.PersonID
	n   atomic.Int64
}

// challenge is a proof with a fresh challenge, valid until minute 10. Its
// purpose and binding are the caller's (package device checks them with the
// challenge's MAC); the store sees only the digest.
func (p *proofs) challenge() store.DeviceProof {
	p.t.Helper()
	i := p.n.Add(1)
	d := device("D", p.pid, 0)
	return store.DeviceProof{Device: "D", ChallengeDigest: fmt.Appendf(nil, "digest-%d", i), ChallengeExpires: at(10),
		DeviceKey: d.DeviceKey, PINKey: d.PINKey, DeviceOK: true, Limit: 3, Now: at(1)}
}

// good is a proof with both signatures good that starts session hash.
func (p *proofs) good(hash string) store.DeviceProof {
	p.t.Helper()
	x := p.challenge()
	x.PINOK = true
	sess := session(p.pid, hash, 1)
	x.Session = &sess
	x.History = &store.LoginEvent{PersonID: p.pid, Kind: "app", Method: "device", UserAgent: "pforte-app", DeviceName: "Pixel 8",
		Place: "Berlin"}
	return x
}

// wrong is a proof with a good device signature and a wrong PIN.
func (p *proofs) wrong() store.DeviceProof {
	p.t.Helper()
	x := p.good("unused")
	x.PINOK, x.Session = false, nil
	x.LockNotices = []store.Notice{notice(fmt.Sprintf("N%d", p.n.Load()), p.pid, "pin_locked", "pin-locked-D", 1)}
	return x
}

func (p *proofs) decide(x store.DeviceProof) store.ProofResult {
	p.t.Helper()
	res, err := p.s.DecideDeviceProof(p.t.Context(), x)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

func newProofs(t *testing.T, s store.Store) *proofs {
	pid := seedPerson(t, s, 1)
	if err := s.AddDevice(t.Context(), device("D", pid, 0), func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return &proofs{t: t, s: s, pid: pid}
}

// historyOutcomes lists the person's sign-in history outcomes, newest first.
func historyOutcomes(t *testing.T, s store.Store, pid store.PersonID) []string {
	t.Helper()
	list, err := s.PersonLoginEvents(t.Context(), pid, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Outcome)
	}
	return out
}

// testDeviceProofs: what each outcome of DecideDeviceProof consumes,
// counts and stores.
func testDeviceProofs(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newProofs(t, s)
	failures := func() int {
		t.Helper()
		d, err := s.DeviceByID(ctx, "D")
		if err != nil {
			t.Fatal(err)
		}
		return d.PINFailures
	}
	// Refusals count nothing and store nothing; each uses its challenge
	// up, so the proof as it should have been is refused afterwards.
	refusals := []struct {
		name   string
		mutate func(x *store.DeviceProof)
		spent  bool
	}{
		{"bad device signature", func(x *store.DeviceProof) { x.DeviceOK, x.PINOK = false, false }, true},
		{"PIN key changed", func(x *store.DeviceProof) { x.PINKey = []byte{1, 1, 1} }, true},
		{"device key changed", func(x *store.DeviceProof) { x.DeviceKey = []byte{4, 4, 4} }, true},
		{"unknown binding", func(x *store.DeviceProof) { x.Device = "E" }, true},
	}
	for i, r := range refusals {
		for _, orig := range []store.DeviceProof{p.good(fmt.Sprintf("s-refused-%d", i)), p.wrong()} {
			x := orig
			r.mutate(&x)
			if res := p.decide(x); res.Outcome != store.ProofRefused {
				t.Errorf("%s: outcome %v, want refused", r.name, res.Outcome)
			}
			if r.spent {
				if res := p.decide(orig); res.Outcome != store.ProofRefused {
					t.Errorf("%s, then the right proof with its challenge: %v, want refused", r.name, res.Outcome)
				}
			}
		}
	}
	if n := failures(); n != 0 {
		t.Errorf("refused proofs counted %d failures", n)
	}
	if h := historyOutcomes(t, s, p.pid); len(h) != 0 {
		t.Errorf("refused proofs left history %v", h)
	}
	// Two wrong PINs count; a good one resets and stores the session.
	for want := 1; want <= 2; want++ {
		if res := p.decide(p.wrong()); res.Outcome != store.ProofWrongPIN || res.Failures != want {
			t.Errorf("wrong PIN %d: %+v", want, res)
		}
	}
	good := p.good("s-ok")
	res := p.decide(good)
	if res.Outcome != store.ProofAccepted || res.Device.ID != "D" || res.Device.PersonID != p.pid || failures() != 0 {
		t.Errorf("good PIN: %+v, failures %d", res, failures())
	}
	if got, err := s.SessionByHash(ctx, []byte("s-ok"), at(2)); err != nil {
		t.Errorf("session of the good PIN: %v", err)
	} else if diff := cmp.Diff(*good.Session, got); diff != "" {
		t.Errorf("session of the good PIN (-stored +want):\n%s", diff)
	}
	wantLine := store.LoginEvent{PersonID: p.pid, At: good.Session.CreatedAt, Kind: "app", Method: "device", Outcome: "ok",
		UserAgent: "pforte-app", DeviceName: "Pixel 8", Place: "Berlin"}
	if list, err := s.PersonLoginEvents(ctx, p.pid, time.Time{}, 1); err != nil || len(list) != 1 {
		t.Errorf("history line of the good PIN: %v, %v", list, err)
	} else if diff := cmp.Diff(wantLine, list[0]); diff != "" {
		t.Errorf("history line of the good PIN (-want +got):\n%s", diff)
	}
	if res := p.decide(good); res.Outcome != store.ProofRefused {
		t.Errorf("the good proof replayed: %v, want refused", res.Outcome)
	}
	// Staff locked the access: the PIN counts as good, no session.
	p.decide(p.wrong())
	if err := s.LockPerson(ctx, store.PersonLock{PersonID: p.pid, LockedAt: at(1), LockedBy: "staff:1"}); err != nil {
		t.Fatal(err)
	}
	if res := p.decide(p.good("s-locked")); res.Outcome != store.ProofPersonLocked || failures() != 0 {
		t.Errorf("good PIN during a staff lock: %v, failures %d", res.Outcome, failures())
	}
	if _, err := s.SessionByHash(ctx, []byte("s-locked"), at(2)); err == nil {
		t.Error("a session was stored during the staff lock")
	}
	if err := s.UnlockPerson(ctx, p.pid); err != nil {
		t.Fatal(err)
	}
	// Three wrong PINs lock, with the notice, once.
	outcomes := []store.ProofOutcome{p.decide(p.wrong()).Outcome, p.decide(p.wrong()).Outcome, p.decide(p.wrong()).Outcome,
		p.decide(p.wrong()).Outcome, p.decide(p.good("s-after")).Outcome}
	want := []store.ProofOutcome{store.ProofWrongPIN, store.ProofWrongPIN, store.ProofLockedNow, store.ProofPINLocked, store.ProofPINLocked}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("wrong, wrong, wrong, wrong, good: %v, want %v", outcomes, want)
	}
	d, err := s.DeviceByID(ctx, "D")
	if err != nil {
		t.Fatal(err)
	}
	if d.PINFailures != 3 || !d.PINLockedAt.Equal(at(1)) {
		t.Errorf("after the lock: failures %d, locked at %v", d.PINFailures, d.PINLockedAt)
	}
	if list, err := s.PersonNotices(ctx, p.pid, 100); err != nil || len(list) != 1 || list[0].Count != 1 || list[0].Kind != "pin_locked" {
		t.Errorf("notices after the lock: %+v, %v; want one pin_locked", list, err)
	}
	// The history: every counted attempt and the session, nothing of the
	// refusals or the tries against a lock.
	wantHistory := "[locked failed failed failed ok failed failed]"
	if h := historyOutcomes(t, s, p.pid); fmt.Sprint(h) != wantHistory {
		t.Errorf("history %v, want %s", h, wantHistory)
	}
	// A removed binding is refused.
	if _, err := s.UpdateDevice(ctx, "D", func(d *store.Device) error { d.RemovedAt = at(2); return nil }); err != nil {
		t.Fatal(err)
	}
	if res := p.decide(p.good("s-removed")); res.Outcome != store.ProofRefused {
		t.Errorf("removed binding: %v, want refused", res.Outcome)
	}
}

// testDeviceProofsParallel: 200 parallel wrong PIN proofs against a limit of
// 3 — exactly 2 answered wrong, 1 locks (with one notice), the rest find the
// PIN locked.
func testDeviceProofsParallel(t *testing.T, s store.Store) {
	p := newProofs(t, s)
	const n = 200
	xs := make([]store.DeviceProof, n)
	for i := range xs {
		xs[i] = p.wrong()
	}
	var counts [proofOutcomes]atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := s.DecideDeviceProof(t.Context(), xs[i])
			if err != nil {
				t.Error(err)
				return
			}
			counts[res.Outcome].Add(1)
		})
	}
	close(start)
	wg.Wait()
	if w, l, k := counts[store.ProofWrongPIN].Load(), counts[store.ProofLockedNow].Load(), counts[store.ProofPINLocked].Load(); w != 2 || l != 1 || k != n-3 {
		t.Errorf("%d parallel wrong PINs, limit 3: %d wrong, %d locked now, %d found it locked", n, w, l, k)
	}
	if list, err := s.PersonNotices(t.Context(), p.pid, 100); err != nil || len(list) != 1 || list[0].Count != 1 {
		t.Errorf("notices: %+v, %v; want one", list, err)
	}
	if h := historyOutcomes(t, s, p.pid); len(h) != 3 {
		t.Errorf("history %v, want the 3 counted attempts", h)
	}
}

// proofOutcomes bounds the outcomes, for counting them.
const proofOutcomes = int(store.ProofLockedNow) + 1

// testDeviceProofsRaceStaffLock: good proofs race a staff lock and the end
// of the person's sessions that follows it (as the back office does): once
// both are done, no session of the person is left.
func testDeviceProofsRaceStaffLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newProofs(t, s)
	const n = 40
	xs := make([]store.DeviceProof, n)
	for i := range xs {
		xs[i] = p.good(fmt.Sprintf("race-%d", i))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := s.DecideDeviceProof(ctx, xs[i])
			if err != nil {
				t.Error(err)
			} else if res.Outcome != store.ProofAccepted && res.Outcome != store.ProofPersonLocked {
				t.Errorf("proof %d: %v", i, res.Outcome)
			}
		})
	}
	wg.Go(func() {
		<-start
		if err := s.LockPerson(ctx, store.PersonLock{PersonID: p.pid, LockedAt: at(1), LockedBy: "staff:1"}); err != nil {
			t.Error(err)
		}
		if _, err := s.DeletePersonSessions(ctx, p.pid, nil); err != nil {
			t.Error(err)
		}
	})
	close(start)
	wg.Wait()
	if live, err := s.PersonSessions(ctx, p.pid, at(2)); err != nil || len(live) != 0 {
		t.Errorf("%d sessions left after the lock (%v), want none", len(live), err)
	}
}
