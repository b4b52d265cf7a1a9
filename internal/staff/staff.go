// Package staff owns the back office's staff accounts: members of the
// insurer's staff (Sachbearbeiter/innen) with a login name, a role, a
// password and a second factor (TOTP, RFC 6238), their sessions, the one
// permission table of what each role may do, and the four-eyes requests
// that a second staff member confirms. Staff and insured persons never
// share a table, a session or a cookie.
//
// A staff login checks the password and the current code of the staff
// member's authenticator together and fails the same way, taking the same
// time, whatever was wrong (unknown login, wrong password or code, a code
// used before, a disabled or locked account). Attempts are counted before
// they are checked, in the staff member's row, so parallel guesses on any
// number of nodes get at most MaxFailures checks before the lock:
//
//	attempt ──reserve──▶ locked? ──yes──▶ ErrLoginFailed
//	                        │no: failures+1 (the MaxFailures-th sets the lock)
//	                        ▼
//	          password and code right, code's step above the last used?
//	                 │yes                         │no
//	                 ▼                            ▼
//	   failures 0, step kept, session      ErrLoginFailed
//
// A session lives until its idle or absolute expiry, or until the staff
// member is disabled or reset (which ends all of them).
//
// Four-eyes requests (Ask, Decide): an act that needs a second pair of eyes
// is stored pending; another staff member with the permission confirms or
// declines it, never the one who asked:
//
//	Ask ──▶ pending ──Decide(confirm, other member)──▶ confirmed ──▶ carried out
//	           │                                          └──the act fails (Fail)──▶ failed
//	           └──────Decide(decline, other member)──▶ declined
//
// It does not own what the acts do (the domain packages do, called by the
// back office) nor HTTP (package backoffice).
package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	AddStaff(ctx context.Context, m store.StaffMember) (store.StaffID, error)
	StaffByID(ctx context.Context, id store.StaffID) (store.StaffMember, error)
	StaffByLogin(ctx context.Context, login string) (store.StaffMember, error)
	StaffByExternalID(ctx context.Context, externalID string) (store.StaffMember, error)
	UpdateStaff(ctx context.Context, id store.StaffID, fn func(m *store.StaffMember) error) (store.StaffMember, error)
	ListStaff(ctx context.Context) ([]store.StaffMember, error)
	CreateStaffSession(ctx context.Context, s store.StaffSession) error
	StaffSessionByHash(ctx context.Context, hash []byte, now time.Time) (store.StaffSession, error)
	TouchStaffSession(ctx context.Context, hash []byte, now, idleUntil time.Time) error
	DeleteStaffSession(ctx context.Context, hash []byte) error
	DeleteStaffSessions(ctx context.Context, id store.StaffID) (int64, error)
	AddStaffRequest(ctx context.Context, r store.StaffRequest) error
	StaffRequestByID(ctx context.Context, id string) (store.StaffRequest, error)
	DecideStaffRequest(ctx context.Context, id string, status store.StaffRequestStatus, by store.StaffID, now time.Time,
		check func(r store.StaffRequest) error) (store.StaffRequest, error)
	PendingStaffRequests(ctx context.Context, person store.PersonID, limit int) ([]store.StaffRequest, error)
	StaffKeysOf(ctx context.Context, id store.StaffID) ([]store.StaffKey, error)
	AddStaffKey(ctx context.Context, k store.StaffKey) error
	UseStaffKey(ctx context.Context, id store.StaffID, key []byte, count int64, now time.Time) error
	RemoveStaffFactor(ctx context.Context, id store.StaffID, key []byte, now time.Time) error
	DeleteStaffKeys(ctx context.Context, id store.StaffID) (int64, error)
	AddStaffChallenge(ctx context.Context, c store.StaffChallenge, now time.Time) error
	TakeStaffChallenge(ctx context.Context, handleHash []byte, kind string, now time.Time) (store.StaffChallenge, error)
	FailStaffRequest(ctx context.Context, id, outcome string) (store.StaffRequest, error)
}

// Hasher hashes and checks passwords (package password).
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, pw, stored string) (ok, needsRehash bool, err error)
	DummyVerify(ctx context.Context, pw string) error
}

// Sealer seals the TOTP secrets at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Auditor records security events.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Config sets the limits. Zero fields take the defaults.
type Config struct {
	// Idle and Absolute are a session's idle timeout and absolute
	// lifetime (default 15 minutes and 10 hours: a working day).
	Idle, Absolute time.Duration
	// MaxFailures failed logins in a row lock the account for Lock
	// (default 5 and 15 minutes).
	MaxFailures int
	Lock        time.Duration
	// Issuer names the insurer in authenticator apps and to security keys
	// (default "Pforte").
	Issuer string
	// Keys configures security keys (WebAuthn); an empty RPID turns them
	// off.
	Keys KeyConfig
}

