// Package account owns insured persons' login accounts: password login with
// attempt limits, the initial password from a letter and its forced change, and
// changing a password.
//
// Login failures look the same whatever failed (unknown KVNR, wrong password,
// locked account, expired initial password): one error, ErrLoginFailed, after the
// same amount of hashing work (a dummy verification when there is no hash to
// check). Each account has a failure counter in the store. An attempt is
// reserved on the counter (one atomic update) before the password is checked and
// the counter is reset on success, so parallel attempts on any number of nodes
// can never check more passwords than the limit allows. The hash runs while
// the reservation commits; its verdict is taken only after, and dropped when
// the lock refused the attempt (login.go). A success settles in one
// transaction: the reset, the session and its sign-in history line:
//
//	attempt ──reserve──▶ locked? ──yes──▶ lock's checks left? ──no──▶ verdict dropped ──▶ ErrLoginFailed
//	                        │no                    │yes: verify ──wrong──▶ ErrLoginFailed
//	                        │                      └──right──▶ *LockedError (ticket for the phone)
//	                        ▼
//	                 verify password ──wrong──▶ ErrLoginFailed (counter stays up;
//	                        │ok                 every MaxFailures-th failure locks
//	                        ▼                   for LockBase, doubling, up to LockMax)
//	        reset counter + session + history line (one transaction)
//
// The right password of a person whose access staff locked answers
// session.ErrPersonLocked instead of a session (stafflock.go).
//
// The lock is temporary and never permanent on the password alone. During a
// lock the right password answers *LockedError for the phone-confirmed login
// and a lock checks only a few passwords (lock.go explains why); every
// RepeatedLocks-th lock in a row queues a notice with the lock. It does not
// own sessions (package session), the password policy and hashing (package
// password), letters or identity proofing.
package account

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// ErrLoginFailed is the one answer to every failed login.
var ErrLoginFailed = errors.New("account: login failed")

// ErrWrongPassword reports a wrong current password when changing it.
var ErrWrongPassword = errors.New("account: wrong current password")

// RefusedError lists why a new password is not acceptable.
type RefusedError struct{ Reasons []password.Reason }

func (e *RefusedError) Error() string {
	codes := make([]string, len(e.Reasons))
	for i, r := range e.Reasons {
		codes[i] = r.String()
	}
	return "account: new password refused: " + strings.Join(codes, ", ")
}

// DefaultInitialValidity is the default of Config.InitialValidity.
const DefaultInitialValidity = 30 * 24 * time.Hour

// Config holds the account rules. Zero fields take the defaults.
type Config struct {
	// MaxFailures is how many failed logins in a row lock the account
	// (default 5).
	MaxFailures int
	// LockBase is the first lock's length (default 1 min); each further
	// MaxFailures failures double it, up to LockMax (default 1 h).
	LockBase, LockMax time.Duration
	// LockedChecks is how many passwords a lock still checks, so that the
	// owner's right password reaches the phone-confirmed login (default 3,
	// at most MaxFailures; see lock.go for why it is bounded).
	LockedChecks int
	// RepeatedLocks locks in a row (no successful login between them) send
	// the person a notice (default 3), at most one per RepeatedLockWindow
	// (default 24 h).
	RepeatedLocks      int
	RepeatedLockWindow time.Duration
	// InitialValidity is how long an initial password from a letter is valid
	// (default 30 days, at most 60).
	InitialValidity time.Duration
	// Policy is the password policy.
	Policy password.Policy
	// MaxChangesPerDay bounds password changes per account and day
	// (default 5): a hostile client alternating two passwords gets no
	// further than that.
	MaxChangesPerDay int
}

func (c Config) withDefaults() Config {
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.LockBase <= 0 {
		c.LockBase = time.Minute
	}
	if c.LockMax <= 0 {
		c.LockMax = time.Hour
	}
	if c.LockedChecks <= 0 {
		c.LockedChecks = 3
	}
	if c.RepeatedLocks <= 0 {
		c.RepeatedLocks = 3
	}
	if c.RepeatedLockWindow <= 0 {
		c.RepeatedLockWindow = 24 * time.Hour
	}
	if c.InitialValidity <= 0 {
		c.InitialValidity = DefaultInitialValidity
	}
	if c.MaxChangesPerDay <= 0 {
		c.MaxChangesPerDay = 5
	}
	return c
}

