package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxClosedWorkers bounds the workers of a closed-loop run.
const MaxClosedWorkers = 1000

// Closed is a closed-loop run of one scenario, AppLogin or Approval:
// Workers clients, each with an account and phone of its own, each starting
// its next flow when the previous one ended, for Duration and at most
// MaxFlows flows. Unlike Run it sets no rate: it measures what the system
// does when it is kept busy.
//
// An app login is a challenge and the login signed with the PIN key. An
// approval round trip is an address change asked for with the worker's app
// session, the pending approval read, a challenge for it and the approval
// signed with the PIN key; the change is carried out in the approving
// transaction, so the 204 ends the round trip. The worker logs its phone in
// once and again only when the session is refused (401); those logins are
// not part of the round trips' figures.
type Closed struct {
	Scenario string
	Workers  int
	Duration time.Duration
	MaxFlows int64
}

// Validate reports every problem of the run at once.
func (c Closed) Validate() error {
	var errs []error
	if c.Scenario != AppLogin && c.Scenario != Approval {
		errs = append(errs, fmt.Errorf("closed-loop scenario must be %s or %s, not %q", AppLogin, Approval, c.Scenario))
	}
	if c.Workers < 1 || c.Workers > MaxClosedWorkers {
		errs = append(errs, fmt.Errorf("--concurrency must be between 1 and %d", MaxClosedWorkers))
	}
	if c.Duration < MinDuration || c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("--duration must be between %v and %v", MinDuration, MaxDuration))
	}
	if c.MaxFlows < 1 {
		errs = append(errs, errors.New("--max-requests must be positive"))
	}
	return errors.Join(errs...)
}

// ClosedResult is what a closed-loop run observed. Only flows that ended
// within the run's duration count; flows in flight at its end are
// cancelled and counted nowhere.
type ClosedResult struct {
	Run       Closed
	Target    string
	Accounts  int             // accounts in the state
	Elapsed   time.Duration   // at most Run.Duration
	OK        int64           // flows that ended as they should (201, 204)
	Failed    map[int]int64   // the other flows by the status of their last step; 0: no answer
	Latencies []time.Duration // of the OK flows, sorted
	Logins    int64           // approval: the app logins the workers' sessions took
	Endpoints []Endpoint
	Errors    map[string]string // first failure per endpoint or flow
}

// worker is one worker's share of a ClosedResult.
type worker struct {
	ok        int64
	failed    map[int]int64
	latencies []time.Duration
	logins    int64
	firstErr  string
}

