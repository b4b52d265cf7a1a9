package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestOutageTurns500Into503 checks the outage rule: a handler's 500 while
// the database does not answer becomes 503 with Retry-After (a page for a
// browser, the JSON error for everyone else, the handler's body dropped); a
// 500 while it answers, and every other status, pass unchanged.
func TestOutageTurns500Into503(t *testing.T) {
	var down atomic.Bool
	pings := atomic.Int32{}
	ready := readyFunc(func(context.Context) error {
		pings.Add(1)
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	f := newFixture(t, Config{}, ready, func(s *Server) {
		s.probe.now = func() time.Time { return time.Unix(int64(pings.Load())*10, 0) } // every decision pings afresh
		s.Handle("GET /broken", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Set-Cookie", "half=done")
			http.Error(w, "secret cause: table persons", http.StatusInternalServerError)
		}))
		s.Handle("GET /fine", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("fine"))
		}))
		s.Handle("GET /refused", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nein", http.StatusForbidden)
		}))
	})
	page := http.Header{"Accept": {"text/html"}}

	res := f.do(t, http.MethodGet, "/broken", nil, nil)
	if res.status != http.StatusInternalServerError {
		t.Errorf("500 while the database answers: got %d, want it kept", res.status)
	}

	down.Store(true)
	res = f.do(t, http.MethodGet, "/broken", nil, nil)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "5" {
		t.Fatalf("500 while the database is down: got %d Retry-After %q, want 503 and 5", res.status, res.header.Get("Retry-After"))
	}
	if got := jsonBody(t, res.body); got["error"] != "unavailable" || got["message"] != msgUnavailable {
		t.Errorf("JSON body = %v", got)
	}
	if strings.Contains(res.body, "secret") || res.header.Get("Set-Cookie") != "" {
		t.Errorf("the handler's body or cookie leaked into the 503: %q %q", res.body, res.header.Get("Set-Cookie"))
	}
	if res.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers lost on the 503")
	}

	res = f.do(t, http.MethodGet, "/broken?x=1", nil, page)
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: got %d %q", res.status, res.header.Get("Content-Type"))
	}
	if !strings.Contains(res.body, `href="/broken?x=1"`) || !strings.Contains(res.body, "Erneut versuchen") {
		t.Errorf("the page does not lead back to itself: %s", res.body)
	}

	for _, path := range []string{"//evil.example/x", "///evil.example/x"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = path
		r.Header.Set("Accept", "text/html")
		w := httptest.NewRecorder()
		writeUnavailable(w, r)
		if strings.Contains(w.Body.String(), "evil.example") || !strings.Contains(w.Body.String(), `href="/"`) {
			t.Errorf("the way back from %q leads elsewhere than home: %s", path, w.Body.String())
		}
	}

	for path, want := range map[string]int{"/fine": http.StatusOK, "/refused": http.StatusForbidden} {
		if res := f.do(t, http.MethodGet, path, nil, nil); res.status != want {
			t.Errorf("%s while the database is down: got %d, want %d unchanged", path, res.status, want)
		}
	}
}

// TestOutageProbeRemembers checks that a burst of failures pings once per
// outageMemory, not once per request.
func TestOutageProbeRemembers(t *testing.T) {
	var pings int
	now := time.Unix(1000, 0)
	p := &outageProbe{ready: readyFunc(func(context.Context) error { pings++; return errors.New("down") }), now: func() time.Time { return now }}
	for range 50 {
		if !p.databaseDown(t.Context()) {
			t.Fatal("down database reported up")
		}
	}
	now = now.Add(outageMemory)
	p.databaseDown(t.Context())
	if pings != 2 {
		t.Errorf("pings = %d, want 2 (one per %v)", pings, outageMemory)
	}
}

// TestOutageProbeRechecksUp checks that a database that answered a moment ago
// and went away since is reported down: only a "down" verdict is reused.
func TestOutageProbeRechecksUp(t *testing.T) {
	var down bool
	now := time.Unix(1000, 0)
	p := &outageProbe{ready: readyFunc(func(context.Context) error {
		if down {
			return errors.New("down")
		}
		return nil
	}), now: func() time.Time { return now }}
	if p.databaseDown(t.Context()) {
		t.Fatal("database that answers reported down")
	}
	down = true
	now = now.Add(outageMemory / 10)
	if !p.databaseDown(t.Context()) {
		t.Error("database gone right after a successful ping reported up")
	}
}