// Validate reports every problem.
func (c Config) Validate() []error {
	c = c.withDefaults()
	var errs []error
	if c.MaxFailures > 20 {
		errs = append(errs, fmt.Errorf("account.max_failures: %d is more than 20", c.MaxFailures))
	}
	if c.LockBase > c.LockMax {
		errs = append(errs, errors.New("account.lock_base: longer than lock_max"))
	}
	if c.LockMax > 24*time.Hour {
		errs = append(errs, errors.New("account.lock_max: more than 24 h would make the lock effectively permanent"))
	}
	if c.LockedChecks > c.MaxFailures {
		errs = append(errs, fmt.Errorf("account.locked_checks: %d is more than max_failures", c.LockedChecks))
	}
	if c.InitialValidity > 60*24*time.Hour {
		errs = append(errs, errors.New("account.initial_validity: at most 60 days"))
	}
	for _, err := range c.Policy.Validate() {
		errs = append(errs, fmt.Errorf("password: %w", err))
	}
	return errs
}

// Store is what the service needs of the store.
type Store interface {
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error)
	// PersonDevices returns the person's bound devices (an app login says
	// whether there are any).
	PersonDevices(ctx context.Context, id store.PersonID) ([]store.Device, error)
	UpdateAccount(ctx context.Context, id store.PersonID, now time.Time, fn func(a *store.Account, exists bool) error,
		notices ...store.Notice) (store.Account, error)
	UpdateCounter(ctx context.Context, key string, fn func(c *store.Counter) error) (store.Counter, error)
	CounterByKey(ctx context.Context, key string) (store.Counter, error)
	UpdateCounterNotice(ctx context.Context, key string, fn func(c *store.Counter) (owed bool, err error), n store.Notice) (store.Counter, error)
	PutOneTime(ctx context.Context, v store.OneTime) error
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	LockPerson(ctx context.Context, l store.PersonLock) error
	PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error)
	UnlockPerson(ctx context.Context, id store.PersonID) error
	SettlePasswordLogin(ctx context.Context, key string, reset func(c *store.Counter) error, s store.Session, e store.LoginEvent,
		audit store.AuditAppend) error
}

// Hasher hashes and verifies passwords (package password). Verify, Derive
// and DummyVerify cost the same.
type Hasher interface {
	// Admit bounds the callers doing work for a password check; it answers
	// password.ErrBusy at once when the hasher could not serve them. The
	// returned function ends the admission; calls after the first do
	// nothing.
	Admit() (func(), error)
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, pw, stored string) (ok, needsRehash bool, err error)
	// Derive is Verify's hashing, its comparison left to the Verdict: a
	// login hashes while it reserves the attempt and checks only once the
	// reservation holds.
	Derive(ctx context.Context, pw, stored string) (password.Verdict, error)
	DummyVerify(ctx context.Context, pw string) error
}

// Auditor records security events: Record in a transaction of its own,
// Within as part of a write that appends the entry itself.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
	Within(e audit.Event) (store.AuditAppend, error)
}

// Notices makes the notices a change owes (package notice); they are queued
// in the change's own transaction. Kick asks for their delivery after the
// change committed.
type Notices interface {
	Make(person store.PersonID, kind notice.Kind, d notice.Details) (store.Notice, error)
	Kick()
}

// Service runs logins and password changes.
type Service struct {
	initials // the initial passwords of letters (initial.go)
	store    Store
	hasher   Hasher
	sessions *session.Manager
	audit    Auditor
	notify   Notices
	now      func() time.Time
	cfg      Config
	logger   *slog.Logger
	standIn  standIn
}

// New returns a service.
func New(st Store, h Hasher, sessions *session.Manager, aud Auditor, notify Notices, now func() time.Time, cfg Config, logger *slog.Logger) *Service {
	cfg = cfg.withDefaults()
	return &Service{initials: initials{store: st, hasher: h, validity: cfg.InitialValidity, now: now},
		store: st, hasher: h, sessions: sessions, audit: aud, notify: notify, now: now, cfg: cfg, logger: logger,
		standIn: standIn{store: st, seed: maphash.MakeSeed(), logger: logger}}
}

