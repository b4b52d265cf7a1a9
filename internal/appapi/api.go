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
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Accounts logs persons in with a password and changes passwords (package
// account).
type Accounts interface {
	Login(ctx context.Context, in account.Login, kind string) (account.LoginResult, error)
	ChangePassword(ctx context.Context, tok session.Token, sess store.Session, current, next, clientIP string) error
	// Strength rates pw for the strength meter, 0 to 4, against p's data
	// when p is not nil; CheckNew says why the policy refuses it.
	Strength(p *store.Person, pw string) int
	CheckNew(p store.Person, pw string) []password.Reason
}

// Access runs the flows without a login (package access).
type Access interface {
	RequestLetter(ctx context.Context, in access.Request) error
	RequestReset(ctx context.Context, in access.Request) error
	OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string, requested lang.Language) (inReview bool, err error)
	StartEID(ctx context.Context, in access.Request, purpose string) (access.EIDStart, error)
}

// Sessions checks and ends sessions (package session).
type Sessions interface {
	Authenticate(ctx context.Context, tok session.Token) (store.Session, error)
	End(ctx context.Context, tok session.Token) error
}

// Persons reads master data.
type Persons interface {
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
}

// Devices runs device bindings and app logins (package device).
type Devices interface {
	NewChallengeFor(ctx context.Context, purpose string, dev store.DeviceID, forID string) (device.Challenge, error)
	BindWithLetter(ctx context.Context, r device.BindRequest) (device.Binding, error)
	BindWithSession(ctx context.Context, sess store.Session, deviceKey, pinKey []byte, kdf, name, model string, proof device.Proof, clientIP string) (device.Binding, error)
	Login(ctx context.Context, dev store.DeviceID, p device.Proof, method, clientIP, userAgent string) (session.Token, store.Session, error)
	ChangePIN(ctx context.Context, dev store.DeviceID, newPINKey []byte, kdf string, p device.Proof, clientIP string) error
	Unbind(ctx context.Context, dev store.DeviceID, p device.Proof, clientIP string) error
	UnlockWithLetter(ctx context.Context, dev store.DeviceID, r device.BindRequest) error
	UnlockWithSession(ctx context.Context, dev store.DeviceID, sess store.Session, deviceKey, pinKey []byte, kdf, name, model string, proof device.Proof, clientIP string) error
	List(ctx context.Context, id store.PersonID) ([]store.Device, error)
	Rename(ctx context.Context, id store.PersonID, dev store.DeviceID, name string) error
}

// Cards binds and unlocks phones with the health card (device.CardFlows):
// device.ErrEGKOff when no trust anchors are configured.
type Cards interface {
	BindWithCard(ctx context.Context, sess *store.Session, r device.CardRequest) (device.CardBinding, error)
	UnlockWithCard(ctx context.Context, dev store.DeviceID, r device.CardRequest) error
}

// Approvals answers approval requests from the phone and streams them
// (package approval).
type Approvals interface {
	Pending(ctx context.Context, person store.PersonID) ([]store.Approval, error)
	Approve(ctx context.Context, id string, dev store.DeviceID, proof device.Proof, method string, tapped int, clientIP string) (store.Approval, error)
	Decline(ctx context.Context, id string, dev store.DeviceID, proof device.Proof, notMe bool, clientIP string) (store.Approval, error)
	Watch(ctx context.Context, id store.PersonID, interval time.Duration) <-chan store.Approval
}

// Profile changes the person's data through approvals and serves the
// outbox (package profile).
type Profile interface {
	RequestAddressChange(ctx context.Context, id store.PersonID, a profile.Address, client string, sessionLevel session.Level) (store.Approval, error)
	RequestBankChange(ctx context.Context, id store.PersonID, iban, client string, sessionLevel session.Level) (store.Approval, error)
	// RequestDeviceRemoval removes a phone at once after a fresh eID
	// identification, otherwise through an approval on a bound phone.
	RequestDeviceRemoval(ctx context.Context, sess store.Session, dev store.DeviceID, client, clientIP string) (profile.Removal, error)
	Status(ctx context.Context, approvalID string, id store.PersonID) (store.Approval, error)
	Outbox(ctx context.Context, after int64, limit int) ([]profile.OutboxEvent, error)
}

// Mailbox counts a person's unread mailbox messages (package mailbox),
// for the event stream: a new message is announced, never shown.
type Mailbox interface {
	Unread(ctx context.Context, person store.PersonID) (int, error)
}

// Services are what the API calls; every one is required.
type Services struct {
	Accounts  Accounts
	Access    Access
	Sessions  Sessions
	Persons   Persons
	Devices   Devices
	Approvals Approvals
	Profile   Profile
	// Cards is optional: nil answers the health card's calls with
	// egk_unavailable.
	Cards Cards
	// Mailbox is optional: nil leaves the mailbox events out of the
	// event stream.
	Mailbox Mailbox
	// Email is optional: nil leaves the e-mail address's routes out (no
	// relay configured).
	Email Email
}

