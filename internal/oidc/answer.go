package oidc

import (
	"cmp"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// The answers of the endpoints Pforte serves itself, and the challenges it
// adds to op's.

// basicChallenge is the challenge of every 401 after client authentication
// (RFC 6749 5.2, RFC 7617): the confidential clients use HTTP Basic.
const basicChallenge = `Basic realm="pforte", charset="UTF-8"`

// oauthError is an error the endpoint answers with its status.
type oauthError struct {
	status     int
	kind, desc string
}

func (e *oauthError) Error() string { return "oidc: " + e.kind + ": " + e.desc }

func badRequest[K ~string](kind K, desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, string(kind), desc}
}

// answers writes the JSON answers of the endpoints Pforte serves itself,
// logging the cause of a failure once.
type answers struct{ logger *slog.Logger }

// answer writes res, or err as an OAuth error: an *oauthError with its
// status, a *cibaError with its status, 400 unless set (CIBA core 13), anything else as a logged
// server_error.
func (a answers) answer(rw http.ResponseWriter, r *http.Request, what string, res any, err error) {
	var oe *oauthError
	var ce *cibaError
	switch {
	case errors.As(err, &oe):
		writeError(rw, oe.status, oe.kind, oe.desc)
	case errors.As(err, &ce):
		writeError(rw, cmp.Or(ce.status, http.StatusBadRequest), ce.code, ce.desc)
	case err != nil:
		a.logger.ErrorContext(r.Context(), "oidc: "+what, "error", err.Error())
		writeError(rw, http.StatusInternalServerError, string(oidc.ServerError), "")
	default:
		writeJSON(rw, res)
	}
}

// writeError answers with an OAuth error object; a failed client
// authentication carries the Basic challenge (RFC 6749 5.2).
func writeError(rw http.ResponseWriter, status int, kind, desc string) {
	if status == http.StatusUnauthorized && kind == string(oidc.InvalidClient) {
		rw.Header().Set("WWW-Authenticate", basicChallenge)
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{kind, desc})
}

// writeJSON answers 200 with v.
func writeJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(rw).Encode(v)
}

// challenged adds the Basic challenge to every 401 that h (one of op's
// handlers, after Pforte's checks) answers.
func challenged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&challengeWriter{rw}, r)
	})
}

type challengeWriter struct{ http.ResponseWriter }

func (w *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", basicChallenge)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