// Login is one login attempt.
type Login struct {
	KVNR      string
	Password  string
	ClientIP  string
	UserAgent string
}

// LoginResult is a successful login.
type LoginResult struct {
	Token   session.Token
	Session store.Session
	// NeedsDevice, for an app session (session.KindApp), says that the
	// person has no bound phone yet: the app binds itself next (with eID or
	// an activation letter).
	NeedsDevice bool
	// Language is the language the person chose for pages and letters
	// (store.Account.Language), empty when they made no choice.
	Language string
}

func counterKey(id store.PersonID) string { return "login:" + strconv.FormatInt(int64(id), 10) }

// lockFor is the length of the n-th lock: LockBase doubled n-1 times, at most
// LockMax.
func (s *Service) lockFor(n int64) time.Duration {
	d := s.cfg.LockBase
	for i := int64(1); i < n && d < s.cfg.LockMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.LockMax)
}

// reserve counts one password attempt against the account before the password
// is checked, in one atomic update; errLocked while the account is locked,
// with the lock's end. Every MaxFailures-th failure in a row locks it (see
// lockFor); a new lock is recorded and may owe a notice (locked).
//
// The same update decides the notice of repeated locks: every
// RepeatedLocks-th lock in a row (no successful login between them) owes one,
// at most one per RepeatedLockWindow (the counter's WindowStart is when the
// last one went out). So counting locks costs no extra write, and a lock
// looks, and takes, the same as any wrong password.
func (s *Service) reserve(ctx context.Context, id store.PersonID, now time.Time, clientIP string) (time.Time, error) {
	// The notice is made for every attempt (a few microseconds, the same for
	// all) and queued only with the lock that owes it, in its transaction.
	n, err := s.notify.Make(id, notice.LoginLocked, notice.Details{At: now})
	if err != nil {
		return time.Time{}, fmt.Errorf("account: lock notice: %w", err)
	}
	var until time.Time
	var owed bool // this lock owes the repeated-lock notice
	var locks int64
	_, err = s.store.UpdateCounterNotice(ctx, counterKey(id), func(c *store.Counter) (bool, error) {
		until, owed, locks = time.Time{}, false, 0 // fn may run more than once
		if c.LockedUntil.After(now) {
			until = c.LockedUntil
			return false, errLocked
		}
		c.Value++
		if c.Value%int64(s.cfg.MaxFailures) == 0 {
			locks = c.Value / int64(s.cfg.MaxFailures)
			c.LockedUntil = now.Add(s.lockFor(locks))
			if locks%int64(s.cfg.RepeatedLocks) == 0 && (c.WindowStart.IsZero() || now.Sub(c.WindowStart) >= s.cfg.RepeatedLockWindow) {
				c.WindowStart, owed = now.UTC().Truncate(time.Microsecond), true
			}
		}
		c.UpdatedAt = now
		return owed, nil
	}, n)
	if err == nil && owed {
		s.lockedRepeatedly(ctx, id, locks, clientIP)
	}
	return until, err
}

// reset clears the failure counter after a successful login.
func (s *Service) reset(ctx context.Context, id store.PersonID) error {
	_, err := s.store.UpdateCounter(ctx, counterKey(id), resetCounter(s.now()))
	if err != nil {
		return fmt.Errorf("account: reset failures: %w", err)
	}
	return nil
}

// resetCounter is the update that clears a failure counter at now.
func resetCounter(now time.Time) func(c *store.Counter) error {
	return func(c *store.Counter) error {
		// WindowStart (the last repeated-lock notice) stays: one per window.
		c.Value, c.LockedUntil, c.UpdatedAt = 0, time.Time{}, now
		return nil
	}
}

// release gives back a reserved attempt that was never checked; during a
// lock one of the lock's checks (lock.go: the right password does not spend
// one). It runs even when the client has gone away: a give-back that failed
// would count as a failure.
func (s *Service) release(ctx context.Context, id store.PersonID, duringLock bool) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	key := counterKey(id)
	if duringLock {
		key = lockedChecksKey(id)
	}
	_, err := s.store.UpdateCounter(ctx, key, func(c *store.Counter) error {
		if c.Value > 0 {
			c.Value--
		}
		c.UpdatedAt = now
		return nil
	})
	if err != nil {
		s.logger.Error("release login attempt", slog.String("subject", subject(id)), slog.Any("error", err))
	}
}

