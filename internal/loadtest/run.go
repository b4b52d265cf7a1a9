package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Plan is what a run does: each scenario's flows per second, for Duration.
type Plan struct {
	Rates    map[string]float64
	Duration time.Duration
}

// ParseRates reads "name=rate,name=rate".
func ParseRates(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for part := range strings.SplitSeq(s, ",") {
		name, raw, ok := strings.Cut(strings.TrimSpace(part), "=")
		var r float64
		if ok {
			var err error
			r, err = strconv.ParseFloat(raw, 64)
			ok = err == nil
		}
		if !ok {
			return nil, fmt.Errorf("--rates: %q is not name=rate", part)
		}
		out[name] = r
	}
	return out, nil
}

// Validate reports every problem of the plan at once.
func (p Plan) Validate() error {
	var errs []error
	if p.Duration < MinDuration || p.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("--duration must be between %v and %v", MinDuration, MaxDuration))
	}
	if len(p.Rates) == 0 {
		errs = append(errs, errors.New("name at least one scenario with a rate"))
	}
	for name, r := range p.Rates {
		if !known(name) {
			errs = append(errs, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Scenarios, ", ")))
		}
		if !(r > 0 && r <= MaxRate) {
			errs = append(errs, fmt.Errorf("scenario %s: rate must be above 0 and at most %d per second", name, MaxRate))
		}
	}
	return errors.Join(errs...)
}

func known(name string) bool {
	for _, s := range Scenarios {
		if s == name {
			return true
		}
	}
	return false
}

// AccountsNeeded is how many accounts each scenario of the plan takes: the
// reusable ones enough for the flows in flight (about three seconds' worth),
// the ones that use accounts up (wrong password, wrong PIN) one per
// wrongPasswordsPerAccount or wrongPINsPerDevice flows.
func (p Plan) AccountsNeeded() map[string]int {
	out := map[string]int{}
	secs := p.Duration.Seconds()
	for name, r := range p.Rates {
		switch name {
		case WrongPassword:
			out[name] = int(math.Ceil(r*secs/wrongPasswordsPerAccount)) + 1
		case WrongPIN:
			out[name] = int(math.Ceil(r*secs/wrongPINsPerDevice)) + 1
		case AccessRequest:
		default:
			out[name] = int(math.Ceil(r*3)) + 1
		}
	}
	return out
}

// RegisterNeeded is how many register entries the plan's access requests
// take: one person each.
func (p Plan) RegisterNeeded() int {
	if r, ok := p.Rates[AccessRequest]; ok {
		return int(math.Ceil(r*p.Duration.Seconds())) + 1
	}
	return 0
}

// Result is what a run observed.
type Result struct {
	Plan      Plan                       `json:"-"`
	Scenarios map[string]*vegeta.Metrics `json:"scenarios"`
	Flows     map[string]Classes         `json:"flow_classes"`
	Endpoints []Endpoint                 `json:"endpoints"`
	Errors    map[string]string          `json:"first_errors,omitempty"`
	Ledger    *Ledger                    `json:"-"`
}

// Run runs the plan against the target with the prepared state (accounts and
// register entries: `pforte loadtest setup`). Each scenario has its own
// vegeta attacker at its own constant rate; all run at once and end after
// the plan's duration, when the flows in flight have ended. The ledger
// records what the clients know.
func Run(ctx context.Context, t *Target, st *State, p Plan, ledger *Ledger) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	accounts, err := st.accounts()
	if err != nil {
		return nil, err
	}
	pools, err := splitAccounts(accounts, p)
	if err != nil {
		return nil, err
	}
	if n := p.RegisterNeeded(); n > len(st.Register) {
		return nil, fmt.Errorf("loadtest: the plan's access requests need %d register entries, the state has %d (loadtest setup --register)", n, len(st.Register))
	}
	var conns int
	for _, r := range p.Rates {
		conns += int(r*2) + 4
	}
	f := &flows{target: t, client: t.Client(conns), rec: newRecorder(), ledger: ledger, state: st, pools: pools}
	defer f.client.CloseIdleConnections()

	res := &Result{Plan: p, Scenarios: map[string]*vegeta.Metrics{}, Flows: map[string]Classes{}, Errors: map[string]string{}, Ledger: ledger}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, rate := range p.Rates {
		wg.Go(func() {
			m, classes, first := f.attack(ctx, name, rate, p.Duration)
			mu.Lock()
			defer mu.Unlock()
			res.Scenarios[name], res.Flows[name] = m, classes
			if first != "" {
				res.Errors[name] = first
			}
		})
	}
	wg.Wait()
	res.Endpoints = f.rec.snapshot()
	for name, e := range f.rec.firstErr {
		if _, ok := res.Errors[name]; !ok {
			res.Errors[name] = e
		}
	}
	return res, nil
}