func (s Services) check() error {
	var missing []string
	for name, v := range map[string]any{"Accounts": s.Accounts, "Access": s.Access, "Sessions": s.Sessions, "Persons": s.Persons,
		"Devices": s.Devices, "Approvals": s.Approvals, "Profile": s.Profile} {
		if v == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return errors.New("appapi: missing services: " + strings.Join(missing, ", "))
	}
	return nil
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
	// OutboxToken is the core system's bearer token for the outbox; empty
	// keeps the outbox closed (every call 401).
	OutboxToken string
	// Draining closes when the server begins a graceful shutdown: event
	// streams end then. Nil: streams end only with their request.
	Draining <-chan struct{}
}

// API serves /api/v1: one handler type per area, sharing base.
type API struct {
	sessions  *sessionHandlers
	access    *accessHandlers
	devices   *deviceHandlers
	approvals *approvalHandlers
	outbox    *outboxHandlers
	email     *emailHandlers
}

// New returns the API; every service is required.
func New(cfg Config, svc Services, now func() time.Time, logger *slog.Logger) (*API, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 1
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	if cfg.Policy == nil {
		cfg.Policy = approval.DefaultPolicy()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &base{sessions: svc.Sessions, logger: logger, limiter: server.NewIPLimiter(cfg.LoginRate, cfg.LoginBurst, now)}
	return &API{
		sessions: &sessionHandlers{base: b, accounts: svc.Accounts, persons: svc.Persons, devices: svc.Devices, policy: cfg.Policy,
			meter: server.NewIPLimiter(5, 30, now)},
		access:    &accessHandlers{base: b, access: svc.Access, portal: strings.TrimRight(cfg.PortalURL, "/")},
		devices:   &deviceHandlers{base: b, devices: svc.Devices, profile: svc.Profile, cards: svc.Cards},
		approvals: &approvalHandlers{base: b, approvals: svc.Approvals, profile: svc.Profile, mailbox: svc.Mailbox, draining: cfg.Draining},
		outbox:    &outboxHandlers{base: b, profile: svc.Profile, token: cfg.OutboxToken},
		email:     &emailHandlers{base: b, email: svc.Email, policy: cfg.Policy},
	}, nil
}

// base is what every area's handlers share: sessions from bearer tokens, the
// per-IP limit, and the one error answer.
type base struct {
	sessions Sessions
	logger   *slog.Logger
	limiter  *server.IPLimiter
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type sessionFunc func(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error

// handle turns a handler's error into the one JSON error answer.
func (b *base) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			b.fail(w, r, err)
		}
	})
}

// limit answers *answer.Limited when the client IP is over its budget.
func (b *base) limit(r *http.Request) error {
	if ok, wait := b.limiter.Allow(r); !ok {
		return limited(wait)
	}
	return nil
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

// endedByStaff is errUnauthenticated for a session the insurer's staff
// ended (session.EndedByStaff), or ended by locking the access
// (session.EndedStaffLock). Only the token's holder meets it.
type endedByStaff struct{ locked bool }

func (e *endedByStaff) Error() string { return "appapi: session ended by staff" }
func (e *endedByStaff) Unwrap() error { return errUnauthenticated }

// session returns the live session of the request's bearer token, or
// errUnauthenticated.
func (b *base) session(r *http.Request) (session.Token, store.Session, error) {
	tok, ok := bearer(r)
	if !ok {
		return "", store.Session{}, errUnauthenticated
	}
	s, err := b.sessions.Authenticate(r.Context(), tok)
	if ended := (*session.EndedError)(nil); errors.As(err, &ended) &&
		(ended.Reason == session.EndedByStaff || ended.Reason == session.EndedStaffLock) {
		return "", store.Session{}, &endedByStaff{locked: ended.Reason == session.EndedStaffLock}
	}
	if errors.Is(err, session.ErrNoSession) {
		return "", store.Session{}, errUnauthenticated
	}
	if err != nil {
		return "", store.Session{}, err
	}
	return tok, s, nil
}

// authenticated runs h with the session of the request's bearer token.
func (b *base) authenticated(h sessionFunc) http.Handler {
	return b.handle(func(w http.ResponseWriter, r *http.Request) error {
		tok, s, err := b.session(r)
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
func (b *base) chosenPassword(h sessionFunc) http.Handler {
	return b.authenticated(func(w http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
		if s.MustChangePassword {
			return errPasswordChangeDue
		}
		return h(w, r, tok, s)
	})
}

func remoteIP(r *http.Request) string { return server.ClientIP(r) }
