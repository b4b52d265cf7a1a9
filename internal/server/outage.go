package server

import (
	"context"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// While the database cannot be reached (PostgreSQL restarting, a network
// cut to it), every handler that needs it fails and answers 500 from its
// own error path. A 500 tells a client and a load balancer "this request is
// broken"; the truth is "this node cannot serve right now, ask again soon".
// outage turns a handler's 500 into 503 with Retry-After when, at that
// moment, the database does not answer a ping; a 500 while the database
// answers stays a 500 (a real defect, logged by the handler). It is one
// place for every package, including the OpenID library's handlers, which
// answer storage errors with 500 on their own.

const (
	// outageRetryAfter is the Retry-After sent while the database is away.
	outageRetryAfter = 5 * time.Second
	// outagePingTimeout bounds the ping that decides.
	outagePingTimeout = time.Second
	// outageMemory is how long a "down" verdict is reused, so that a burst
	// of failing requests pings once, not once each. An "up" verdict is
	// never reused: the database may have gone away right after it (the
	// reliability suite saw 500s in the first second of a PostgreSQL
	// restart), and while it answers 500s are rare.
	outageMemory = time.Second

	msgUnavailable = "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es in wenigen Sekunden erneut."
)

// outageProbe remembers the last verdict of the database ping.
type outageProbe struct {
	ready ReadyChecker
	now   func() time.Time

	mu      sync.Mutex
	checked time.Time
	down    bool
}

// databaseDown reports whether the database does not answer now.
func (p *outageProbe) databaseDown(ctx context.Context) bool {
	if p.ready == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.down && now.Sub(p.checked) < outageMemory {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outagePingTimeout)
	defer cancel()
	p.down = p.ready.Ping(ctx) != nil
	p.checked = now
	return p.down
}

// outage wraps next so that a 500 written while the database is down
// becomes a 503 with Retry-After (see the comment at the top of this file).
func (s *Server) outage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&outageWriter{ResponseWriter: w, r: r, probe: s.probe}, r)
	})
}

// outageWriter passes everything through until the handler sends 500 while
// the database is down; then it sends its own 503 and drops the handler's
// body.
type outageWriter struct {
	http.ResponseWriter
	r        *http.Request
	probe    *outageProbe
	decided  bool // the status has been sent
	replaced bool // ours was sent instead of the handler's
}

func (o *outageWriter) WriteHeader(code int) {
	if o.decided || code < 200 {
		if !o.replaced {
			o.ResponseWriter.WriteHeader(code)
		}
		return
	}
	o.decided = true
	if code != http.StatusInternalServerError || !o.probe.databaseDown(o.r.Context()) {
		o.ResponseWriter.WriteHeader(code)
		return
	}
	o.replaced = true
	writeUnavailable(o.ResponseWriter, o.r)
}

func (o *outageWriter) Write(b []byte) (int, error) {
	if !o.decided {
		o.decided = true
	}
	if o.replaced {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// Flush implements http.Flusher for handlers that assert it directly.
func (o *outageWriter) Flush() {
	if !o.replaced {
		_ = http.NewResponseController(o.ResponseWriter).Flush()
	}
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (o *outageWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// unavailablePage is the page a browser gets while the database is away:
// what happened and the way back (try again), in German and English.
var unavailablePage = template.Must(template.New("unavailable").Parse(`<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vorübergehend nicht erreichbar</title></head>
<body>
<main>
<h1>Vorübergehend nicht erreichbar</h1>
<p>{{.German}}</p>
<p><a href="{{.Again}}">Erneut versuchen</a></p>
<h2 lang="en">Temporarily unavailable</h2>
<p lang="en">The service cannot be reached right now. Please try again in a few seconds.</p>
</main>
</body>
</html>
`))

// writeUnavailable sends 503 with Retry-After: a page to a browser asking for
// one, the JSON error body to everyone else. The handler's headers that
// describe its own body are dropped; security headers stay.
func writeUnavailable(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Del("Set-Cookie")
	h.Set("Retry-After", strconv.Itoa(int(outageRetryAfter/time.Second)))
	h.Set("Cache-Control", "no-store")
	if wantsPage(r) {
		again := "/"
		if uri := r.URL.RequestURI(); r.Method == http.MethodGet && strings.HasPrefix(uri, "/") &&
			!strings.HasPrefix(uri, "//") && !strings.Contains(uri, `\`) {
			again = uri // the same page again; never another host
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = unavailablePage.Execute(w, struct{ German, Again string }{msgUnavailable, again})
		return
	}
	WriteError(w, http.StatusServiceUnavailable, "unavailable", msgUnavailable)
}
