package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// readyFunc adapts a function to ReadyChecker.
type readyFunc func(ctx context.Context) error

func (f readyFunc) Ping(ctx context.Context) error { return f(ctx) }

// logBuffer is a goroutine-safe sink for a JSON slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the decoded log lines whose message is msg.
func (b *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// fixture is a Server behind a real httptest server.
type fixture struct {
	srv  *Server
	ts   *httptest.Server
	logs *logBuffer
	reg  *prometheus.Registry
}

// newFixture builds a Server with cfg and ready, lets mount add routes, and
// serves it with httptest.
func newFixture(t *testing.T, cfg Config, ready ReadyChecker, mount func(*Server)) *fixture {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	srv := New(cfg, logger, ready, reg)
	if mount != nil {
		mount(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{srv: srv, ts: ts, logs: logs, reg: reg}
}

// response is what a test looks at in an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the fixture's client and reads the whole answer.
func (f *fixture) do(t *testing.T, method, path string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.ts.URL+path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// jsonBody decodes a JSON object answer into a map for comparison.
func jsonBody(t *testing.T, body string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body is not a JSON object of strings: %v: %q", err, body)
	}
	return m
}
