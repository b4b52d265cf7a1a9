package server

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name     string
		incoming string
		wantKept bool
	}{
		{name: "none sent", incoming: ""},
		{name: "well-formed accepted", incoming: "edge-7f3a.1_B", wantKept: true},
		{name: "64 characters accepted", incoming: strings.Repeat("a", 64), wantKept: true},
		{name: "65 characters replaced", incoming: strings.Repeat("a", 65)},
		{name: "space replaced", incoming: "abc def"},
		{name: "injection replaced", incoming: `x"}{"admin":true`},
		{name: "non-ascii replaced", incoming: "anfrage-ä"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inHandler string
			f := newFixture(t, Config{}, nil, func(s *Server) {
				s.Handle("GET /id", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					inHandler = RequestID(r.Context())
				}))
			})
			header := http.Header{}
			if tt.incoming != "" {
				header.Set("X-Request-Id", tt.incoming)
			}
			res := f.do(t, http.MethodGet, "/id", nil, header)
			got := res.header.Get("X-Request-Id")
			if tt.wantKept {
				if got != tt.incoming {
					t.Errorf("X-Request-Id = %q, want the incoming %q", got, tt.incoming)
				}
			} else if !generated.MatchString(got) {
				t.Errorf("X-Request-Id = %q, want 32 hex digits", got)
			}
			if inHandler != got {
				t.Errorf("RequestID(ctx) = %q, want the echoed %q", inHandler, got)
			}
			lines := f.logs.lines(t, "http request")
			if len(lines) != 1 || lines[0]["request_id"] != got {
				t.Errorf("access log request_id = %v, want %q", lines, got)
			}
		})
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	f := newFixture(t, Config{}, nil, nil)
	a := f.do(t, http.MethodGet, "/healthz", nil, nil).header.Get("X-Request-Id")
	b := f.do(t, http.MethodGet, "/healthz", nil, nil).header.Get("X-Request-Id")
	if a == b {
		t.Errorf("two requests got the same id %q", a)
	}
}

func TestRequestIDOutsideRequest(t *testing.T) {
	if got := RequestID(t.Context()); got != "" {
		t.Errorf("RequestID(background) = %q, want empty", got)
	}
	if got := RequestIDAttr(t.Context()).Key; got != "request_id" {
		t.Errorf("RequestIDAttr key = %q, want request_id", got)
	}
}

func TestAccessLog(t *testing.T) {
	f := newFixture(t, Config{}, nil, func(s *Server) {
		s.Handle("POST /codes/{code}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, "hello")
		}))
	})
	req := httptest.NewRequest(http.MethodPost, "/codes/ACT-SECRET?token=TOKEN-SECRET", strings.NewReader("{}"))
	req.RemoteAddr = "192.0.2.7:51234"
	req.Header.Set("X-Request-Id", "log-test-1")
	req.Header.Set("Authorization", "Bearer HEADER-SECRET")
	f.srv.Handler().ServeHTTP(httptest.NewRecorder(), req)

	lines := f.logs.lines(t, "http request")
	if len(lines) != 1 {
		t.Fatalf("got %d access log lines, want 1:\n%s", len(lines), f.logs)
	}
	line := lines[0]
	if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v, want a non-negative number", line["duration_ms"])
	}
	delete(line, "duration_ms")
	delete(line, "time")
	want := map[string]any{
		"level":      "INFO",
		"msg":        "http request",
		"method":     "POST",
		"route":      "POST /codes/{code}",
		"status":     float64(http.StatusAccepted),
		"bytes":      float64(len("hello")),
		"request_id": "log-test-1",
		"remote_ip":  "192.0.2.7",
	}
	if diff := cmp.Diff(want, line); diff != "" {
		t.Errorf("access log line mismatch (-want +got):\n%s", diff)
	}
	if s := f.logs.String(); strings.Contains(s, "SECRET") || strings.Contains(s, "token") {
		t.Errorf("log contains the path, query or headers:\n%s", s)
	}
}

