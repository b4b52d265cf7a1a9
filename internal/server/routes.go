package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds one readiness check of the database.
const readyTimeout = 2 * time.Second

// routes mounts the operational endpoints.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:          promLogger{s.logger},
		Registry:          s.reg,
		EnableOpenMetrics: false,
	}))
}

// handleHealthz reports that the process is alive; it touches no database.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// handleReadyz reports whether the database answers. The cause of a failure
// is logged, never shown.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready.Ping(ctx); err != nil {
			s.logger.WarnContext(ctx, "readiness check failed", "error", err.Error(), RequestIDAttr(r.Context()))
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ready"})
}

type statusBody struct {
	Status string `json:"status"`
}
