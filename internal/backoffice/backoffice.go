// Package backoffice serves the back office of the insurer's staff at
// /backoffice: the staff login (password and TOTP code), the search for a
// person by KVNR or by name and birth date, the person view with their
// access (account and its lock, sessions, phones with their PIN state,
// letters, open approvals, four-eyes requests, audit entries), the acts
// that repair access, the review queue of letters, the four-eyes requests,
// and the audit view with its verification and CSV export. Its pages are
// German only.
//
// Every route names one permission of the table in package staff, and one
// function (guard) checks it before the handler runs: there is no other
// place that decides who may see or do what. Staff sessions live in a
// cookie of their own (__Host-pforte_staff) and a table of their own; a
// portal session is never accepted here, nor a staff session on the portal
// or the API. Every form is behind http.CrossOriginProtection, every page
// forbids framing and scripts (Content-Security-Policy), and every staff
// act is recorded in the audit trail with the staff member, the person
// and, for sensitive acts, the reason given.
//
// It does not own the acts themselves (packages device, account, session,
// access and dispatch do) nor the staff accounts and the permission table
// (package staff).
package backoffice

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// Staff logs staff in and out, records their acts and keeps the four-eyes
// requests (package staff).
type Staff interface {
	Login(ctx context.Context, login, password, code, clientIP, userAgent string) (staff.Token, staff.Member, error)
	Authenticate(ctx context.Context, tok staff.Token) (staff.Member, error)
	Logout(ctx context.Context, tok staff.Token, m staff.Member, clientIP string) error
	// Corporate starts a session for a person of the corporate provider.
	Corporate(ctx context.Context, issuer, subject, name string, role staff.Role, clientIP, userAgent string) (staff.Token, staff.Member, error)
	// Act records one act of m on the person in the audit trail.
	Act(ctx context.Context, m staff.Member, act string, person store.PersonID, clientIP string, details map[string]any) error
	Ask(ctx context.Context, m staff.Member, kind string, person store.PersonID, target, reason, method, clientIP string) (staff.Request, error)
	Decide(ctx context.Context, m staff.Member, id string, confirm bool, clientIP string) (staff.Request, error)
	Pending(ctx context.Context, person store.PersonID) ([]staff.Request, error)
	// Fail records that a confirmed request's act failed (outcome: why).
	Fail(ctx context.Context, m staff.Member, r staff.Request, outcome, clientIP string) (staff.Request, error)
}

// Reads are what the pages show, straight from the store.
type Reads interface {
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	PersonsByBirthDate(ctx context.Context, date string, limit int) ([]store.Person, error)
	AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error)
	PersonSessions(ctx context.Context, id store.PersonID, now time.Time) ([]store.Session, error)
	PersonDevices(ctx context.Context, id store.PersonID) ([]store.Device, error)
	PersonLetters(ctx context.Context, id store.PersonID) ([]store.Letter, error)
	LettersByStatus(ctx context.Context, status store.LetterStatus, limit int) ([]store.Letter, error)
	PersonNotices(ctx context.Context, id store.PersonID, limit int) ([]store.Notice, error)
	PendingApprovals(ctx context.Context, id store.PersonID, now time.Time) ([]store.Approval, error)
	StaffByLogin(ctx context.Context, login string) (store.StaffMember, error)
	StaffByID(ctx context.Context, id store.StaffID) (store.StaffMember, error)
	SearchAudit(ctx context.Context, f store.AuditFilter, limit int) ([]store.AuditEntry, error)
	// MailThreads lists the person's mailbox threads (their subjects and
	// messages stay sealed: the person view shows only counts and times).
	MailThreads(ctx context.Context, person store.PersonID, q store.MailThreadQuery) ([]store.MailThread, error)
}

// Devices are the staff acts on phones (device.Desk).
type Devices interface {
	Revoke(ctx context.Context, person store.PersonID, dev store.DeviceID, staffRef, clientIP string) error
	ResetPINLock(ctx context.Context, person store.PersonID, dev store.DeviceID, staffRef, clientIP string) error
}

// Accounts are the staff acts on password logins (account.Desk).
type Accounts interface {
	LockState(ctx context.Context, id store.PersonID) (account.LockState, error)
	Unlock(ctx context.Context, id store.PersonID, staffRef, clientIP string) error
	// StaffLock returns the staff lock of the person's access; ok false
	// when there is none.
	StaffLock(ctx context.Context, id store.PersonID) (store.PersonLock, bool, error)
	// LockAccess locks the person's access and ends their sessions
	// (account.ErrAlreadyStaffLocked); it returns how many ended.
	LockAccess(ctx context.Context, id store.PersonID, staffRef, clientIP string) (int64, error)
	// ReleaseAccess ends the staff lock (account.ErrNotStaffLocked).
	ReleaseAccess(ctx context.Context, id store.PersonID, staffRef, clientIP string) error
}