func TestPanicRecovery(t *testing.T) {
	f := newFixture(t, Config{}, nil, func(s *Server) {
		s.Handle("GET /boom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Set-Cookie", "__Host-session=abc; Secure; Path=/")
			panic("bug holding PANIC-SECRET")
		}))
		s.Handle("GET /boom-late", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			http.NewResponseController(w).Flush()
			panic("late bug")
		}))
	})

	res := f.do(t, http.MethodGet, "/boom", nil, http.Header{"X-Request-Id": {"panic-1"}})
	if res.status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", res.status)
	}
	wantBody := map[string]string{"error": "internal", "message": msgInternal}
	if diff := cmp.Diff(wantBody, jsonBody(t, res.body)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	gotHeaders := map[string]string{
		"Set-Cookie":              res.header.Get("Set-Cookie"),
		"X-Request-Id":            res.header.Get("X-Request-Id"),
		"Content-Security-Policy": res.header.Get("Content-Security-Policy"),
	}
	wantHeaders := map[string]string{"Set-Cookie": "", "X-Request-Id": "panic-1", "Content-Security-Policy": defaultCSP}
	if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
		t.Errorf("headers mismatch (-want +got):\n%s", diff)
	}

	panics := f.logs.lines(t, "handler panicked")
	if len(panics) != 1 {
		t.Fatalf("got %d panic log lines, want 1", len(panics))
	}
	if stack, _ := panics[0]["stack"].(string); !strings.Contains(stack, "goroutine") {
		t.Errorf("panic log has no stack: %v", panics[0])
	}
	if got := panics[0]["request_id"]; got != "panic-1" {
		t.Errorf("panic log request_id = %v, want panic-1", got)
	}
	access := f.logs.lines(t, "http request")
	if len(access) != 1 || access[0]["status"] != float64(http.StatusInternalServerError) {
		t.Errorf("access log = %v, want one line with status 500", access)
	}

	// A panic after the answer began aborts the connection instead.
	resp, err := f.ts.Client().Get(f.ts.URL + "/boom-late")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Errorf("GET /boom-late read a complete answer, want an aborted one")
	}

	// The process keeps serving.
	if got := f.do(t, http.MethodGet, "/healthz", nil, nil).status; got != http.StatusOK {
		t.Errorf("GET /healthz after panics = %d, want 200", got)
	}
}

func TestBodyLimit(t *testing.T) {
	const limit = 16
	tests := []struct {
		name       string
		body       string
		chunked    bool
		wantStatus int
		wantBody   map[string]string
		wantCalled bool
	}{
		{
			name:       "at the limit",
			body:       strings.Repeat("x", limit),
			wantStatus: http.StatusOK,
			wantBody:   map[string]string{"read": "16"},
			wantCalled: true,
		},
		{
			name:       "declared length above the limit",
			body:       strings.Repeat("x", limit+1),
			wantStatus: http.StatusRequestEntityTooLarge,
			wantBody:   map[string]string{"error": "request_too_large", "message": msgTooLarge},
		},
		{
			name:       "chunked body above the limit",
			body:       strings.Repeat("x", limit+1),
			chunked:    true,
			wantStatus: http.StatusRequestEntityTooLarge,
			wantBody:   map[string]string{"error": "handler_saw_limit", "message": "16"},
			wantCalled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			f := newFixture(t, Config{MaxBodyBytes: limit}, nil, func(s *Server) {
				s.Handle("POST /upload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					called = true
					b, err := io.ReadAll(r.Body)
					var tooLarge *http.MaxBytesError
					if errors.As(err, &tooLarge) {
						WriteError(w, http.StatusRequestEntityTooLarge, "handler_saw_limit", "16")
						return
					}
					if err != nil {
						t.Errorf("read body: %v", err)
					}
					writeJSON(w, http.StatusOK, map[string]string{"read": strconv.Itoa(len(b))})
				}))
			})
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			res := f.do(t, http.MethodPost, "/upload", body, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, jsonBody(t, res.body)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if called != tt.wantCalled {
				t.Errorf("handler called = %v, want %v", called, tt.wantCalled)
			}
		})
	}
}

