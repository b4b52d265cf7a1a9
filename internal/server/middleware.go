package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
)

// requestState is what the chain learns about one request. The outermost
// middleware creates it, inner ones fill it in on the same goroutine, and
// outer ones read it after the inner ones returned.
type requestState struct {
	id    string // request id, set by requestID
	route string // matched pattern or routeUnmatched, set by the router
}

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// withState returns r carrying a requestState, creating one if needed.
func withState(r *http.Request) (*http.Request, *requestState) {
	if st := stateFrom(r.Context()); st != nil {
		return r, st
	}
	st := &requestState{route: routeUnmatched}
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st)), st
}

// RequestID returns the id of the request ctx belongs to, or "" outside a
// request served by this package.
func RequestID(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// RequestIDAttr returns the request id of ctx as the slog attribute
// request_id, for log lines written while handling a request.
func RequestIDAttr(ctx context.Context) slog.Attr {
	return slog.String("request_id", RequestID(ctx))
}

// chain wraps the router in the middleware, outermost first.
func (s *Server) chain(router http.Handler) http.Handler {
	h := s.outage(s.securityHeaders(router))
	h = s.limitBody(h)
	h = s.measure(h)
	h = s.accessLog(h)
	h = requestID(h)
	return s.recoverPanic(h)
}

// recoverPanic turns a panic into a logged stack and a 500 answer without
// details. If the answer had already begun it aborts the connection, so the
// client cannot take a truncated answer for a complete one.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		rec := newRecorder(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // a deliberate abort: net/http closes the connection quietly
			}
			s.logger.ErrorContext(r.Context(), "handler panicked",
				"panic", fmt.Sprint(v),
				"stack", string(debug.Stack()),
				"method", r.Method,
				"route", st.route,
				"request_id", st.id,
			)
			if rec.wroteHeader() {
				panic(http.ErrAbortHandler)
			}
			// Drop whatever the handler had set (cookies, content type) and
			// answer with the defaults only.
			h := rec.Header()
			clear(h)
			setSecurityHeaders(h, r.TLS != nil)
			if st.id != "" {
				h.Set("X-Request-Id", st.id)
			}
			WriteError(rec, http.StatusInternalServerError, "internal", msgInternal)
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestIDPattern is what an incoming X-Request-Id must look like to be kept.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a well-formed X-Request-Id from the request or makes a new
// one, echoes it in the answer and stores it in the request state.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		st.id = id
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r)
	})
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// accessLog writes one Info line per request. It logs the route pattern,
// never the raw path, the query string or headers: they may carry codes.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		start := time.Now()
		rec := newRecorder(w)
		done := false
		defer func() {
			status := rec.statusOrOK()
			if !done && !rec.wroteHeader() {
				status = http.StatusInternalServerError // panicking; recoverPanic answers 500
			}
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("method", r.Method),
				slog.String("route", st.route),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("request_id", st.id),
				slog.String("remote_ip", remoteIP(r.RemoteAddr)),
			)
		}()
		next.ServeHTTP(rec, r)
		done = true
	})
}

// remoteIP is the host part of a RemoteAddr.
func remoteIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// measure records the request metrics once the answer is complete.
func (s *Server) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		start := time.Now()
		rec := newRecorder(w)
		done := false
		defer func() {
			status := rec.statusOrOK()
			if !done && !rec.wroteHeader() {
				status = http.StatusInternalServerError // panicking; recoverPanic answers 500
			}
			s.metrics.observe(r.Method, st.route, status, time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
		done = true
	})
}

// limitBody answers 413 when the declared body is above the limit and caps
// every body, so a handler reading past the limit gets an
// *http.MaxBytesError.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBodyBytes
		for prefix, max := range s.cfg.LargeBodies {
			if max > limit && strings.HasPrefix(r.URL.Path, prefix) {
				limit = max
			}
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			WriteError(w, http.StatusRequestEntityTooLarge, "request_too_large", msgTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r2 := *r
			r2.Body = http.MaxBytesReader(w, r.Body, limit)
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// Default security headers. A package serving pages overwrites
// Content-Security-Policy with its own page policy, and Cache-Control for
// cacheable assets.
const (
	defaultCSP         = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	permissionsPolicy  = "camera=(), microphone=(), geolocation=()"
	strictTransportSec = "max-age=63072000; includeSubDomains"
)

// securityHeaders sets the default security headers before the handler runs,
// so the handler may overwrite any of them.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), r.TLS != nil)
		next.ServeHTTP(w, r)
	})
}

// setSecurityHeaders sets the default security headers on h; overTLS adds
// Strict-Transport-Security.
func setSecurityHeaders(h http.Header, overTLS bool) {
	h.Set("Content-Security-Policy", defaultCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("Cache-Control", "no-store")
	if overTLS {
		h.Set("Strict-Transport-Security", strictTransportSec)
	}
}

// route dispatches to the mux. The mux answers unknown routes and wrong
// methods in plain text itself, so those are detected here (no pattern
// matched) and answered in JSON, with the Allow header the mux computed.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		status := http.StatusNotFound
		if probe.status == http.StatusMethodNotAllowed {
			status = http.StatusMethodNotAllowed
			w.Header().Set("Allow", probe.header.Get("Allow"))
		}
		if s.pages != nil && wantsPage(r) {
			s.pages(w, r, status)
			return
		}
		if status == http.StatusMethodNotAllowed {
			WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", msgMethodNotAllowed)
			return
		}
		WriteError(w, http.StatusNotFound, "not_found", msgNotFound)
		return
	}
	if st := stateFrom(r.Context()); st != nil {
		st.route = pattern
	}
	s.mux.ServeHTTP(w, r)
}

// headerProbe collects the status and headers of the mux's own 404 and 405
// answers and drops their plain-text bodies.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }

// wantsPage reports whether an unmatched request is a browser's that should
// get a page: it accepts HTML and is not for the API.
func wantsPage(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}