// Sessions ends a person's sessions (session.Manager).
type Sessions interface {
	EndOthers(ctx context.Context, id store.PersonID, keep session.Token, why session.EndReason) (int64, error)
}

// Letters are the review queue and the activation letter (packages
// dispatch and access).
type Letters interface {
	InReview(ctx context.Context, limit int) ([]dispatch.Waiting, error)
	Release(ctx context.Context, id, by, reason string) error
	Reject(ctx context.Context, id, by, reason string) error
	// OrderActivationLetter queues a letter with a new activation code
	// within the letter limits; it reports whether it waits for review.
	OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string, requested lang.Language) (bool, error)
	// Returned records that a letter handed over to the print service
	// came back undeliverable and voids its codes (store.ErrConflict: it
	// is not handed over).
	Returned(ctx context.Context, id string) error
}

// Verifier checks the whole audit trail (audit.Verify with the node's key).
type Verifier func(ctx context.Context) (audit.Result, error)

// FourEyes says which acts a second staff member must confirm.
type FourEyes struct {
	// PINReset: resetting a PIN lock.
	PINReset bool
	// RecentAddress: releasing a letter in review to an address changed
	// in the last 30 days.
	RecentAddress bool
}

// Config configures the back office. Zero fields take the defaults.
type Config struct {
	// InsecureCookies drops Secure and the __Host- prefix of the staff
	// cookie (as web.Config.InsecureCookies; leave it false).
	InsecureCookies bool
	// InsurerName is shown in the header (default "Ihre Krankenkasse").
	InsurerName string
	// FourEyes, nil: both rules on.
	FourEyes *FourEyes
	// AllowedNetworks, if not empty, are the only client networks the
	// back office answers (its login included); every other address gets
	// 403. Empty: any address.
	AllowedNetworks []netip.Prefix
	// LoginRate and LoginBurst bound staff login attempts per client
	// address (default 0.2 per second, burst 5); the exact per-account
	// limit is package staff's.
	LoginRate  float64
	LoginBurst int
	// Corporate, if not nil, adds the sign-in through the insurer's
	// corporate OpenID provider (corporate.go).
	Corporate *Corporate
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.InsurerName == "" {
		c.InsurerName = "Ihre Krankenkasse"
	}
	if c.FourEyes == nil {
		c.FourEyes = &FourEyes{PINReset: true, RecentAddress: true}
	}
	if c.LoginRate <= 0 {
		c.LoginRate = 0.2
	}
	if c.LoginBurst <= 0 {
		c.LoginBurst = 5
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Services are what the back office calls; all are required.
type Services struct {
	Staff    Staff
	Reads    Reads
	Devices  Devices
	Accounts Accounts
	Sessions Sessions
	Letters  Letters
	Verify   Verifier
	// Keys, if not nil, are the security keys (WebAuthn) as a second
	// factor; nil: only the TOTP code.
	Keys Keys
}

func (s Services) check() error {
	var missing []string
	for name, v := range map[string]any{"Staff": s.Staff, "Reads": s.Reads, "Devices": s.Devices, "Accounts": s.Accounts,
		"Sessions": s.Sessions, "Letters": s.Letters, "Verify": s.Verify} {
		if v == nil || name == "Verify" && s.Verify == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return errors.New("backoffice: missing services: " + strings.Join(missing, ", "))
	}
	return nil
}

// Backoffice serves the back office: one handler type per area, sharing
// base.
type Backoffice struct {
	base    *base
	login   *loginPages
	persons *personPages
	review  *reviewPages
	audit   *auditPages
}

// The pages of each area.
type (
	loginPages  struct{ *base }
	personPages struct{ *base }
	reviewPages struct{ *base }
	auditPages  struct{ *base }
)

// base is what every area's pages share: the services, the layout and its
// headers, the one permission check, the one failure page, and the acts
// that both a page and a confirmed four-eyes request carry out.
type base struct {
	cfg     Config
	svc     Services
	logger  *slog.Logger
	pages   map[string]*template.Template
	cop     *http.CrossOriginProtection
	limiter *server.IPLimiter
	corp    *corporate // nil: no corporate provider
}

// New returns the back office. It panics if the embedded templates do not
// parse, a programming error found at start.
func New(cfg Config, svc Services, logger *slog.Logger) (*Backoffice, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &base{cfg: cfg, svc: svc, logger: logger, pages: mustParsePages(), cop: http.NewCrossOriginProtection(),
		limiter: server.NewIPLimiter(cfg.LoginRate, cfg.LoginBurst, cfg.Now)}
	b.cop.SetDenyHandler(http.HandlerFunc(b.denyCrossOrigin))
	if cfg.Corporate != nil {
		cc := *cfg.Corporate
		if cc.GroupsClaim == "" {
			cc.GroupsClaim = "groups"
		}
		b.corp = &corporate{cfg: cc}
	}
	return &Backoffice{base: b, login: &loginPages{b}, persons: &personPages{b}, review: &reviewPages{b}, audit: &auditPages{b}}, nil
}