func (c Config) withDefaults() Config {
	if c.Idle <= 0 {
		c.Idle = 15 * time.Minute
	}
	if c.Absolute <= 0 {
		c.Absolute = 10 * time.Hour
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.Lock <= 0 {
		c.Lock = 15 * time.Minute
	}
	if c.Issuer == "" {
		c.Issuer = "Pforte"
	}
	return c
}

// Errors of the staff accounts.
var (
	// ErrLoginFailed is every failed login, whatever failed.
	ErrLoginFailed = errors.New("staff: login failed")
	// ErrNoSession: no live session (missing, expired, ended, or its staff
	// member disabled).
	ErrNoSession = errors.New("staff: no such session")
	// ErrExists: the login is taken.
	ErrExists = errors.New("staff: login exists")
	// ErrUnknown: no staff member with that login.
	ErrUnknown = errors.New("staff: no such staff member")
	// ErrInvalid: a login, name or role of the wrong shape.
	ErrInvalid = errors.New("staff: invalid login, name or role")
)

// Member is a staff member as the back office sees them.
type Member struct {
	ID    store.StaffID
	Login string
	Name  string
	Role  Role
	// SignedInAt is when the session this member was read from began
	// (Authenticate); zero outside a session.
	SignedInAt time.Time
}

func member(m store.StaffMember) Member {
	return Member{ID: m.ID, Login: m.Login, Name: m.Name, Role: Role(m.Role)}
}

// Credentials are what a new or reset staff member receives from the
// operator: the initial password and the TOTP secret for their
// authenticator app. Shown once, never stored in clear.
type Credentials struct {
	Login    string
	Password Password
	Secret   Secret
	URI      string // otpauth:// for a QR code
}

// Password is a generated password. It never prints itself.
type Password string

// String redacts the password.
func (Password) String() string { return "[password]" }

// LogValue redacts the password.
func (Password) LogValue() slog.Value { return slog.StringValue("[password]") }

// Token is a staff session token as the browser holds it. It never prints
// itself.
type Token string

// String redacts the token.
func (Token) String() string { return "[staff session token]" }

// LogValue redacts the token.
func (Token) LogValue() slog.Value { return slog.StringValue("[staff session token]") }

// Hash is the SHA-256 the store keeps.
func (t Token) Hash() []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// Service runs staff accounts, logins, sessions and four-eyes requests.
type Service struct {
	store  Store
	hasher Hasher
	sealer Sealer
	audit  Auditor
	now    func() time.Time
	cfg    Config
	logger *slog.Logger
	keys   *Keys
}

// New returns a service; cfg's zero fields take their defaults.
func New(st Store, hasher Hasher, sealer Sealer, aud Auditor, now func() time.Time, cfg Config, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, hasher: hasher, sealer: sealer, audit: aud, now: now, cfg: cfg.withDefaults(), logger: logger}
	s.keys = newKeys(s, s.cfg.Keys)
	return s
}

// IdleTimeout is how long a session lives without a request.
func (s *Service) IdleTimeout() time.Duration { return s.cfg.Idle }

func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

// normLogin is the stored form of a login: trimmed, lower case; ok false
// for anything but 2–64 of a-z, 0-9, '.', '-', '_'.
func normLogin(login string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(login))
	if len(l) < 2 || len(l) > 64 {
		return "", false
	}
	for _, c := range []byte(l) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return "", false
		}
	}
	return l, true
}

func place(login string) []byte { return seal.Place("staff", "totp_secret", login) }

// passwordAlphabet has 32 characters that are hard to mistake for each
// other when read out or typed.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789#"

// newPassword is 20 characters of passwordAlphabet from crypto/rand (100
// bits), in groups of five.
func newPassword() (Password, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("staff: random: %w", err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(passwordAlphabet[c%32])
	}
	return Password(sb.String()), nil
}

