package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ReadyChecker reports whether the node can serve requests that need its
// database. Ping returns nil when the database answers within the deadline of
// ctx and an error otherwise; it must not change any data and must be safe to
// call concurrently and often.
type ReadyChecker interface {
	Ping(ctx context.Context) error
}

// Server is the HTTP frame of one Pforte node. Mount handlers with Handle
// before calling Serve or Run; serve at most once.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	ready   ReadyChecker
	reg     *prometheus.Registry
	metrics *httpMetrics
	mux     *http.ServeMux
	handler http.Handler
	pages   PageFallback // nil: unknown routes are answered in JSON only
	probe   *outageProbe

	mu        sync.Mutex
	addr      string
	draining  chan struct{}
	drainOnce sync.Once
}

// New returns a Server for cfg, which should have passed Config.Validate;
// zero fields take their defaults. It registers the Go and process collectors
// and the HTTP metrics on reg, reusing collectors already registered there.
// A nil logger discards logs, a nil ready always reports ready, and a nil reg
// is replaced by a fresh registry.
func New(cfg Config, logger *slog.Logger, ready ReadyChecker, reg *prometheus.Registry) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{
		cfg:      cfg.withDefaults(),
		logger:   logger,
		ready:    ready,
		reg:      reg,
		metrics:  newHTTPMetrics(reg),
		mux:      http.NewServeMux(),
		draining: make(chan struct{}),
	}
	s.probe = &outageProbe{ready: ready, now: time.Now}
	s.routes()
	s.handler = s.chain(http.HandlerFunc(s.route))
	return s
}

// Handle mounts h for pattern, a Go ServeMux pattern that should name its
// method ("POST /app/v1/challenges"). Like ServeMux.Handle it panics on an
// invalid or conflicting pattern, which is a programming error found at start.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// PageFallback answers, as a page for a person, a browser's request that no
// route matched: status is 404 (no such path) or 405 (the path exists with
// other methods; the Allow header is set).
type PageFallback func(w http.ResponseWriter, r *http.Request, status int)

// HandleUnknown mounts f for the requests no route matches that come from a
// browser (they accept text/html) and are not for the API (/api/): those
// get a page, every other one keeps the JSON answer. Call it before
// serving, at most once.
func (s *Server) HandleUnknown(f PageFallback) {
	s.pages = f
}

// Handler returns the full middleware chain around all mounted routes.
func (s *Server) Handler() http.Handler {
	return s.handler
}

// Addr returns the address the server listens on, or "" before it listens.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Draining returns a channel that is closed when graceful shutdown begins.
// Long-lived handlers such as server-sent event streams select on it and end
// their response, so shutdown does not wait for them until ShutdownTimeout.
func (s *Server) Draining() <-chan struct{} {
	return s.draining
}

// Run listens on Config.Listen and serves until ctx is cancelled; see Serve.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting connections, closes Draining and lets in-flight requests
// finish within Config.ShutdownTimeout. It returns nil after a clean shutdown
// and an error when serving failed or in-flight requests had to be cut off.
// Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	// Request contexts deliberately do not derive from ctx: cancelling ctx
	// starts the shutdown, it does not abort requests in flight.

	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.logger.InfoContext(ctx, "server listening", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}

	s.logger.InfoContext(ctx, "server shutting down", "shutdown_timeout_s", s.cfg.ShutdownTimeout.Seconds())
	s.drainOnce.Do(func() { close(s.draining) })
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	serveErr := <-errc
	if shutdownErr != nil {
		_ = srv.Close()
		return fmt.Errorf("server: shutdown: %w", shutdownErr)
	}
	if !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", serveErr)
	}
	s.logger.InfoContext(ctx, "server stopped")
	return nil
}
