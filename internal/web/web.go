package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Accounts logs persons in and changes passwords (package account).
type Accounts interface {
	// Login checks KVNR and password and starts a session of kind at level
	// low. Every failure is account.ErrLoginFailed; password.ErrBusy asks the
	// client to retry later.
	Login(ctx context.Context, in account.Login, kind string) (account.LoginResult, error)
	// ChangePassword replaces the session person's password after checking
	// the current one: *account.RefusedError, account.ErrWrongPassword.
	ChangePassword(ctx context.Context, tok session.Token, sess store.Session, current, next, clientIP string) error
	// LockedLogin returns what the ticket of an *account.LockedError (the
	// right password during a lock) stands for: account.ErrLockedTicket.
	LockedLogin(ctx context.Context, ticket string) (account.LockedError, error)
	// ConfirmLockedLogin uses the ticket once and starts a browser session
	// at level after the phone approved: account.ErrLockedTicket.
	ConfirmLockedLogin(ctx context.Context, ticket string, level session.Level, method, clientIP, userAgent string) (account.LoginResult, error)
	// SetLanguage saves the language the person chose for pages and
	// letters on their account.
	SetLanguage(ctx context.Context, id store.PersonID, l lang.Language) error
	// Strength rates a new password for the strength meter, 0 to 4, against
	// the person's data when p is not nil.
	Strength(p *store.Person, pw string) int
}

// Access runs access requests, eID identifications and password resets
// (package account). Each request method answers every well-formed request
// the same way whether or not the data match anyone; a malformed one is an
// *account.InvalidError.
type Access interface {
	RequestLetter(ctx context.Context, in access.Request) error
	RequestReset(ctx context.Context, in access.Request) error
	// StartEID begins an identification for purpose (access.PurposeAccess or
	// access.PurposeReset).
	StartEID(ctx context.Context, in access.Request, purpose string) (access.EIDStart, error)
	// EIDRedirect returns the partner URL of a flow started through the API.
	EIDRedirect(ctx context.Context, flow string) (string, error)
	// FinishEID completes it: access.ErrEIDNoMatch, ErrEIDCancelled,
	// ErrEIDFailed.
	FinishEID(ctx context.Context, flow string, query url.Values, clientIP string) (access.Proven, error)
	// ChoosePassword sets the password of the person proven by ticket and
	// starts a session at level high: *account.RefusedError, access.ErrTicket.
	ChoosePassword(ctx context.Context, ticket, newPassword, clientIP, userAgent, kind string) (account.LoginResult, error)
	// ResetWithCode sets a new password with a reset letter's code:
	// access.ErrResetFailed, *account.RefusedError.
	ResetWithCode(ctx context.Context, kvnr, code, newPassword, clientIP, userAgent string) (account.LoginResult, error)
	// StartConfirm begins an eID identification of a logged-in person, to
	// confirm their session; Confirm uses its ticket for the session:
	// access.ErrTicket, access.ErrOtherPerson.
	StartConfirm(ctx context.Context, id store.PersonID, clientIP string) (access.EIDStart, error)
	Confirm(ctx context.Context, ticket string, sess store.Session, clientIP, userAgent string) (session.New, error)
	// OrderActivationLetter sends a logged-in person a letter with a new
	// activation code (to bind a phone or unlock its PIN); it reports
	// whether the letter waits for staff review: access.ErrLetterRefused,
	// access.ErrLettersToday.
	OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string, requested lang.Language) (bool, error)
}

// Sessions checks, lists and ends sessions (package session).
type Sessions interface {
	// Authenticate returns the live session of tok, or session.ErrNoSession.
	Authenticate(ctx context.Context, tok session.Token) (store.Session, error)
	// End ends the session; ending a missing one is no error.
	End(ctx context.Context, tok session.Token) error
	// List returns the person's live sessions, newest first.
	List(ctx context.Context, id store.PersonID) ([]store.Session, error)
	// History returns the person's sign-ins and failed attempts of the
	// last session.HistoryDays days, newest first.
	History(ctx context.Context, id store.PersonID) ([]store.LoginEvent, error)
	// EndByID ends the person's session that session.ID names;
	// session.ErrNotYours if none does.
	EndByID(ctx context.Context, person store.PersonID, id string) error
	// Replace ends the session of tok and starts the one n describes, with a
	// new token (a level change); session.ErrNoSession if tok has ended.
	Replace(ctx context.Context, tok session.Token, n session.New) (session.Token, store.Session, error)
}

// Persons reads master data.
type Persons interface {
	// PersonByID returns the person, or store.ErrNotFound.
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	// PersonLetters returns the person's letters, newest first.
	PersonLetters(ctx context.Context, id store.PersonID) ([]store.Letter, error)
}

