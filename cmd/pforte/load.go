package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// `pforte load` measures what a node can take: password logins through
// POST /api/v1/sessions against raw argon2id hashes on the same machine.
// Load goes to loopback only: the login client refuses any other server and
// its dialer refuses any other address. Every run is bounded in time and in
// requests. scripts/bench-login runs the whole measurement.

// Bounds of a load run.
const (
	minLoadDuration     = 100 * time.Millisecond
	maxLoadDuration     = 10 * time.Minute
	maxLoginWorkers     = 5000
	maxHashWorkers      = 64
	defaultLoadRequests = 1_000_000
)

func runLoad(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "setup":
			return runLoadSetup(ctx, env, args[1:])
		case "hash":
			return runLoadHash(ctx, env, args[1:])
		case "login":
			return runLoadLogin(ctx, env, args[1:])
		}
	}
	return &usageError{msg: "usage: pforte load setup|hash|login … (see docs/operations.md)"}
}

func checkDuration(cmd string, d time.Duration) error {
	if d < minLoadDuration || d > maxLoadDuration {
		return &usageError{msg: fmt.Sprintf("%s: --duration must be between %v and %v", cmd, minLoadDuration, maxLoadDuration)}
	}
	return nil
}

// loadPassword is what `load hash` hashes: a fixed string, as the cost of
// argon2id does not depend on it.
const loadPassword = "Kastanienbaum im Herbstwind"

func runLoadHash(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "load hash", "load hash [--concurrency N] [--duration D] [--memory-kib K] [--time T] [--threads P]")
	def := password.DefaultParams()
	workers := fs.Int("concurrency", 2, "goroutines hashing at once, and the hasher's slots (1-64)")
	duration := fs.Duration("duration", 10*time.Second, "how long to hash")
	memory := fs.Uint("memory-kib", uint(def.Memory), "argon2id memory in KiB")
	passes := fs.Uint("time", uint(def.Time), "argon2id passes")
	threads := fs.Uint("threads", uint(def.Threads), "argon2id lanes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("load hash: unexpected argument %q", fs.Arg(0))}
	}
	if *workers < 1 || *workers > maxHashWorkers {
		return &usageError{msg: fmt.Sprintf("load hash: --concurrency must be between 1 and %d", maxHashWorkers)}
	}
	if err := checkDuration("load hash", *duration); err != nil {
		return err
	}
	params := def
	params.Memory, params.Time, params.Threads = uint32(min(*memory, math.MaxUint32)), uint32(min(*passes, math.MaxUint32)), uint8(min(*threads, 255))
	if errs := params.Validate(); len(errs) > 0 {
		return &usageError{msg: "load hash: " + errors.Join(errs...).Error()}
	}
	h, err := password.NewHasher(params, nil, *workers)
	if err != nil {
		return err
	}
	n, elapsed, err := measureHashes(ctx, h, *workers, *duration)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "load hash: %d goroutines for %v, argon2id m=%d KiB t=%d p=%d\n",
		*workers, *duration, params.Memory, params.Time, params.Threads)
	fmt.Fprintf(env.stdout, "hashes: %d\n", n)
	fmt.Fprintf(env.stdout, "hashes/s: %.1f\n", float64(n)/elapsed.Seconds())
	return nil
}

