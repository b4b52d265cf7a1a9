package appapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Accounts is the account service the API calls.
type Accounts interface {
	Login(ctx context.Context, in account.Login, kind string) (account.LoginResult, error)
	ChangePassword(ctx context.Context, tok session.Token, sess store.Session, current, next, clientIP string) error
}

// Access runs access requests and password resets.
type Access interface {
	RequestLetter(ctx context.Context, in access.Request) error
	RequestReset(ctx context.Context, in access.Request) error
	OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string) (inReview bool, err error)
	StartEID(ctx context.Context, in access.Request, purpose string) (access.EIDStart, error)
}

// Sessions checks and ends sessions.
type Sessions interface {
	Authenticate(ctx context.Context, tok session.Token) (store.Session, error)
	End(ctx context.Context, tok session.Token) error
}

// Persons reads master data.
type Persons interface {
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
}

// Config tunes the API. Zero fields take the defaults.
type Config struct {
	// LoginRate and LoginBurst bound login attempts per client IP
	// (default 1 per second, burst 10).
	LoginRate  float64
	LoginBurst int
	// PortalURL is the portal's base URL, for eID redirect URLs.
	PortalURL string
	// Policy is the approval policy table: GET /api/v1/me shows name and
	// address only to a session its personal.view rule allows (nil: the
	// defaults).
	Policy approval.Policy
}

// API serves /api/v1.
type API struct {
	accounts Accounts
	access   Access
	sessions Sessions
	persons  Persons
	logger   *slog.Logger
	limiter  *server.IPLimiter
	portal   string
	policy   approval.Policy
	devices  Devices // nil: no device endpoints

	approvals   Approvals // nil: no approval endpoints
	profile     Profile
	remover     Remover
	outboxToken string
	watcher     Watcher
	draining    <-chan struct{}
}

// New returns the API.
func New(accounts Accounts, access Access, sessions Sessions, persons Persons, cfg Config, now func() time.Time, logger *slog.Logger) *API {
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 1
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	return &API{accounts: accounts, access: access, sessions: sessions, persons: persons, logger: logger,
		limiter: server.NewIPLimiter(cfg.LoginRate, cfg.LoginBurst, now), portal: strings.TrimRight(cfg.PortalURL, "/"),
		policy: cfg.Policy}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle turns a handler's error into the one JSON error answer.
func (a *API) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// bearer extracts the session token from the Authorization header.
func bearer(r *http.Request) (session.Token, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 128 {
		return "", false
	}
	return session.Token(tok), true
}

var errUnauthenticated = errors.New("appapi: no valid session")

// authenticated runs h with the session of the request's bearer token.
func (a *API) authenticated(h func(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			return errUnauthenticated
		}
		s, err := a.sessions.Authenticate(r.Context(), tok)
		if errors.Is(err, session.ErrNoSession) {
			return errUnauthenticated
		}
		if err != nil {
			return err
		}
		return h(w, r, tok, s)
	})
}

// errPasswordChangeDue: the session still has to replace its initial password.
var errPasswordChangeDue = errors.New("appapi: password change due")