// Config configures the portal pages. Zero fields take the defaults.
type Config struct {
	// InsecureCookies drops the Secure attribute and the __Host- prefix of
	// the cookies. Leave it false (the default): browsers treat
	// http://127.0.0.1 as a secure context, so even the local demo works with
	// secure cookies. Only for plain-HTTP hosts other than loopback.
	InsecureCookies bool
	// InsurerName is shown in the header and titles (default "Ihre
	// Krankenkasse", in English "Your health insurer").
	InsurerName string
	// Phone is the service number shown on error pages and in the footer.
	Phone string
	// EIDOrigin is the identification partner's origin
	// ("https://eid.example"). Browsers apply the form-action policy to the
	// redirect that follows a form, so the pages whose forms may lead to the
	// partner allow it; empty allows only the portal itself.
	EIDOrigin string
	// LoginRate and LoginBurst bound login attempts per client address
	// (default 1 per second, burst 10). The exact per-account limits are
	// package account's.
	LoginRate  float64
	LoginBurst int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.LoginRate <= 0 {
		c.LoginRate = 1
	}
	if c.LoginBurst <= 0 {
		c.LoginBurst = 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Services are what the portal calls. All are required but Applications:
// nil when no other application signs in through the portal.
type Services struct {
	Accounts     Accounts
	Access       Access
	Sessions     Sessions
	Persons      Persons
	Approvals    Approvals
	Profile      Profile
	Devices      Devices
	Applications Applications
	// Email runs the e-mail address; nil: the portal offers none (no
	// relay configured).
	Email Email
}

func (s Services) check() error {
	var missing []string
	for name, v := range map[string]any{"Accounts": s.Accounts, "Access": s.Access, "Sessions": s.Sessions, "Persons": s.Persons,
		"Approvals": s.Approvals, "Profile": s.Profile, "Devices": s.Devices} {
		if v == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return errors.New("web: missing services: " + strings.Join(missing, ", "))
	}
	return nil
}

// Web serves the portal pages: one handler type per area, sharing base.
type Web struct {
	base     *base
	access   *accessPages
	login    *loginPages
	account  *accountPages
	personal *personalPages
	devices  *devicePages
	email    *emailPages
}

// base is what every area's pages share: the browser's session, the layout
// and its headers, the one failure page, and the phone confirmation a page
// may ask for.
type base struct {
	*Browser
	cfg       Config
	logger    *slog.Logger
	pages     map[lang.Language]map[string]*template.Template // by language, then page
	cop       *http.CrossOriginProtection
	approvals Approvals
	devices   Devices
	apps      Applications
}

// New returns the portal. It panics if the embedded templates do not parse,
// which is a programming error found at start.
func New(cfg Config, svc Services, logger *slog.Logger) (*Web, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if svc.Applications == nil {
		svc.Applications = noApplications{}
	}
	b := &base{Browser: NewBrowser(svc.Sessions, cfg.InsecureCookies), cfg: cfg, logger: logger, pages: mustParsePages(),
		cop: http.NewCrossOriginProtection(), approvals: svc.Approvals, devices: svc.Devices, apps: svc.Applications}
	b.cop.SetDenyHandler(http.HandlerFunc(b.denyCrossOrigin))
	return &Web{
		base:   b,
		access: &accessPages{base: b, access: svc.Access},
		login: &loginPages{base: b, accounts: svc.Accounts, sessions: svc.Sessions, approvals: svc.Approvals,
			limiter: server.NewIPLimiter(cfg.LoginRate, cfg.LoginBurst, cfg.Now)},
		account: &accountPages{base: b, accounts: svc.Accounts, sessions: svc.Sessions, persons: svc.Persons,
			meter: server.NewIPLimiter(5, 30, cfg.Now)},
		personal: &personalPages{base: b, profile: svc.Profile, email: svc.Email},
		devices:  &devicePages{base: b, devices: svc.Devices, profile: svc.Profile, access: svc.Access},
		email:    &emailPages{base: b, email: svc.Email},
	}, nil
}

// The pages of each area, with the services they call.
type (
	accessPages struct {
		*base
		access Access
	}
	loginPages struct {
		*base
		accounts  Accounts
		sessions  Sessions
		approvals Approvals
		limiter   *server.IPLimiter
	}
	accountPages struct {
		*base
		accounts Accounts
		sessions Sessions
		persons  Persons
		meter    *server.IPLimiter // strength checks: a keystroke's worth
	}
	personalPages struct {
		*base
		profile Profile
		email   Email // nil: no e-mail address offered
	}
	devicePages struct {
		*base
		devices Devices
		profile Profile
		access  Access
	}
)