// attack runs scenario name at rate for d with vegeta: its client's
// transport runs one flow per request.
func (f *flows) attack(ctx context.Context, name string, rate float64, d time.Duration) (*vegeta.Metrics, Classes, string) {
	client := &http.Client{Transport: flowTransport{f: f}, Timeout: 2 * time.Minute}
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(uint64(math.Ceil(rate))+1), vegeta.MaxWorkers(uint64(rate*30)+10))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	freq, per := int(math.Round(rate)), time.Second
	if rate < 1 || rate != math.Round(rate) {
		freq, per = int(math.Round(rate*1000)), 1000*time.Second
	}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: f.target.URL("/" + name)})
	m := &vegeta.Metrics{}
	var classes Classes
	var first string
	for r := range atk.Attack(tr, vegeta.ConstantPacer{Freq: freq, Per: per}, d, name) {
		m.Add(r)
		classes.add(int(r.Code), r.Headers)
		if r.Code == 0 && first == "" {
			first = r.Error
		}
	}
	m.Close()
	return m, classes, first
}

// flowTransport runs the flow of the scenario vegeta names in its request
// (the attack's name) and answers with the status of the flow's last step.
type flowTransport struct{ f *flows }

func (t flowTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	status, err := t.f.run(req.Context(), req.Header.Get("X-Vegeta-Attack"))
	if err != nil {
		return nil, err
	}
	if status == 0 {
		return nil, errors.New("loadtest: flow ended without an answer")
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// pool hands out accounts one flow at a time. A pool of accounts that are
// used up takes each account back only while it has uses left.
type pool struct {
	ch   chan *account
	uses map[*account]int // nil: reusable
	mu   sync.Mutex
}

func newPool(list []*account, uses int) *pool {
	p := &pool{ch: make(chan *account, len(list))}
	if uses > 0 {
		p.uses = map[*account]int{}
	}
	for _, a := range list {
		p.ch <- a
		if p.uses != nil {
			p.uses[a] = uses
		}
	}
	return p
}

// take waits for a free account: flows slowed by the server (a 503's
// Retry-After) hold theirs longer, and the next ones wait rather than fail.
func (p *pool) take(ctx context.Context) (*account, error) {
	t := time.NewTimer(accountWait)
	defer t.Stop()
	select {
	case a := <-p.ch:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errors.New("loadtest: no free account (more accounts: loadtest setup --accounts)")
	}
}

// accountWait bounds how long a flow waits for a free account.
const accountWait = 30 * time.Second

func (p *pool) give(a *account) {
	if p.uses != nil {
		p.mu.Lock()
		p.uses[a]--
		left := p.uses[a]
		p.mu.Unlock()
		if left <= 0 {
			return
		}
	}
	p.ch <- a
}

// splitAccounts gives each scenario of the plan its own accounts, so that no
// two flows touch one account's counters at once.
func splitAccounts(accounts []*account, p Plan) (map[string]*pool, error) {
	need := p.AccountsNeeded()
	total := 0
	for _, n := range need {
		total += n
	}
	if total > len(accounts) {
		return nil, fmt.Errorf("loadtest: the plan needs %d accounts, the state has %d (loadtest setup --accounts)", total, len(accounts))
	}
	pools := map[string]*pool{}
	i := 0
	for _, name := range Scenarios {
		n, ok := need[name]
		if !ok {
			continue
		}
		uses := 0
		switch name {
		case WrongPassword:
			uses = wrongPasswordsPerAccount
		case WrongPIN:
			uses = wrongPINsPerDevice
		}
		pools[name] = newPool(accounts[i:i+n], uses)
		i += n
	}
	return pools, nil
}