// measureHashes runs workers goroutines hashing with h for d and returns the
// hashes finished within d.
func measureHashes(ctx context.Context, h *password.Hasher, workers int, d time.Duration) (int64, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(d)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && done.Load() < defaultLoadRequests {
				// A hash that started runs to its end (argon2id cannot be
				// interrupted); it counts only if it ended in time.
				if _, err := h.Hash(context.WithoutCancel(ctx), loadPassword); err != nil {
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

// loginLoad is one closed-loop run against POST /api/v1/sessions: each worker
// sends its next request when the previous answer arrived.
type loginLoad struct {
	endpoint    string
	bodies      [][]byte // one per account; worker i uses bodies[i%len]
	workers     int
	duration    time.Duration
	maxRequests int64
	retryAfter  bool // wait as long as a 429 or 503 asks before the next request
	client      *http.Client
}

// loginResult is what a run observed. Only answers that arrived within the
// run's duration count; requests in flight at its end are cancelled.
type loginResult struct {
	elapsed         time.Duration
	status          map[int]int64
	transportErrors int64
	firstError      string
	latencies       []time.Duration // every answer
	created         []time.Duration // 201 answers
}

func (r *loginResult) requests() int64 {
	var n int64
	for _, c := range r.status {
		n += c
	}
	return n + r.transportErrors
}

func (r *loginResult) merge(o *loginResult) {
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

func (l *loginLoad) run(ctx context.Context) *loginResult {
	start := time.Now()
	deadline := start.Add(l.duration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var issued atomic.Int64
	results := make([]*loginResult, l.workers)
	var wg sync.WaitGroup
	for i := range l.workers {
		res := &loginResult{status: map[int]int64{}}
		results[i] = res
		body := l.bodies[i%len(l.bodies)]
		wg.Go(func() {
			for ctx.Err() == nil && issued.Add(1) <= l.maxRequests {
				l.once(ctx, deadline, body, res)
			}
		})
	}
	wg.Wait()
	total := &loginResult{status: map[int]int64{}, elapsed: min(time.Since(start), l.duration)}
	for _, r := range results {
		total.merge(r)
	}
	return total
}

// once sends one login request and records its answer in res.
func (l *loginLoad) once(ctx context.Context, deadline time.Time, body []byte, res *loginResult) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.endpoint, bytes.NewReader(body))
	if err != nil {
		res.transportErrors++
		res.firstError = cmpOr(res.firstError, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pforte-load")
	began := time.Now()
	resp, err := l.client.Do(req)
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
	if l.retryAfter && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
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

// loopbackServer parses the --server value: an http(s) base URL whose host is
// a loopback address or localhost.
func loopbackServer(raw string) (*url.URL, error) {
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

// loopbackClient returns a client whose connections can reach loopback
// addresses only, whatever a name resolves to, and which keeps one idle
// connection per worker.
func loopbackClient(workers int, timeout time.Duration) *http.Client {
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

func runLoadLogin(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "load login",
		"load login --server http://127.0.0.1:PORT (--kvnr K[,K…] | --kvnr-file FILE) (--password P | --password-file FILE) [--concurrency N] [--duration D] [--pid PID]")
	server := fs.String("server", "", "base `URL` of the node; loopback only")
	kvnrList := fs.String("kvnr", "", "KVNR(s) to log in as, comma-separated")
	kvnrFile := fs.String("kvnr-file", "", "`file` of KVNRs, one a line (as `load setup --out` writes)")
	pw := fs.String("password", "", "the accounts' password")
	pwFile := fs.String("password-file", "", "`file` holding the accounts' password")
	workers := fs.Int("concurrency", 1, fmt.Sprintf("workers, each sending its next request when the answer came (1-%d); worker i logs in as account i mod accounts", maxLoginWorkers))
	duration := fs.Duration("duration", 10*time.Second, "how long to send requests")
	maxRequests := fs.Int64("max-requests", defaultLoadRequests, "stop after this many requests")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one request")
	retryAfter := fs.Bool("retry-after", false, "after a 429 or 503, wait as long as its Retry-After asks (as a well-behaved app does)")
	pid := fs.Int("pid", 0, "server process `id`: reset its peak RSS at the start and print VmHWM and VmRSS from /proc/PID/status at the end")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("load login: unexpected argument %q", fs.Arg(0))}
	}
	base, err := loopbackServer(*server)
	if err != nil {
		return &usageError{msg: "load login: " + err.Error()}
	}
	if *workers < 1 || *workers > maxLoginWorkers {
		return &usageError{msg: fmt.Sprintf("load login: --concurrency must be between 1 and %d", maxLoginWorkers)}
	}
	if err := checkDuration("load login", *duration); err != nil {
		return err
	}
	if *maxRequests < 1 || *timeout <= 0 || *pid < 0 {
		return &usageError{msg: "load login: --max-requests and --timeout must be positive, --pid not negative"}
	}
	kvnrs, err := loadKVNRs(*kvnrList, *kvnrFile)
	if err != nil {
		return err
	}
	secret, err := loadSecret(*pw, *pwFile)
	if err != nil {
		return err
	}
	bodies := make([][]byte, len(kvnrs))
	for i, k := range kvnrs {
		bodies[i], _ = json.Marshal(map[string]string{"kvnr": k, "password": secret})
	}
	l := &loginLoad{
		endpoint:    base.Scheme + "://" + base.Host + "/api/v1/sessions",
		bodies:      bodies,
		workers:     *workers,
		duration:    *duration,
		maxRequests: *maxRequests,
		retryAfter:  *retryAfter,
		client:      loopbackClient(*workers, *timeout),
	}
	peakReset := *pid > 0 && resetPeakRSS(*pid) == nil
	res := l.run(ctx)
	l.client.CloseIdleConnections()
	printLoginResult(env.stdout, l, res)
	if *pid > 0 {
		printProcMemory(env.stdout, *pid, peakReset)
	}
	return nil
}

// loadKVNRs reads the accounts from --kvnr or --kvnr-file (exactly one).
func loadKVNRs(list, file string) ([]string, error) {
	if (list == "") == (file == "") {
		return nil, &usageError{msg: "load login: give exactly one of --kvnr and --kvnr-file"}
	}
	var raw []string
	if list != "" {
		raw = strings.Split(list, ",")
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("load login: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() && len(raw) <= maxLoginWorkers {
			raw = append(raw, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("load login: %s: %w", file, err)
		}
	}
	var out []string
	for _, k := range raw {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	if len(out) == 0 || len(out) > maxLoginWorkers {
		return nil, &usageError{msg: fmt.Sprintf("load login: give between 1 and %d KVNRs", maxLoginWorkers)}
	}
	return out, nil
}

// loadSecret reads the password from --password or --password-file (exactly
// one).
func loadSecret(pw, file string) (string, error) {
	if (pw == "") == (file == "") {
		return "", &usageError{msg: "load login: give exactly one of --password and --password-file"}
	}
	if pw != "" {
		return pw, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("load login: %w", err)
	}
	s := strings.TrimRight(string(raw), "\r\n")
	if s == "" {
		return "", &usageError{msg: "load login: " + file + " is empty"}
	}
	return s, nil
}

// percentile returns the q-quantile (0 < q ≤ 1) of sorted by the nearest-rank
// method, or 0 for no values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// printLoginResult writes one "key: value" line per figure (scripts/bench-login
// reads them).
func printLoginResult(w io.Writer, l *loginLoad, r *loginResult) {
	slices.Sort(r.latencies)
	slices.Sort(r.created)
	fmt.Fprintf(w, "load login: %d workers for %v against %s, %d accounts\n", l.workers, l.duration, l.endpoint, len(l.bodies))
	fmt.Fprintf(w, "requests: %d\n", r.requests())
	fmt.Fprintf(w, "logins/s: %.1f\n", float64(r.status[http.StatusCreated])/r.elapsed.Seconds())
	fmt.Fprintf(w, "answers/s: %.1f\n", float64(len(r.latencies))/r.elapsed.Seconds())
	for _, q := range []struct {
		name string
		v    float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
		fmt.Fprintf(w, "latency %s: %s\n", q.name, ms(percentile(r.latencies, q.v)))
	}
	fmt.Fprintf(w, "latency 201 p99: %s\n", ms(percentile(r.created, 0.99)))
	known := []int{http.StatusCreated, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable}
	var other int64
	var others []string
	codes := make([]int, 0, len(r.status))
	for code := range r.status {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
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

// resetPeakRSS sets the peak RSS (VmHWM) of process pid back to its current
// RSS, so that the figure printed at the end is this run's peak.
func resetPeakRSS(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// printProcMemory prints VmHWM and VmRSS of process pid from /proc.
func printProcMemory(w io.Writer, pid int, peakReset bool) {
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
