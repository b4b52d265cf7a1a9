package appapi

import (
	"context"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Email runs the person's e-mail address (email.Service).
type Email interface {
	View(ctx context.Context, person store.PersonID) (email.View, error)
	Add(ctx context.Context, person store.PersonID, addr string, level session.Level) error
	Withdraw(ctx context.Context, person store.PersonID, level session.Level) error
	SetNotify(ctx context.Context, person store.PersonID, on bool, level session.Level) error
	RequestChange(ctx context.Context, person store.PersonID, addr, client string, level session.Level) (store.Approval, error)
}

// emailHandlers serve the person's e-mail address: shown masked to a
// session the personal.view rule allows; a confirmed address changes only
// through an email.change approval.
type emailHandlers struct {
	*base
	email  Email
	policy approval.Policy
}

func (h *emailHandlers) routes(m map[string]http.Handler) {
	if h.email == nil {
		return
	}
	m["GET /api/v1/me/email"] = h.chosenPassword(h.view)
	m["PUT /api/v1/me/email"] = h.chosenPassword(h.add)
	m["DELETE /api/v1/me/email/pending"] = h.chosenPassword(h.withdraw)
	m["PUT /api/v1/me/email/notify"] = h.chosenPassword(h.notify)
	m["POST /api/v1/me/email/change"] = h.chosenPassword(h.change)
}

type emailJSON struct {
	Address      string     `json:"address"`
	Pending      string     `json:"pending"`
	PendingUntil *time.Time `json:"pending_until"`
	Notify       bool       `json:"notify"`
}

func (h *emailHandlers) answer(w http.ResponseWriter, r *http.Request, s store.Session, status int) error {
	v, err := h.email.View(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	out := emailJSON{Address: v.Address, Pending: v.Pending, Notify: v.Notify}
	if !v.PendingUntil.IsZero() {
		out.PendingUntil = &v.PendingUntil
	}
	return writeJSON(w, status, out)
}

func (h *emailHandlers) view(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if !h.policy.Allows(approval.ActionPersonalView, session.Level(s.Level)) {
		return approval.ErrSessionLevel
	}
	return h.answer(w, r, s, http.StatusOK)
}

type emailRequest struct {
	Address string `json:"address"`
}

// add sets a new address (none confirmed yet) and mails its link: 202.
func (h *emailHandlers) add(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req emailRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := h.email.Add(r.Context(), s.PersonID, req.Address, session.Level(s.Level)); err != nil {
		return err
	}
	return h.answer(w, r, s, http.StatusAccepted)
}

func (h *emailHandlers) withdraw(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if err := h.email.Withdraw(r.Context(), s.PersonID, session.Level(s.Level)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type notifyRequest struct {
	Notify *bool `json:"notify"`
}

func (h *emailHandlers) notify(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req notifyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Notify == nil {
		return bad("Das Feld \"notify\" fehlt (true oder false).")
	}
	if err := h.email.SetNotify(r.Context(), s.PersonID, *req.Notify, session.Level(s.Level)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// change asks the phone to approve a new address ("" removes it): 202
// with the pending approval.
func (h *emailHandlers) change(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req emailRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	x, err := h.email.RequestChange(r.Context(), s.PersonID, req.Address, "api", session.Level(s.Level))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, pending(x))
}
