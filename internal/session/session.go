// Package session owns browser and app sessions: opaque tokens, their assurance
// level, idle and absolute expiry, and a new token on every level change.
//
// A token is 32 bytes from crypto/rand, given to the client base64url-encoded;
// the store keeps only its SHA-256, so a copy of the database does not let anyone
// resume a session. A session lives until its idle expiry (moved forward on use)
// or its absolute expiry, whichever comes first:
//
//	Create ──▶ live ──(Authenticate: idle expiry moves on)──▶ live
//	             │──(Raise: level up)──▶ replaced by a new token
//	             └──(End / idle / absolute expiry)──▶ gone
//
// Every session records its origin besides its level: what proof started it
// (Origin) and when that proof was made. The level says how strong a session
// is; the origin says what it is. A rule that needs "a fresh eID
// identification" (binding a phone at level high, unlocking a PIN) asks
// FreshEID, never the level: a session at level high can also come from a
// phone bound at high (an app login, or a portal login the phone confirmed).
//
// It does not own logins (package account decides who gets a session) nor
// cookies (the HTTP packages set them).
package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// Level is an assurance level (eIDAS).
type Level string

// The assurance levels, weakest first.
const (
	LevelLow         Level = "low"
	LevelSubstantial Level = "substantial"
	LevelHigh        Level = "high"
)

// Rank orders levels: 1 low, 2 substantial, 3 high, 0 for anything else.
func (l Level) Rank() int {
	switch l {
	case LevelLow:
		return 1
	case LevelSubstantial:
		return 2
	case LevelHigh:
		return 3
	}
	return 0
}

// ACR is the level's OpenID Connect acr value.
func (l Level) ACR() string { return "http://eidas.europa.eu/LoA/" + string(l) }

// Origin is what proof started a session.
type Origin string

// The origins.
const (
	// OriginPassword: the person's chosen password.
	OriginPassword Origin = "password"
	// OriginLetter: something from a letter, the initial password or a
	// reset code.
	OriginLetter Origin = "letter"
	// OriginEID: an eID identification (Online-Ausweis).
	OriginEID Origin = "eid"
	// OriginDevice: the bound phone, an app login or a login confirmed on
	// the phone.
	OriginDevice Origin = "device"
	// OriginEGK: the electronic health card: the app session that starts
	// when a phone is bound with the card's signature over its key
	// (package device, BindWithCard).
	OriginEGK Origin = "egk"
)

// Valid reports whether o is one of the origins.
func (o Origin) Valid() bool {
	switch o {
	case OriginPassword, OriginLetter, OriginEID, OriginDevice, OriginEGK:
		return true
	}
	return false
}

// EIDFreshness is how old an eID identification may be for the rules that
// need a fresh one (DESIGN.md 3.4).
const EIDFreshness = 15 * time.Minute

// FreshEID reports whether s came from an eID identification made at most
// EIDFreshness before now (and is still at level high). Only such a session
// binds a phone at level high or unlocks a PIN without a letter.
//
// A session of origin egk does not count, although it is at level high:
// the card's signature proves the person for the one device key it names
// (DESIGN.md 3.4: "a fresh eID identification, or an eGK signature over the
// device key"), and is checked where it is given (device.BindWithCard,
// UnlockWithCard). Counting the session that binding starts as an
// identification would let it bind further phones, unlock others' PINs or
// remove phones at once without the card; each of those asks for the card
// again instead.
func FreshEID(s store.Session, now time.Time) bool {
	return Origin(s.Origin) == OriginEID && s.Level == string(LevelHigh) && !s.OriginAt.IsZero() &&
		!s.OriginAt.After(now) && now.Sub(s.OriginAt) <= EIDFreshness
}

// Kinds of sessions.
const (
	KindBrowser = "browser"
	KindApp     = "app"
)

// ErrNoSession reports a missing, expired or ended session.
var ErrNoSession = errors.New("session: no such session")

