// Package load measures what a node can take: password logins through
// POST /api/v1/sessions in a closed loop, against raw argon2id hashes on the
// same machine, with latency percentiles and the server's memory; and the
// raw rate of the signature pairs an app login verifies (MeasureVerify), the
// reference for app logins (package loadtest runs those in a closed loop). Load goes
// to loopback only: LoopbackServer refuses any other server and the client
// of LoopbackClient dials no other address. Every run is bounded in time and
// in requests. The command `pforte load` drives it; scripts/bench-login and
// scripts/bench-side-by-side run the whole measurement.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pforte/pforte/internal/password"
)

// Bounds of a load run.
const (
	MinDuration     = 100 * time.Millisecond
	MaxDuration     = 10 * time.Minute
	MaxLoginWorkers = 5000
	MaxHashWorkers  = 64
	DefaultRequests = 1_000_000
)

// hashPassword is what MeasureHashes hashes: a fixed string, as the cost of
// argon2id does not depend on it.
const hashPassword = "Kastanienbaum im Herbstwind"

// MeasureHashes runs workers goroutines hashing with h for d and returns the
// hashes finished within d.
func MeasureHashes(ctx context.Context, h *password.Hasher, workers int, d time.Duration) (int64, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(d)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && done.Load() < DefaultRequests {
				// A hash that started runs to its end (argon2id cannot be
				// interrupted); it counts only if it ended in time.
				if _, err := h.Hash(context.WithoutCancel(ctx), hashPassword); err != nil {
					errs <- err
					return
				}
				if time.Now().Before(deadline) {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, fmt.Errorf("load hash: %w", err)
	}
	return done.Load(), min(time.Since(start), d), nil
}

// Login is one closed-loop run against POST /api/v1/sessions: each worker
// sends its next request when the previous answer arrived.
type Login struct {
	Endpoint    string
	Bodies      [][]byte // one per account; worker i uses Bodies[i%len]
	Workers     int
	Duration    time.Duration
	MaxRequests int64
	RetryAfter  bool // wait as long as a 429 or 503 asks before the next request
	Client      *http.Client
}

// LoginResult is what a run observed. Only answers that arrived within the
// run's duration count; requests in flight at its end are cancelled.
type LoginResult struct {
	elapsed         time.Duration
	status          map[int]int64
	transportErrors int64
	firstError      string
	latencies       []time.Duration // every answer
	created         []time.Duration // 201 answers
}

func (r *LoginResult) requests() int64 {
	var n int64
	for _, c := range r.status {
		n += c
	}
	return n + r.transportErrors
}

func (r *LoginResult) merge(o *LoginResult) {
	for code, n := range o.status {
		r.status[code] += n
	}
	r.transportErrors += o.transportErrors
	if r.firstError == "" {
		r.firstError = o.firstError
	}
	r.latencies = append(r.latencies, o.latencies...)
	r.created = append(r.created, o.created...)
}

func (l *Login) Run(ctx context.Context) *LoginResult {
	start := time.Now()
	deadline := start.Add(l.Duration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var issued atomic.Int64
	results := make([]*LoginResult, l.Workers)
	var wg sync.WaitGroup
	for i := range l.Workers {
		res := &LoginResult{status: map[int]int64{}}
		results[i] = res
		body := l.Bodies[i%len(l.Bodies)]
		wg.Go(func() {
			for ctx.Err() == nil && issued.Add(1) <= l.MaxRequests {
				l.once(ctx, deadline, body, res)
			}
		})
	}
	wg.Wait()
	total := &LoginResult{status: map[int]int64{}, elapsed: min(time.Since(start), l.Duration)}
	for _, r := range results {
		total.merge(r)
	}
	return total
}

// once sends one login request and records its answer in res.
func (l *Login) once(ctx context.Context, deadline time.Time, body []byte, res *LoginResult) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.Endpoint, bytes.NewReader(body))
	if err != nil {
		res.transportErrors++
		res.firstError = cmpOr(res.firstError, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pforte-load")
	began := time.Now()
	resp, err := l.Client.Do(req)
	if err == nil {
		// Read the whole answer so the connection is reused.
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	took := time.Since(began)
	if ctx.Err() != nil || !time.Now().Before(deadline) {
		return // the run ended while this request was in flight
	}
	if err != nil {
		res.transportErrors++
		res.firstError = cmpOr(res.firstError, err.Error())
		pause(ctx, 10*time.Millisecond) // a refused connection must not spin
		return
	}
	res.status[resp.StatusCode]++
	res.latencies = append(res.latencies, took)
	if resp.StatusCode == http.StatusCreated {
		res.created = append(res.created, took)
	}
	if l.RetryAfter && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || secs < 1 {
			secs = 1
		}
		pause(ctx, time.Duration(min(secs, 60))*time.Second)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// LoopbackServer parses the --server value: an http(s) base URL whose host is
// a loopback address or localhost.
func LoopbackServer(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("--server must be a base URL such as http://127.0.0.1:8080")
	}
	if !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("--server %s is not on loopback (127.0.0.0/8, ::1, localhost): load goes to this machine only", u.Hostname())
	}
	return u, nil
}

// LoopbackClient returns a client whose connections can reach loopback
// addresses only, whatever a name resolves to, and which keeps one idle
// connection per worker.
func LoopbackClient(workers int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("load: refusing to connect to %s: not a loopback address", address)
			}
			return nil
		},
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        workers,
			MaxIdleConnsPerHost: workers,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Percentile returns the q-quantile (0 < q ≤ 1) of sorted by the nearest-rank
// method, or 0 for no values.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// PrintLogin writes one "key: value" line per figure (scripts/bench-login
// reads them).
func PrintLogin(w io.Writer, l *Login, r *LoginResult) {
	slices.Sort(r.latencies)
	slices.Sort(r.created)
	fmt.Fprintf(w, "load login: %d workers for %v against %s, %d accounts\n", l.Workers, l.Duration, l.Endpoint, len(l.Bodies))
	fmt.Fprintf(w, "requests: %d\n", r.requests())
	fmt.Fprintf(w, "logins/s: %.1f\n", float64(r.status[http.StatusCreated])/r.elapsed.Seconds())
	fmt.Fprintf(w, "answers/s: %.1f\n", float64(len(r.latencies))/r.elapsed.Seconds())
	for _, q := range []struct {
		name string
		v    float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
		fmt.Fprintf(w, "latency %s: %s\n", q.name, ms(Percentile(r.latencies, q.v)))
	}
	fmt.Fprintf(w, "latency 201 p99: %s\n", ms(Percentile(r.created, 0.99)))
	known := []int{http.StatusCreated, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable}
	var other int64
	var others []string
	for _, code := range slices.Sorted(maps.Keys(r.status)) {
		if !slices.Contains(known, code) {
			other += r.status[code]
			others = append(others, fmt.Sprintf("%d×%d", r.status[code], code))
		}
	}
	for _, code := range known {
		fmt.Fprintf(w, "status %d: %d\n", code, r.status[code])
	}
	if other > 0 {
		fmt.Fprintf(w, "status other: %d (%s)\n", other, strings.Join(others, ", "))
	} else {
		fmt.Fprintf(w, "status other: 0\n")
	}
	fmt.Fprintf(w, "transport errors: %d\n", r.transportErrors)
	if r.firstError != "" {
		fmt.Fprintf(w, "first transport error: %s\n", r.firstError)
	}
}

// ResetPeakRSS sets the peak RSS (VmHWM) of process pid back to its current
// RSS, so that the figure printed at the end is this run's peak.
func ResetPeakRSS(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// PrintProcMemory prints VmHWM and VmRSS of process pid from /proc.
func PrintProcMemory(w io.Writer, pid int, peakReset bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		fmt.Fprintf(w, "server memory: unavailable (%v)\n", err)
		return
	}
	since := "this run"
	if !peakReset {
		since = "since the process started"
	}
	for line := range strings.Lines(string(raw)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		note := "current"
		if name == "VmHWM" {
			note = "peak, " + since
		}
		fmt.Fprintf(w, "server %s: %.1f MiB (%s)\n", name, float64(kib)/1024, note)
	}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