// TestLargeBodies: a prefix with a larger limit takes bodies up to it, and
// only there; elsewhere the general limit holds.
func TestLargeBodies(t *testing.T) {
	const limit = 16
	f := newFixture(t, Config{MaxBodyBytes: limit, LargeBodies: map[string]int64{"/big/": 64}}, nil, func(s *Server) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				WriteError(w, http.StatusRequestEntityTooLarge, "handler_saw_limit", "")
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"read": strconv.Itoa(len(b))})
		})
		s.Handle("POST /big/upload", h)
		s.Handle("POST /upload", h)
	})
	for _, tt := range []struct {
		path   string
		size   int
		status int
	}{
		{"/big/upload", 64, http.StatusOK},
		{"/big/upload", 65, http.StatusRequestEntityTooLarge},
		{"/upload", 17, http.StatusRequestEntityTooLarge},
		{"/upload", 16, http.StatusOK},
	} {
		res := f.do(t, http.MethodPost, tt.path, strings.NewReader(strings.Repeat("x", tt.size)), nil)
		if res.status != tt.status {
			t.Errorf("POST %s with %d bytes: status %d, want %d", tt.path, tt.size, res.status, tt.status)
		}
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantAllow  string
		wantBody   map[string]string
	}{
		{
			name:       "unknown path",
			method:     http.MethodGet,
			path:       "/gibt-es-nicht",
			wantStatus: http.StatusNotFound,
			wantBody:   map[string]string{"error": "not_found", "message": "Die angeforderte Seite gibt es nicht."},
		},
		{
			name:       "wrong method",
			method:     http.MethodPost,
			path:       "/healthz",
			wantStatus: http.StatusMethodNotAllowed,
			wantAllow:  "GET, HEAD",
			wantBody:   map[string]string{"error": "method_not_allowed", "message": msgMethodNotAllowed},
		},
		{
			name:       "wrong method on a mounted route",
			method:     http.MethodDelete,
			path:       "/things/1",
			wantStatus: http.StatusMethodNotAllowed,
			wantAllow:  "PUT",
			wantBody:   map[string]string{"error": "method_not_allowed", "message": msgMethodNotAllowed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil, func(s *Server) {
				s.Handle("PUT /things/{id}", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			})
			res := f.do(t, tt.method, tt.path, nil, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if got := res.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
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

func TestSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
		"Cache-Control":              "no-store",
		"Strict-Transport-Security":  "",
	}
	const pageCSP = "default-src 'self'"
	mount := func(s *Server) {
		s.Handle("GET /page", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", pageCSP)
		}))
	}
	pick := func(h http.Header) map[string]string {
		got := map[string]string{}
		for k := range want {
			got[k] = h.Get(k)
		}
		return got
	}

	f := newFixture(t, Config{}, nil, mount)
	for _, path := range []string{"/healthz", "/gibt-es-nicht", "/metrics"} {
		if diff := cmp.Diff(want, pick(f.do(t, http.MethodGet, path, nil, nil).header)); diff != "" {
			t.Errorf("GET %s headers mismatch (-want +got):\n%s", path, diff)
		}
	}
	if got := f.do(t, http.MethodGet, "/page", nil, nil).header.Get("Content-Security-Policy"); got != pageCSP {
		t.Errorf("handler CSP = %q, want its own %q", got, pageCSP)
	}

	srv := New(Config{}, nil, nil, nil)
	ts := httptest.NewTLSServer(srv.Handler())
	defer ts.Close()
	res, err := ts.Client().Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	res.Body.Close()
	wantTLS := map[string]string{}
	for k, v := range want {
		wantTLS[k] = v
	}
	wantTLS["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
	if diff := cmp.Diff(wantTLS, pick(res.Header)); diff != "" {
		t.Errorf("TLS headers mismatch (-want +got):\n%s", diff)
	}
}

func TestResponseControllerThroughChain(t *testing.T) {
	f := newFixture(t, Config{WriteTimeout: time.Second}, nil, func(s *Server) {
		s.Handle("GET /events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if err := rc.SetWriteDeadline(time.Time{}); err != nil {
				t.Errorf("SetWriteDeadline through the chain: %v", err)
			}
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: eins\n\n")
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush through the chain: %v", err)
			}
			io.WriteString(w, "data: zwei\n\n")
		}))
	})
	res, err := f.ts.Client().Get(f.ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "data: eins\n" {
		t.Errorf("first event = %q, %v; want %q", line, err, "data: eins\n")
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, http.StatusBadRequest, "invalid_kvnr", "Die Krankenversichertennummer ist ungültig.")
	got := response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	if got.status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", got.status)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	want := `{"error":"invalid_kvnr","message":"Die Krankenversichertennummer ist ungültig."}` + "\n"
	if diff := cmp.Diff(want, got.body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}