// credentials makes a new password and secret for login: what is given to
// the staff member, and its hash and sealed secret for the store.
func (s *Service) credentials(ctx context.Context, login string) (Credentials, string, store.Sealed, error) {
	pw, err := newPassword()
	if err != nil {
		return Credentials{}, "", store.Sealed{}, err
	}
	secret, err := newSecret()
	if err != nil {
		return Credentials{}, "", store.Sealed{}, err
	}
	hash, err := s.hasher.Hash(ctx, string(pw))
	if err != nil {
		return Credentials{}, "", store.Sealed{}, fmt.Errorf("staff: hash: %w", err)
	}
	sealed, err := s.sealer.SealFor(secret, place(login))
	if err != nil {
		return Credentials{}, "", store.Sealed{}, fmt.Errorf("staff: seal: %w", err)
	}
	return Credentials{Login: login, Password: pw, Secret: secret, URI: secret.URI(s.cfg.Issuer, login)}, hash, sealed, nil
}

// Add creates a staff member (an operator's act on the command line) and
// returns their first credentials. ErrInvalid, ErrExists.
func (s *Service) Add(ctx context.Context, login, name string, role Role) (Credentials, error) {
	l, ok := normLogin(login)
	name = strings.TrimSpace(name)
	if !ok || !role.Valid() || name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return Credentials{}, ErrInvalid
	}
	cr, hash, sealed, err := s.credentials(ctx, l)
	if err != nil {
		return Credentials{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	id, err := s.store.AddStaff(ctx, store.StaffMember{Login: l, Name: name, Role: string(role), PasswordHash: hash,
		TOTPSecret: sealed, CreatedAt: now, UpdatedAt: now})
	if errors.Is(err, store.ErrConflict) {
		return Credentials{}, ErrExists
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("staff: add: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "operator", Event: "staff.added", Subject: id.Ref(), Details: map[string]any{"role": string(role)}})
	return cr, nil
}

// Disable ends a staff member's access at once: no login, every session
// ended. ErrUnknown.
func (s *Service) Disable(ctx context.Context, login string) error {
	m, err := s.byLogin(ctx, login)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := s.store.UpdateStaff(ctx, m.ID, func(x *store.StaffMember) error {
		if x.DisabledAt.IsZero() {
			x.DisabledAt = now
		}
		x.UpdatedAt = now
		return nil
	}); err != nil {
		return fmt.Errorf("staff: disable: %w", err)
	}
	if _, err := s.store.DeleteStaffSessions(ctx, m.ID); err != nil {
		return fmt.Errorf("staff: disable: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "operator", Event: "staff.disabled", Subject: m.ID.Ref()})
	return nil
}

// Reset gives a staff member a new password and a new TOTP secret (a lost
// phone or key, a forgotten password), removes every security key they
// registered, enables a disabled account, ends the lock and every session.
// ErrUnknown.
func (s *Service) Reset(ctx context.Context, login string) (Credentials, error) {
	m, err := s.byLogin(ctx, login)
	if err != nil {
		return Credentials{}, err
	}
	if m.ExternalID != "" {
		return Credentials{}, ErrCorporate
	}
	cr, hash, sealed, err := s.credentials(ctx, m.Login)
	if err != nil {
		return Credentials{}, err
	}
	now := s.now()
	if _, err := s.store.UpdateStaff(ctx, m.ID, func(x *store.StaffMember) error {
		x.PasswordHash, x.TOTPSecret, x.TOTPLastStep = hash, sealed, 0
		x.Failures, x.LockedUntil, x.DisabledAt, x.UpdatedAt = 0, time.Time{}, time.Time{}, now
		return nil
	}); err != nil {
		return Credentials{}, fmt.Errorf("staff: reset: %w", err)
	}
	if _, err := s.store.DeleteStaffSessions(ctx, m.ID); err != nil {
		return Credentials{}, fmt.Errorf("staff: reset: %w", err)
	}
	keys, err := s.store.DeleteStaffKeys(ctx, m.ID)
	if err != nil {
		return Credentials{}, fmt.Errorf("staff: reset: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "operator", Event: "staff.reset", Subject: m.ID.Ref(), Details: map[string]any{"keys_removed": keys}})
	return cr, nil
}

// List returns every staff member with whether they are disabled.
func (s *Service) List(ctx context.Context) ([]store.StaffMember, error) {
	return s.store.ListStaff(ctx)
}

func (s *Service) byLogin(ctx context.Context, login string) (store.StaffMember, error) {
	l, ok := normLogin(login)
	if !ok {
		return store.StaffMember{}, ErrUnknown
	}
	m, err := s.store.StaffByLogin(ctx, l)
	if errors.Is(err, store.ErrNotFound) {
		return store.StaffMember{}, ErrUnknown
	}
	if err != nil {
		return store.StaffMember{}, fmt.Errorf("staff: %w", err)
	}
	return m, nil
}