// chosenPassword is authenticated for everything but choosing the first
// password: a session from the letter's initial password may only replace it,
// read /me and log out.
func (a *API) chosenPassword(h func(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error) http.Handler {
	return a.authenticated(func(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
		if s.MustChangePassword {
			return errPasswordChangeDue
		}
		return h(w, r, tok, s)
	})
}

func remoteIP(r *http.Request) string { return server.ClientIP(r) }

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

func (a *API) createSession(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := a.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	var req sessionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.KVNR == nil || req.Password == nil {
		return &errBadRequest{"Bitte geben Sie Versichertennummer und Passwort an."}
	}
	if len(*req.KVNR) > 32 || len(*req.Password) > 1024 {
		return account.ErrLoginFailed
	}
	res, err := a.accounts.Login(r.Context(), account.Login{KVNR: *req.KVNR, Password: *req.Password,
		ClientIP: remoteIP(r), UserAgent: r.UserAgent()}, session.KindApp)
	if err != nil {
		return err
	}
	resp := sessionResponse{SessionToken: string(res.Token), Level: res.Session.Level, MustChangePassword: res.Session.MustChangePassword}
	if a.devices != nil {
		devs, err := a.devices.List(r.Context(), res.Session.PersonID)
		if err != nil {
			return err
		}
		resp.DeviceBindingRequired = len(devs) == 0
	}
	return writeJSON(w, http.StatusCreated, resp)
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, tok session.Token, _ store.Session) error {
	if err := a.sessions.End(r.Context(), tok); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordRequest struct {
	CurrentPassword *string `json:"current_password"`
	NewPassword     *string `json:"new_password"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	var req passwordRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.CurrentPassword == nil || req.NewPassword == nil {
		return &errBadRequest{"Bitte geben Sie das bisherige und das neue Passwort an."}
	}
	if len(*req.CurrentPassword) > 1024 || len(*req.NewPassword) > 1024 {
		return &account.RefusedError{Reasons: []password.Reason{{Code: password.TooLong, Limit: 128}}}
	}
	if err := a.accounts.ChangePassword(r.Context(), tok, s, *req.CurrentPassword, *req.NewPassword, remoteIP(r)); err != nil {
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

func (a *API) me(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	policy := a.policy
	if policy == nil {
		policy = approval.DefaultPolicy()
	}
	if !policy.Allows(approval.ActionPersonalView, session.Level(s.Level)) {
		return writeJSON(w, http.StatusOK, meResponse{Level: s.Level, MustChangePassword: s.MustChangePassword, Restricted: true})
	}
	p, err := a.persons.PersonByID(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, meResponse{
		FamilyName: p.FamilyName, GivenNames: p.GivenNames, Title: p.Title,
		Address: &meAddress{Street: p.Street, HouseNumber: p.HouseNumber, PostalCode: p.PostalCode, City: p.City},
		Level:   s.Level, MustChangePassword: s.MustChangePassword,
	})
}

type accessRequest struct {
	KVNR       *string `json:"kvnr"`
	PostalCode *string `json:"postal_code"`
	BirthDate  *string `json:"birth_date"`
	Method     *string `json:"method"`
}

type accessResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	// RedirectURL is where the app sends the person for the eID: a portal
	// address that hands the browser on to the identification partner.
	RedirectURL string `json:"redirect_url,omitempty"`
}

// EIDStartPath is the portal route that takes a browser from an API eID start
// to the partner (package web serves it).
const EIDStartPath = "/eid/start/"

// createAccessRequest answers every well-formed request identically.
func (a *API) createAccessRequest(w http.ResponseWriter, r *http.Request) error {
	return a.accessOrReset(w, r, access.PurposeAccess)
}

// createPasswordReset is the forgotten-password twin of createAccessRequest.
func (a *API) createPasswordReset(w http.ResponseWriter, r *http.Request) error {
	return a.accessOrReset(w, r, access.PurposeReset)
}

func (a *API) accessOrReset(w http.ResponseWriter, r *http.Request, purpose string) error {
	if ok, wait := a.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	var req accessRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.KVNR == nil || req.PostalCode == nil || req.BirthDate == nil || req.Method == nil {
		return &errBadRequest{"Bitte geben Sie Versichertennummer, Postleitzahl, Geburtsdatum und Verfahren an."}
	}
	if *req.Method != "letter" && *req.Method != "eid" {
		return &errBadRequest{"Als Verfahren sind \"eid\" (Online-Ausweis) und \"letter\" (Brief an die hinterlegte Adresse) möglich."}
	}
	if len(*req.KVNR) > 32 || len(*req.PostalCode) > 16 || len(*req.BirthDate) > 32 {
		return &errBadRequest{"Ein Feld ist zu lang."}
	}
	in := access.Request{KVNR: *req.KVNR, PostalCode: *req.PostalCode, BirthDate: *req.BirthDate, ClientIP: remoteIP(r)}
	if *req.Method == "eid" {
		start, err := a.access.StartEID(r.Context(), in, purpose)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, accessResponse{Status: "accepted",
			Message:     "Bitte weisen Sie sich mit Ihrem Personalausweis aus.",
			RedirectURL: a.portal + EIDStartPath + start.Flow})
	}
	var err error
	if purpose == access.PurposeReset {
		err = a.access.RequestReset(r.Context(), in)
	} else {
		err = a.access.RequestLetter(r.Context(), in)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, accessResponse{Status: "accepted",
		Message: "Wenn Ihre Angaben zu unseren Daten passen, schicken wir Ihnen einen Brief an Ihre bei uns hinterlegte Adresse."})
}