// rehash stores a new hash made with the current parameters; a failure only
// costs the upgrade.
func (s *Service) rehash(ctx context.Context, id store.PersonID, pw, old string) {
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return
	}
	_, err = s.store.UpdateAccount(ctx, id, s.now(), func(a *store.Account, exists bool) error {
		if !exists || a.PasswordHash != old {
			return errors.New("account: changed meanwhile")
		}
		a.PasswordHash = h
		return nil
	})
	if err != nil {
		s.logger.Info("password rehash skipped", slog.String("subject", subject(id)), slog.Any("error", err))
	}
}

func subject(id store.PersonID) string { return "person:" + strconv.FormatInt(int64(id), 10) }

// record writes e to the audit trail, also when the client has gone away.
func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

// PolicyContext returns the personal data a password of p must not contain.
func PolicyContext(p store.Person) password.Context {
	return password.Context{KVNR: p.KVNR, BirthDate: p.BirthDate, FamilyName: p.FamilyName, GivenNames: p.GivenNames,
		BirthName: p.BirthName, City: p.City, Street: strings.TrimSpace(p.Street + " " + p.HouseNumber)}
}

// CheckNew returns why pw is not acceptable for p (nil when it is).
func (s *Service) CheckNew(p store.Person, pw string) []password.Reason {
	return s.cfg.Policy.Check(pw, PolicyContext(p))
}

// ChangePassword replaces the password of the session's person, after checking
// the current one (which is the initial password at the first login). It ends
// every other session, lifts this one's forced change and sends a notice. A refused new password is a *RefusedError; a wrong
// current password is ErrWrongPassword and counts as a failed login.
func (s *Service) ChangePassword(ctx context.Context, tok session.Token, sess store.Session, current, next, clientIP string) error {
	done, err := s.hasher.Admit()
	if err != nil {
		return err
	}
	defer done()
	p, err := s.store.PersonByID(ctx, sess.PersonID)
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	if reasons := s.CheckNew(p, next); len(reasons) > 0 {
		return &RefusedError{Reasons: reasons}
	}
	acct, err := s.store.AccountByPerson(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	now := s.now()
	if _, err := s.reserve(ctx, p.ID, now, clientIP); errors.Is(err, errLocked) {
		return ErrWrongPassword
	} else if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	if acct.PasswordInitial {
		current = proofing.NormalizeInitialPassword(current)
	}
	ok, _, err := s.hasher.Verify(ctx, current, acct.PasswordHash)
	if err != nil {
		if errors.Is(err, password.ErrBusy) {
			s.release(ctx, p.ID, false)
		}
		return err
	}
	if !ok || (acct.PasswordInitial && !acct.PasswordExpiresAt.After(now)) {
		s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "account.password_change_failed", Subject: subject(p.ID), ClientIP: clientIP})
		return ErrWrongPassword
	}
	if err := s.reset(ctx, p.ID); err != nil {
		return err
	}
	wasInitial := acct.PasswordInitial
	if !wasInitial {
		if err := s.countChange(ctx, p.ID, now); err != nil {
			return err
		}
	}
	h, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	// Choosing the first password replaces the letter's initial one: the
	// person just received that letter, so no notice is due.
	var notices []store.Notice
	if !wasInitial {
		n, err := s.notify.Make(p.ID, notice.PasswordChanged, notice.Details{At: now})
		if err != nil {
			return fmt.Errorf("account: change password: %w", err)
		}
		notices = append(notices, n)
	}
	if _, err := s.store.UpdateAccount(ctx, p.ID, now, func(a *store.Account, exists bool) error {
		if !exists || a.PasswordHash != acct.PasswordHash {
			return ErrWrongPassword // changed by a parallel request
		}
		a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt, a.PasswordChangedAt = h, false, time.Time{}, now
		return nil
	}, notices...); err != nil {
		return err
	}
	s.notify.Kick()
	if sess.MustChangePassword {
		if err := s.sessions.PasswordChosen(ctx, tok); err != nil {
			return err
		}
	}
	if _, err := s.sessions.EndOthers(ctx, p.ID, tok, session.EndedPasswordChanged); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "account.password_changed", Subject: subject(p.ID), ClientIP: clientIP,
		Details: map[string]any{"replaced_initial": wasInitial}})
	return nil
}

