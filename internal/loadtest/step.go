package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoint is what a run observed of one endpoint ("POST /api/v1/sessions").
type Endpoint struct {
	Name      string          `json:"endpoint"`
	Requests  int             `json:"requests"`
	P50       time.Duration   `json:"p50_ns"`
	P99       time.Duration   `json:"p99_ns"`
	Classes   Classes         `json:"classes"`
	latencies []time.Duration // answered requests
}

// Classes counts answers by class.
type Classes struct {
	OK        int `json:"2xx"`
	Client    int `json:"4xx"`
	Busy      int `json:"503"`
	BusyBare  int `json:"503_without_retry_after"`
	Server    int `json:"other_5xx"` // 500, 501, … from the application
	Gateway   int `json:"502_504"`   // a proxy's: the node broke off or did not answer
	Transport int `json:"transport_errors"`
	Other     int `json:"other"` // 1xx, 3xx
}

func (c *Classes) add(status int, h http.Header) {
	switch {
	case status == 0:
		c.Transport++
	case status >= 200 && status < 300:
		c.OK++
	case status >= 400 && status < 500:
		c.Client++
	case status == http.StatusServiceUnavailable:
		c.Busy++
		if h.Get("Retry-After") == "" {
			c.BusyBare++
		}
	case status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		c.Gateway++
	case status >= 500:
		c.Server++
	default:
		c.Other++
	}
}

func (c *Classes) merge(o Classes) {
	c.OK += o.OK
	c.Client += o.Client
	c.Busy += o.Busy
	c.BusyBare += o.BusyBare
	c.Server += o.Server
	c.Gateway += o.Gateway
	c.Transport += o.Transport
	c.Other += o.Other
}

// recorder collects the steps' answers per endpoint.
type recorder struct {
	mu        sync.Mutex
	endpoints map[string]*Endpoint
	firstErr  map[string]string
}

func newRecorder() *recorder {
	return &recorder{endpoints: map[string]*Endpoint{}, firstErr: map[string]string{}}
}

// record adds one answer (status 0: none, err says why) of endpoint name;
// the first failure of each endpoint is kept for the report.
func (r *recorder) record(name string, status int, h http.Header, took time.Duration, err error, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.endpoints[name]
	if e == nil {
		e = &Endpoint{Name: name}
		r.endpoints[name] = e
	}
	e.Requests++
	e.Classes.add(status, h)
	if status != 0 {
		e.latencies = append(e.latencies, took)
	}
	if r.firstErr[name] != "" {
		return
	}
	switch {
	case err != nil:
		r.firstErr[name] = err.Error()
	case status >= 400:
		r.firstErr[name] = strconv.Itoa(status) + " " + strings.TrimSpace(string(body[:min(len(body), 300)]))
	}
}

// snapshot returns the endpoints, sorted by name, with their percentiles.
func (r *recorder) snapshot() []Endpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Endpoint, 0, len(r.endpoints))
	for _, e := range r.endpoints {
		lat := slices.Clone(e.latencies)
		slices.Sort(lat)
		x := *e
		x.latencies = nil
		x.P50, x.P99 = percentile(lat, 0.5), percentile(lat, 0.99)
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// percentile returns the q-quantile of sorted by the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// errCutOff: a step got no answer that says what happened.
var errCutOff = errors.New("loadtest: no answer (cut off)")

// errBusy: the server kept answering 503 until the step gave up.
var errBusy = errors.New("loadtest: still unavailable after retries")

// retry says when a step may be sent again.
type retry int

const (
	// onlyBusy: sent again after a 503 only; a cut-off answer is final. A
	// 503 because the database went away may come after a part of the
	// request was stored (answer.busy counts them, for the ledger's bound).
	onlyBusy retry = iota
	// idempotent: also sent again after a cut-off answer, as sending it
	// twice changes nothing that matters.
	idempotent
)

// step is one request of a flow.
type step struct {
	name   string // endpoint name for the table, e.g. "POST /api/v1/sessions"
	method string
	path   string
	token  string
	body   any
	retry  retry
}

// answer is a step's final answer.
type answer struct {
	status int
	body   []byte
	busy   int // 503s answered before it
}

// send sends s until it gets an answer that says what happened, within
// maxAttempts: a 503 is sent again after its Retry-After; a cut-off step
// only if s.retry is idempotent. It returns errCutOff or errBusy when it
// gives up.
func (f *flows) send(ctx context.Context, s step) (answer, error) {
	var payload []byte
	if s.body != nil {
		var err error
		if payload, err = json.Marshal(s.body); err != nil {
			return answer{}, err
		}
	}
	last, busy := errBusy, 0
	for range maxAttempts {
		a, h, err := f.once(ctx, s, payload)
		switch {
		case ctx.Err() != nil:
			return answer{}, errCutOff
		case err != nil || a.status == http.StatusBadGateway || a.status == http.StatusGatewayTimeout:
			last = errCutOff
			if s.retry != idempotent {
				return answer{}, errCutOff
			}
			pause(ctx, 200*time.Millisecond)
		case a.status == http.StatusServiceUnavailable:
			last = errBusy
			busy++
			secs, err := strconv.Atoi(h.Get("Retry-After"))
			if err != nil || secs < 1 {
				secs = 1
			}
			pause(ctx, min(time.Duration(secs)*time.Second, maxRetryWait))
		default:
			a.busy = busy
			return a, nil
		}
	}
	return answer{busy: busy}, last
}

func (f *flows) once(ctx context.Context, s step, payload []byte) (answer, http.Header, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, s.method, f.target.URL(s.path), body)
	if err != nil {
		return answer{}, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pforte-loadtest")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	began := time.Now()
	resp, err := f.client.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	took := time.Since(began)
	if f.closed && ctx.Err() != nil {
		// A closed-loop run ended while this request was in flight: it
		// counts nowhere.
		return answer{}, nil, ctx.Err()
	}
	if err != nil {
		f.rec.record(s.name, 0, nil, took, err, nil)
		return answer{}, nil, err
	}
	f.rec.record(s.name, resp.StatusCode, resp.Header, took, nil, b)
	return answer{status: resp.StatusCode, body: b}, resp.Header, nil
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
