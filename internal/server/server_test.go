package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func TestOperationalEndpoints(t *testing.T) {
	healthy := readyFunc(func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("ping without deadline")
		}
		return nil
	})
	failing := readyFunc(func(ctx context.Context) error {
		return errors.New("dial tcp 10.0.0.5:5432: connection refused")
	})
	tests := []struct {
		name       string
		ready      ReadyChecker
		path       string
		wantStatus int
		wantBody   map[string]string
	}{
		{"healthz", failing, "/healthz", http.StatusOK, map[string]string{"status": "ok"}},
		{"readyz healthy", healthy, "/readyz", http.StatusOK, map[string]string{"status": "ready"}},
		{"readyz without checker", nil, "/readyz", http.StatusOK, map[string]string{"status": "ready"}},
		{"readyz failing", failing, "/readyz", http.StatusServiceUnavailable, map[string]string{"status": "unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{}, tt.ready, nil)
			res := f.do(t, http.MethodGet, tt.path, nil, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if got, want := res.header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if diff := cmp.Diff(tt.wantBody, jsonBody(t, res.body)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadyzLogsCauseNotShown(t *testing.T) {
	f := newFixture(t, Config{}, readyFunc(func(context.Context) error {
		return errors.New("connection refused")
	}), nil)
	res := f.do(t, http.MethodGet, "/readyz", nil, http.Header{"X-Request-Id": {"ready-1"}})
	if strings.Contains(res.body, "refused") {
		t.Errorf("body %q shows the cause", res.body)
	}
	lines := f.logs.lines(t, "readiness check failed")
	if len(lines) != 1 {
		t.Fatalf("got %d readiness log lines, want 1:\n%s", len(lines), f.logs)
	}
	got := map[string]any{"error": lines[0]["error"], "request_id": lines[0]["request_id"], "level": lines[0]["level"]}
	want := map[string]any{"error": "connection refused", "request_id": "ready-1", "level": "WARN"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log line mismatch (-want +got):\n%s", diff)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, Config{}, nil, func(s *Server) {
		s.Handle("GET /items/{code}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}))
	})
	f.do(t, http.MethodGet, "/healthz", nil, nil)
	f.do(t, http.MethodGet, "/items/SECRET-CODE-1", nil, nil)
	f.do(t, http.MethodGet, "/items/SECRET-CODE-2", nil, nil)
	f.do(t, http.MethodGet, "/nowhere/SECRET-CODE-3", nil, nil)
	f.do(t, "BREW", "/healthz", nil, nil)

	res := f.do(t, http.MethodGet, "/metrics", nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET /metrics status = %d, want 200", res.status)
	}
	wantLines := []string{
		`pforte_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`pforte_http_requests_total{code="204",method="GET",route="GET /items/{code}"} 2`,
		`pforte_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`pforte_http_requests_total{code="405",method="other",route="unmatched"} 1`,
		`pforte_http_request_duration_seconds_count{method="GET",route="GET /items/{code}"} 2`,
	}
	for _, want := range wantLines {
		if !strings.Contains(res.body, want+"\n") {
			t.Errorf("metrics lack line %q", want)
		}
	}
	for _, prefix := range []string{"go_goroutines ", "process_start_time_seconds "} {
		if !strings.Contains(res.body, "\n"+prefix) {
			t.Errorf("metrics lack %q", prefix)
		}
	}
	if strings.Contains(res.body, "SECRET") {
		t.Errorf("metrics contain a raw path")
	}
}

func TestNewReusesRegisteredCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := New(Config{}, nil, nil, reg)
	b := New(Config{}, nil, nil, reg) // must not panic
	if a.metrics.requests != b.metrics.requests {
		t.Errorf("second server registered its own counter instead of reusing the first")
	}
}

// listeningNotifier is a slog handler that reports the "server listening" line.
type listeningNotifier struct {
	slog.Handler
	listening chan struct{}
}

func (h listeningNotifier) Enabled(context.Context, slog.Level) bool { return true }

func (h listeningNotifier) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "server listening" {
		close(h.listening)
	}
	return h.Handler.Handle(ctx, r)
}

func TestRun(t *testing.T) {
	listening := make(chan struct{})
	logger := slog.New(listeningNotifier{Handler: slog.DiscardHandler, listening: listening})
	srv := New(Config{Listen: "127.0.0.1:0"}, logger, nil, prometheus.NewRegistry())
	if got := srv.Addr(); got != "" {
		t.Errorf("Addr() before listening = %q, want empty", got)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-listening

	res, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", res.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
}

func TestRunListenError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	srv := New(Config{Listen: taken.Addr().String()}, nil, nil, nil)
	err = srv.Run(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "server: listen on ") {
		t.Errorf("Run() on a taken address = %v, want a listen error", err)
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	srv := New(Config{}, nil, nil, nil)
	srv.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		fmt.Fprint(w, "done")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{status: res.StatusCode, body: string(b), err: err}
	}()

	<-started
	cancel()
	<-srv.Draining() // shutdown has begun while the request is in flight
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}
	close(release)

	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "done" {
		t.Errorf("in-flight request = (%d, %q, %v), want (200, \"done\", nil)", r.status, r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v, want nil", err)
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	srv := New(Config{ShutdownTimeout: time.Millisecond}, nil, nil, nil)
	srv.Handle("GET /stuck", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/stuck")
		if err == nil {
			res.Body.Close()
		}
	}()
	<-started
	cancel()
	err = <-served
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve() = %v, want a shutdown deadline error", err)
	}
}