// Lifetime is how long a session of one level lives.
type Lifetime struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Config sets the lifetimes per level. Zero fields take the defaults of
// DESIGN.md: low and substantial 30 min idle, high 15 min idle; 12 h absolute.
type Config struct {
	Low, Substantial, High Lifetime
}

func (c Config) withDefaults() Config {
	def := func(l *Lifetime, idle time.Duration) {
		if l.Idle <= 0 {
			l.Idle = idle
		}
		if l.Absolute <= 0 {
			l.Absolute = 12 * time.Hour
		}
	}
	def(&c.Low, 30*time.Minute)
	def(&c.Substantial, 30*time.Minute)
	def(&c.High, 15*time.Minute)
	return c
}

// Validate reports every problem.
func (c Config) Validate() []error {
	c = c.withDefaults()
	var errs []error
	for name, l := range map[string]Lifetime{"low": c.Low, "substantial": c.Substantial, "high": c.High} {
		if l.Idle > l.Absolute {
			errs = append(errs, fmt.Errorf("session.%s: idle timeout %v exceeds the absolute lifetime %v", name, l.Idle, l.Absolute))
		}
		if l.Absolute > 30*24*time.Hour {
			errs = append(errs, fmt.Errorf("session.%s: absolute lifetime %v exceeds 30 days", name, l.Absolute))
		}
	}
	return errs
}

func (c Config) lifetime(l Level) Lifetime {
	switch l {
	case LevelHigh:
		return c.High
	case LevelSubstantial:
		return c.Substantial
	default:
		return c.Low
	}
}

// Token is a session token as the client holds it. It never prints itself.
type Token string

// String redacts the token.
func (Token) String() string { return "[session token]" }

// LogValue redacts the token.
func (Token) LogValue() slog.Value { return slog.StringValue("[session token]") }

// Hash returns the SHA-256 the store keeps.
func (t Token) Hash() []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// Store is what the manager needs of the store.
type Store interface {
	CreateSession(ctx context.Context, s store.Session) error
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (store.Session, error)
	TouchSession(ctx context.Context, hash []byte, now, idleUntil time.Time) error
	ReplaceSession(ctx context.Context, old []byte, next store.Session) error
	ClearMustChangePassword(ctx context.Context, hash []byte) error
	DeleteSession(ctx context.Context, hash []byte) error
	DeletePersonSessions(ctx context.Context, id store.PersonID, keep []byte) (int64, error)
	PersonSessions(ctx context.Context, id store.PersonID, now time.Time) ([]store.Session, error)
	PutOneTime(ctx context.Context, o store.OneTime) error
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	AddLoginEvent(ctx context.Context, e store.LoginEvent) error
	PersonLoginEvents(ctx context.Context, id store.PersonID, since time.Time, limit int) ([]store.LoginEvent, error)
	PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error)
}

// Manager creates and checks sessions.
type Manager struct {
	store Store
	cfg   Config
	now   func() time.Time
}

// NewManager returns a manager; cfg zero fields take their defaults.
func NewManager(st Store, cfg Config, now func() time.Time) *Manager {
	return &Manager{store: st, cfg: cfg.withDefaults(), now: now}
}

// New describes a session to create.
type New struct {
	PersonID store.PersonID
	Kind     string
	Level    Level
	AMR      []string
	// Origin is required: what proof started the session.
	Origin Origin
	// OriginAt is when that proof was made; zero means now. It may not lie
	// in the future.
	OriginAt           time.Time
	MustChangePassword bool
	ClientIP           string
	UserAgent          string
	// DeviceName is the phone that signed in (an app login), for the
	// person's sign-in history.
	DeviceName string
}

// ErrNoOrigin reports a session described without a valid origin (a
// programming error: every caller names what proved the person).
var ErrNoOrigin = errors.New("session: no valid origin")