// ErrTooManyChanges: the account's password was changed MaxChangesPerDay
// times today.
var ErrTooManyChanges = errors.New("account: too many password changes today")

// countChange counts one password change of the person today, or refuses it
// with ErrTooManyChanges.
func (s *Service) countChange(ctx context.Context, id store.PersonID, now time.Time) error {
	key := "password_change:" + strconv.FormatInt(int64(id), 10) + ":" + now.UTC().Format(time.DateOnly)
	_, err := s.store.UpdateCounter(ctx, key, func(c *store.Counter) error {
		if c.Value >= int64(s.cfg.MaxChangesPerDay) {
			return ErrTooManyChanges
		}
		c.Value++
		c.UpdatedAt = now
		return nil
	})
	if errors.Is(err, ErrTooManyChanges) {
		s.record(ctx, audit.Event{Actor: subject(id), Event: "account.password_change_refused", Subject: subject(id),
			Details: map[string]any{"reason": "too_many_changes"}})
		return err
	}
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	return nil
}

// ErrHasPassword reports that the person already chose a password.
var ErrHasPassword = errors.New("account: a password is already set")

// CheckPassword checks the person's password outside a login (binding a device
// with a letter, removing the last device). It counts against the same attempt
// limit as logins; every failure is ErrLoginFailed. An unexpired initial
// password counts (the letter that carries it also carries the activation code).
func (s *Service) CheckPassword(ctx context.Context, id store.PersonID, pw, clientIP string) error {
	done, err := s.hasher.Admit()
	if err != nil {
		return err
	}
	defer done()
	acct, err := s.store.AccountByPerson(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (acct.PasswordHash == "" ||
		(acct.PasswordInitial && !acct.PasswordExpiresAt.After(s.now())))) {
		if derr := s.hasher.DummyVerify(ctx, pw); errors.Is(derr, password.ErrBusy) {
			return derr
		}
		return ErrLoginFailed
	}
	if err != nil {
		return fmt.Errorf("account: check password: %w", err)
	}
	now := s.now()
	if _, err := s.reserve(ctx, id, now, clientIP); errors.Is(err, errLocked) {
		_ = s.hasher.DummyVerify(ctx, pw)
		return ErrLoginFailed
	} else if err != nil {
		return fmt.Errorf("account: check password: %w", err)
	}
	if acct.PasswordInitial {
		pw = proofing.NormalizeInitialPassword(pw)
	}
	ok, _, err := s.hasher.Verify(ctx, pw, acct.PasswordHash)
	if errors.Is(err, password.ErrBusy) {
		s.release(ctx, id, false)
		return err
	}
	if err != nil {
		return fmt.Errorf("account: check password: %w", err)
	}
	if !ok {
		s.record(ctx, audit.Event{Actor: subject(id), Event: "account.password_check_failed", Subject: subject(id), ClientIP: clientIP})
		return ErrLoginFailed
	}
	return s.reset(ctx, id)
}

// Strength rates pw for the strength meter, 0 (refused) to 4, against the
// person's data when p is not nil. A password the policy refuses rates at most
// its score's threshold minus one, so the meter never shows "strong" for a
// password that will be refused.
func (s *Service) Strength(p *store.Person, pw string) int {
	var c password.Context
	if p != nil {
		c = PolicyContext(*p)
	}
	return s.cfg.Policy.Strength(pw, c)
}

// SetLanguage saves the language the person chose for the portal's pages
// and their letters (store.Account.Language); a login brings it back. A
// person without an account (never logged in) has no choice to save:
// store.ErrNotFound.
func (s *Service) SetLanguage(ctx context.Context, id store.PersonID, l lang.Language) error {
	if !l.Valid() {
		return fmt.Errorf("account: set language: %q is no language of the portal", l)
	}
	_, err := s.store.UpdateAccount(ctx, id, s.now(), func(a *store.Account, exists bool) error {
		if !exists {
			return store.ErrNotFound
		}
		a.Language = string(l)
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: set language: %w", err)
	}
	return nil
}