// RunClosed runs c against the target with the prepared state (`pforte
// loadtest setup`); the state needs an account per worker.
func RunClosed(ctx context.Context, t *Target, st *State, c Closed) (*ClosedResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Workers > len(st.Accounts) {
		return nil, fmt.Errorf("loadtest: %d workers need as many accounts, the state has %d (loadtest setup --accounts)", c.Workers, len(st.Accounts))
	}
	sub := *st
	sub.Accounts = st.Accounts[:c.Workers]
	accounts, err := sub.accounts()
	if err != nil {
		return nil, err
	}
	f := &flows{target: t, client: t.Client(c.Workers), rec: newRecorder(), ledger: NewLedger(), state: st, closed: true}
	defer f.client.CloseIdleConnections()

	start := time.Now()
	deadline := start.Add(c.Duration)
	runCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var issued atomic.Int64
	workers := make([]*worker, c.Workers)
	var wg sync.WaitGroup
	for i, a := range accounts {
		w := &worker{failed: map[int]int64{}}
		workers[i] = w
		wg.Go(func() {
			var token string
			for runCtx.Err() == nil && issued.Add(1) <= c.MaxFlows {
				token = f.closedFlow(runCtx, deadline, c.Scenario, a, token, w)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &ClosedResult{Run: c, Target: t.URL(""), Accounts: len(st.Accounts), Elapsed: min(time.Since(start), c.Duration),
		Failed: map[int]int64{}, Errors: map[string]string{}}
	for _, w := range workers {
		res.OK += w.ok
		for code, n := range w.failed {
			res.Failed[code] += n
		}
		res.Latencies = append(res.Latencies, w.latencies...)
		res.Logins += w.logins
		if w.firstErr != "" && res.Errors["flow "+c.Scenario] == "" {
			res.Errors["flow "+c.Scenario] = w.firstErr
		}
	}
	slices.Sort(res.Latencies)
	res.Endpoints = f.rec.snapshot()
	for name, e := range f.rec.firstErr {
		res.Errors[name] = e
	}
	return res, nil
}

// closedFlow runs one flow of scenario with a and records it in w if it
// ended before deadline; it returns the app session token to use next
// (approval only).
func (f *flows) closedFlow(ctx context.Context, deadline time.Time, scenario string, a *account, token string, w *worker) string {
	var status, want int
	var err error
	began := time.Now()
	switch scenario {
	case AppLogin:
		want = http.StatusCreated
		_, status, err = f.appSession(ctx, a, a.seed, false)
	case Approval:
		want = http.StatusNoContent
		if token == "" {
			token, status, err = f.appSession(ctx, a, a.seed, false)
			if ctx.Err() != nil {
				return ""
			}
			w.logins++
			if token == "" {
				break
			}
			began = time.Now()
		}
		status, err = f.roundTrip(ctx, a, token)
		if status == http.StatusUnauthorized {
			token = "" // the session is gone: log in again
		}
	}
	took := time.Since(began)
	if ctx.Err() != nil || !time.Now().Before(deadline) {
		return token // the run ended while this flow was in flight
	}
	if err == nil && status == want {
		w.ok++
		w.latencies = append(w.latencies, took)
		return token
	}
	if err != nil {
		status = 0
		if w.firstErr == "" {
			w.firstErr = err.Error()
		}
	}
	w.failed[status]++
	pause(ctx, 10*time.Millisecond) // a failing flow must not spin
	return token
}

// PrintClosed writes one "key: value" line per figure (scripts read them):
// the flows per second under the scenario's own name ("app logins/s",
// "round trips/s"), the percentiles of the good flows, the failed flows by
// status, and per endpoint the requests and answers by class.
func PrintClosed(w io.Writer, r *ClosedResult) {
	cmd, rate := "app", "app logins/s"
	if r.Run.Scenario == Approval {
		cmd, rate = "approval", "round trips/s"
	}
	fmt.Fprintf(w, "load %s: %d workers for %v against %s, %d phones\n", cmd, r.Run.Workers, r.Run.Duration, r.Target, r.Run.Workers)
	var failed int64
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(r.Failed)) {
		failed += r.Failed[code]
		name := fmt.Sprint(code)
		if code == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%d×%s", r.Failed[code], name))
	}
	fmt.Fprintf(w, "flows: %d\n", r.OK+failed)
	fmt.Fprintf(w, "%s: %.1f\n", rate, float64(r.OK)/r.Elapsed.Seconds())
	for _, q := range []struct {
		name string
		v    float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
		fmt.Fprintf(w, "latency %s: %s\n", q.name, ms(percentile(r.Latencies, q.v)))
	}
	if failed > 0 {
		fmt.Fprintf(w, "failed: %d (%s)\n", failed, strings.Join(parts, ", "))
	} else {
		fmt.Fprintf(w, "failed: 0\n")
	}
	if r.Run.Scenario == Approval {
		fmt.Fprintf(w, "app logins for sessions: %d\n", r.Logins)
	}
	for _, e := range r.Endpoints {
		c := e.Classes
		fmt.Fprintf(w, "endpoint %s: %d requests, p50 %s, p99 %s, 2xx %d, 4xx %d, 503 %d, 502/504 %d, other 5xx %d, transport %d\n",
			e.Name, e.Requests, ms(e.P50), ms(e.P99), c.OK, c.Client, c.Busy, c.Gateway, c.Server, c.Transport)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Errors)) {
		fmt.Fprintf(w, "first failure at %s: %s\n", name, r.Errors[name])
	}
}
