package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// syncBuffer is a bytes.Buffer the node's handlers write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exchange is one request to the node and its answer, as the node saw them.
type exchange struct {
	method, path, query string
	header              http.Header // the request's
	body                []byte      // the request's
	status              int
	respHeader          http.Header
	respBody            []byte
}

// traffic records every request to a node and every answer, whatever client
// sent it.
type traffic struct {
	mu  sync.Mutex
	all []exchange
}

func (tr *traffic) exchanges() []exchange {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]exchange(nil), tr.all...)
}

func (tr *traffic) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.all = append(tr.all, exchange{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(),
			body: body, status: rw.status, respHeader: w.Header().Clone(), respBody: rw.body.Bytes()})
	})
}

type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// watchedNode is an oidcNode whose log (JSON, level debug) and traffic the
// test reads, with the core system's outbox open to outboxToken.
type watchedNode struct {
	*oidcNode
	logs        *syncBuffer
	traffic     *traffic
	outboxToken string
	ring        *seal.Keyring
}

// startWatchedNode starts a node like startOIDCNode (the same clients; one
// person with a password, others without an account), logging at level
// debug into a buffer and recording its traffic.
func startWatchedNode(t *testing.T, st *sqlstore.Store, redirect string) *watchedNode {
	t.Helper()
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	k, _ := seal.GenerateKey("t1")
	cfg := defaultConfig()
	cfg.DataKeys = k.Encode()
	cfg.Audit.Key = testAuditKeyText
	cfg.PublicURL = base
	cfg.Password.MemoryKiB, cfg.Password.Time = 8*1024, 1
	cfg.HTTP.LoginRatePerIP, cfg.HTTP.LoginBurstPerIP = 1_000_000, 1_000_000
	cfg.OIDC.SubjectKey = newSubjectKey()
	cfg.OIDC.Clients = []oidc.ClientConfig{
		{ID: rpID, Name: "Bonusprogramm", Secret: rpSecret, RedirectURIs: []string{redirect},
			PostLogoutRedirectURIs: []string{redirect + "/abgemeldet"},
			Scopes:                 []string{oidc.ScopeProfile, oidc.ScopeKVNR, oidc.ScopeOfflineAccess},
			Levels:                 []string{"low", "substantial", "high"}},
	}
	outboxToken := "core-" + strings.Repeat("x", 4) + newSubjectKey()
	tokenFile := filepath.Join(t.TempDir(), "outbox-token")
	if err := os.WriteFile(tokenFile, []byte(outboxToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Outbox.ClientTokenFile = tokenFile
	if problems := cfg.validate(needs{keys: true, http: true}); len(problems) > 0 {
		t.Fatal(problems)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The OpenID provider library logs through the default logger, as it
	// does in a served process (environment.useLogger). No test of this
	// package runs in parallel.
	prev := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(prev) })
	a, err := buildNode(ctx, cfg, logger, st)
	if err != nil {
		t.Fatal(err)
	}
	tr := &traffic{}
	hs := &http.Server{Handler: tr.wrap(a.Handler()), ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	var csv bytes.Buffer
	if err := registry.Generate(&csv, 3, 7, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	ring, err := cfg.keyring()
	if err != nil {
		t.Fatal(err)
	}
	im := registry.NewImporter(st, ring, importAuditor{audit.New(st, testAuditKey(), time.Now, logger)}, time.Now)
	if _, err := im.Import(ctx, bytes.NewReader(csv.Bytes()), registry.ImportOptions{BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	all, err := firstPersons(ctx, st, csv.Bytes(), 3)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := loadAccountPassword(a.Accounts, all[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := prepareAccounts(ctx, a, all[:1], pw); err != nil {
		t.Fatal(err)
	}
	n := &oidcNode{a: a, st: st, base: base, issuer: base + "/oidc", person: all[0], persons: all[:1], password: pw,
		others: all[1:], app: &appclient.Client{BaseURL: base}, cfg: cfg, addr: ln.Addr().String()}
	return &watchedNode{oidcNode: n, logs: logs, traffic: tr, outboxToken: outboxToken, ring: ring}
}

// apiCall sends a JSON request to the node's API with an optional bearer
// token and returns the status and the raw body.
func apiCall(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}