func newToken() (Token, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session: random: %w", err)
	}
	return Token(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

func (m *Manager) build(n New, now time.Time) (Token, store.Session, error) {
	now = now.UTC().Truncate(time.Microsecond)
	originAt := n.OriginAt.UTC().Truncate(time.Microsecond)
	if n.OriginAt.IsZero() {
		originAt = now
	}
	if !n.Origin.Valid() || originAt.After(now) {
		return "", store.Session{}, ErrNoOrigin
	}
	tok, err := newToken()
	if err != nil {
		return "", store.Session{}, err
	}
	lt := m.cfg.lifetime(n.Level)
	s := store.Session{
		TokenHash: tok.Hash(), PersonID: n.PersonID, Kind: n.Kind, Level: string(n.Level), AMR: n.AMR,
		Origin: string(n.Origin), OriginAt: originAt,
		MustChangePassword: n.MustChangePassword, ClientIP: n.ClientIP, UserAgent: truncate(n.UserAgent, 256),
		CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(lt.Idle), ExpiresAt: now.Add(lt.Absolute),
	}
	return tok, s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ErrPersonLocked: the insurer's staff locked the person's access
// (store.PersonLock); no session starts for them, whatever proved who they
// are, until staff release the lock.
var ErrPersonLocked = errors.New("session: access locked by staff")

// checkLock returns ErrPersonLocked when staff locked the person's access.
// It is the one rule every login path passes: each of them starts its
// session through Create or Replace, except the app login, whose session
// (Prepare) is stored by the store transaction that decides its proof and
// reads the lock there (store.DeviceProof).
func (m *Manager) checkLock(ctx context.Context, id store.PersonID) error {
	_, err := m.store.PersonLockByID(ctx, id)
	switch {
	case err == nil:
		return ErrPersonLocked
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return fmt.Errorf("session: access lock: %w", err)
}

// Locked reports whether staff locked the person's access.
func (m *Manager) Locked(ctx context.Context, id store.PersonID) (bool, error) {
	err := m.checkLock(ctx, id)
	if errors.Is(err, ErrPersonLocked) {
		return true, nil
	}
	return false, err
}

// Create starts a session and returns its token; ErrPersonLocked when
// staff locked the person's access.
func (m *Manager) Create(ctx context.Context, n New) (Token, store.Session, error) {
	tok, s, err := m.build(n, m.now())
	if err != nil {
		return "", store.Session{}, err
	}
	if err := m.checkLock(ctx, n.PersonID); err != nil {
		return "", store.Session{}, err
	}
	if err := m.store.CreateSession(ctx, s); err != nil {
		return "", store.Session{}, fmt.Errorf("session: create: %w", err)
	}
	if err := m.lockedSince(ctx, s); err != nil {
		return "", store.Session{}, err
	}
	// Every session is a sign-in the person sees in their history.
	if err := m.store.AddLoginEvent(ctx, store.LoginEvent{PersonID: s.PersonID, At: s.CreatedAt, Kind: s.Kind, Method: s.Origin,
		Outcome: OutcomeOK, UserAgent: clip(s.UserAgent, maxUserAgent), DeviceName: n.DeviceName}); err != nil {
		return "", store.Session{}, fmt.Errorf("session: create: %w", err)
	}
	return tok, s, nil
}

// touchEvery bounds writes: a session's idle expiry moves at most once a minute.
const touchEvery = time.Minute

// Authenticate returns the live session of the token and moves its idle
// expiry forward. ErrNoSession when there is none.
func (m *Manager) Authenticate(ctx context.Context, tok Token) (store.Session, error) {
	if len(tok) != 43 {
		return store.Session{}, ErrNoSession
	}
	now := m.now()
	s, err := m.store.SessionByHash(ctx, tok.Hash(), now)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, m.whyEnded(ctx, tok, now)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: authenticate: %w", err)
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		idle := now.Add(m.cfg.lifetime(Level(s.Level)).Idle)
		if err := m.store.TouchSession(ctx, s.TokenHash, now, idle); errors.Is(err, store.ErrNotFound) {
			return store.Session{}, ErrNoSession
		} else if err != nil {
			return store.Session{}, fmt.Errorf("session: authenticate: %w", err)
		}
		if idle.After(s.ExpiresAt) {
			idle = s.ExpiresAt
		}
		s.LastSeenAt, s.IdleExpiresAt = now.UTC().Truncate(time.Microsecond), idle.UTC().Truncate(time.Microsecond)
	}
	return s, nil
}

// Replace ends the session of tok and starts one described by n in one step: a
// new token on every change of level or of what the session may do.
// ErrPersonLocked when staff locked the person's access.
func (m *Manager) Replace(ctx context.Context, tok Token, n New) (Token, store.Session, error) {
	next, s, err := m.build(n, m.now())
	if err != nil {
		return "", store.Session{}, err
	}
	if err := m.checkLock(ctx, n.PersonID); err != nil {
		return "", store.Session{}, err
	}
	if err := m.store.ReplaceSession(ctx, tok.Hash(), s); errors.Is(err, store.ErrNotFound) {
		return "", store.Session{}, ErrNoSession
	} else if err != nil {
		return "", store.Session{}, fmt.Errorf("session: replace: %w", err)
	}
	if err := m.lockedSince(ctx, s); err != nil {
		return "", store.Session{}, err
	}
	return next, s, nil
}

// lockedSince looks at the lock again once s is stored, and ends s when
// staff locked the person meanwhile. Locking stores the lock first and ends
// the person's sessions second, so a session stored before the lock is
// ended by the lock, and one stored after it is ended here: none outlives
// a lock that raced its login.
func (m *Manager) lockedSince(ctx context.Context, s store.Session) error {
	err := m.checkLock(ctx, s.PersonID)
	if !errors.Is(err, ErrPersonLocked) {
		return err
	}
	if derr := m.store.DeleteSession(ctx, s.TokenHash); derr != nil {
		return fmt.Errorf("session: end a session that raced a lock: %w", derr)
	}
	return err
}

// PasswordChosen records that the session's person replaced their initial
// password, so the session no longer forces a change.
func (m *Manager) PasswordChosen(ctx context.Context, tok Token) error {
	if err := m.store.ClearMustChangePassword(ctx, tok.Hash()); errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	} else if err != nil {
		return fmt.Errorf("session: password chosen: %w", err)
	}
	return nil
}

// End ends the session of tok.
func (m *Manager) End(ctx context.Context, tok Token) error {
	if err := m.store.DeleteSession(ctx, tok.Hash()); err != nil {
		return fmt.Errorf("session: end: %w", err)
	}
	return nil
}

// EndOthers ends every session of the person except keep (empty: all) and
// remembers why (EndedError), for the page that meets a stale cookie.
func (m *Manager) EndOthers(ctx context.Context, id store.PersonID, keep Token, why EndReason) (int64, error) {
	var keepHash []byte
	if keep != "" {
		keepHash = keep.Hash()
	}
	live, err := m.store.PersonSessions(ctx, id, m.now())
	if err != nil {
		return 0, fmt.Errorf("session: end others: %w", err)
	}
	for _, s := range live {
		if !bytes.Equal(s.TokenHash, keepHash) {
			if err := m.remember(ctx, s, why); err != nil {
				return 0, err
			}
		}
	}
	n, err := m.store.DeletePersonSessions(ctx, id, keepHash)
	if err != nil {
		return 0, fmt.Errorf("session: end others: %w", err)
	}
	return n, nil
}

// List returns the person's live sessions, newest first.
func (m *Manager) List(ctx context.Context, id store.PersonID) ([]store.Session, error) {
	list, err := m.store.PersonSessions(ctx, id, m.now())
	if err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	return list, nil
}
