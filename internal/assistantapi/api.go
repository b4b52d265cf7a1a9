package assistantapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/pforte/pforte/internal/server"
)

// API serves the assistant's JSON routes.
type API struct {
	base
	mux *http.ServeMux
}

// NewAPI returns the JSON handlers. sessions may be nil (no one is
// ever logged in), and so may mailbox: then hand-overs name the telephone
// and the hand-over route is not mounted.
func NewAPI(cfg Config, a Assistant, sessions Sessions, mailbox Mailbox, logger *slog.Logger) *API {
	api := &API{base: newBase(cfg, a, sessions, mailbox, logger)}
	api.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.WriteError(w, http.StatusForbidden, "cross_origin", "Diese Anfrage kam nicht von einer Seite dieses Portals und wurde deshalb abgelehnt.")
	}))
	api.mux = newMux(api.Routes())
	return api
}

// askRequest is the body of POST /api/v1/assistant.
type askRequest struct {
	Question     *string `json:"question"`
	Conversation string  `json:"conversation"`
}

func (a *API) ask(w http.ResponseWriter, r *http.Request) error {
	if err := a.limited(r); err != nil {
		return err
	}
	var req askRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Question == nil {
		return &badRequest{"Bitte senden Sie Ihre Frage im Feld „question“."}
	}
	ans, err := a.assistant.Ask(r.Context(), a.question(r, *req.Question, req.Conversation))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, NewResponse(ans))
}

// handoverRequest is the body of POST /api/v1/assistant/handover.
type handoverRequest struct {
	Conversation *string `json:"conversation"`
}

type handoverResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func (a *API) sendHandover(w http.ResponseWriter, r *http.Request) error {
	var req handoverRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Conversation == nil {
		return &badRequest{"Bitte nennen Sie das Gespräch im Feld „conversation“."}
	}
	if err := a.handover(r, *req.Conversation); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, handoverResponse{Status: "sent", Message: msgSent})
}

const msgSent = "Ihre Fragen sind beim Service-Team. Die Antwort finden Sie in Ihrem Postfach."

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// handle wraps h with the cross-origin check and the API headers; its error
// goes to fail.
func (a *API) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return a.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	}))
}

// fail answers err with {"error", "message"}; unexpected errors are logged
// once (without the question) and answered 500 without detail.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away; nobody reads an answer
	}
	f := failureOf(err)
	if f.internal {
		a.logger.ErrorContext(r.Context(), "assistant request failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
	}
	var limited *rateLimited
	if errors.As(err, &limited) {
		retryAfter(w, limited.wait)
	}
	server.WriteError(w, f.status, f.code, f.msg)
}
