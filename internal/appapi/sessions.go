package appapi

import (
	"net/http"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// sessionHandlers are the password login, logout, password change and the
// person's own data.
type sessionHandlers struct {
	*base
	accounts Accounts
	persons  Persons
	devices  Devices
	policy   approval.Policy
	meter    *server.IPLimiter // strength checks: a typist's pace
}

func (h *sessionHandlers) routes(m map[string]http.Handler) {
	m["POST /api/v1/sessions"] = h.handle(h.createSession)
	m["DELETE /api/v1/sessions/current"] = h.authenticated(h.deleteSession)
	m["POST /api/v1/password"] = h.authenticated(h.changePassword)
	m["GET /api/v1/me"] = h.authenticated(h.me)
	m["POST /api/v1/password-strength"] = h.handle(h.strength)
}

type sessionRequest struct {
	KVNR     *string `json:"kvnr"`
	Password *string `json:"password"`
}

type sessionResponse struct {
	SessionToken       string `json:"session_token"`
	Level              string `json:"level"`
	MustChangePassword bool   `json:"must_change_password"`
	// DeviceBindingRequired asks the app to bind itself first: by eID, or
	// by ordering an activation letter (POST /api/v1/activation-letters).
	DeviceBindingRequired bool `json:"device_binding_required"`
}

func (h *sessionHandlers) createSession(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r); err != nil {
		return err
	}
	var req sessionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.KVNR == nil || req.Password == nil {
		return bad("Bitte geben Sie Versichertennummer und Passwort an.")
	}
	if len(*req.KVNR) > 32 || len(*req.Password) > 1024 {
		return account.ErrLoginFailed
	}
	res, err := h.accounts.Login(r.Context(), account.Login{KVNR: *req.KVNR, Password: *req.Password,
		ClientIP: remoteIP(r), UserAgent: r.UserAgent()}, session.KindApp)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sessionResponse{SessionToken: string(res.Token), Level: res.Session.Level,
		MustChangePassword: res.Session.MustChangePassword, DeviceBindingRequired: res.NeedsDevice})
}

func (h *sessionHandlers) deleteSession(w http.ResponseWriter, r *http.Request, tok session.Token, _ store.Session) error {
	if err := h.sessions.End(r.Context(), tok); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordRequest struct {
	CurrentPassword *string `json:"current_password"`
	NewPassword     *string `json:"new_password"`
}

func (h *sessionHandlers) changePassword(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	var req passwordRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.CurrentPassword == nil || req.NewPassword == nil {
		return bad("Bitte geben Sie das bisherige und das neue Passwort an.")
	}
	if len(*req.CurrentPassword) > 1024 || len(*req.NewPassword) > 1024 {
		return &account.RefusedError{Reasons: []password.Reason{{Code: password.TooLong, Limit: 128}}}
	}
	if err := h.accounts.ChangePassword(r.Context(), tok, s, *req.CurrentPassword, *req.NewPassword, remoteIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type meResponse struct {
	FamilyName         string     `json:"family_name,omitempty"`
	GivenNames         string     `json:"given_names,omitempty"`
	Title              string     `json:"title,omitempty"`
	Address            *meAddress `json:"address,omitempty"`
	Level              string     `json:"level"`
	MustChangePassword bool       `json:"must_change_password"`
	// Restricted: the session's level does not allow personal data; name
	// and address are left out until the login is confirmed on the phone.
	Restricted bool `json:"restricted,omitempty"`
}

type meAddress struct {
	Street      string `json:"street"`
	HouseNumber string `json:"house_number"`
	PostalCode  string `json:"postal_code"`
	City        string `json:"city"`
}

func (h *sessionHandlers) me(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if !h.policy.Allows(approval.ActionPersonalView, session.Level(s.Level)) {
		return writeJSON(w, http.StatusOK, meResponse{Level: s.Level, MustChangePassword: s.MustChangePassword, Restricted: true})
	}
	p, err := h.persons.PersonByID(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, meResponse{
		FamilyName: p.FamilyName, GivenNames: p.GivenNames, Title: p.Title,
		Address: &meAddress{Street: p.Street, HouseNumber: p.HouseNumber, PostalCode: p.PostalCode, City: p.City},
		Level:   s.Level, MustChangePassword: s.MustChangePassword,
	})
}
