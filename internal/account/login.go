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
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// A password login's writes and its hash. The hash needs only the stored
// hash read before, so it runs while the attempt is reserved; its verdict
// (password.Verdict) is taken only after the reservation committed, and a
// reservation the lock refused drops it uncalled: no attempt checks a
// password the limit did not allow, however the two overlap. A success
// settles in one transaction (store.PasswordLogins): the counter's reset,
// the session and its line in the sign-in history, refused while staff lock
// the person's access. A wrong password so costs two writes, one of them
// while hashing (the reservation) and one after (the sign-in history), and
// a success two as well.
//
// An unknown KVNR, and a lock whose checks are spent, have no attempt of
// their own to count. They make the same two writes, on the same kind of
// key: the counter "login:-<n>" is counted up while the dummy hash runs and
// again after it, n one of standIns chosen by a keyed hash of the
// KVNR. The set is fixed, so attacker-chosen KVNRs cannot grow the table,
// and the key is secret per process, so no one can aim many KVNRs at one
// row to slow them down (and so tell them from known ones).

// errLocked is internal: the account is locked; the caller sees ErrLoginFailed.
var errLocked = errors.New("account: locked")

// standIns is how many counters stand in for the attempts of logins
// that count none of their own.
const standIns = 1024

// standIn counts the failed logins that count no attempt of their own.
type standIn struct {
	store  Store
	seed   maphash.Seed
	logger *slog.Logger
}

// key is the counter that stands in for the attempts of kvnr: the kind of
// key a person's attempts are counted under ("login:<person>"), with a
// negative number, which no person has.
func (m standIn) key(kvnr string) string {
	n := maphash.String(m.seed, kvnr) % standIns
	return "login:-" + strconv.FormatUint(n+1, 10)
}

// count counts one failed login of kvnr on its stand-in counter: the write
// of a wrong password's reservation, or of its sign-in history line.
func (m standIn) count(ctx context.Context, kvnr string, now time.Time) {
	ctx = context.WithoutCancel(ctx)
	if _, err := m.store.UpdateCounterNotice(ctx, m.key(kvnr), func(c *store.Counter) (bool, error) {
		c.Value++
		c.UpdatedAt = now
		return false, nil
	}, store.Notice{}); err != nil {
		m.logger.Error("login stand-in write", slog.Any("error", err))
	}
}

// reservation is what reserving a login attempt found.
type reservation struct {
	until      time.Time // the lock's end, during a lock
	duringLock bool      // the attempt is one of the lock's checks (lock.go)
	spent      bool      // the lock's checks are spent: nothing is checked
	err        error
}

// reserveAttempt reserves the attempt on the person's counter, during a
// lock one of the lock's checks; when those are spent it makes the
// stand-in write instead (an attempt against a spent lock is not recorded
// in the person's history: unbounded tries would grow it).
func (s *Service) reserveAttempt(ctx context.Context, id store.PersonID, kvnr string, now time.Time, clientIP string) reservation {
	until, err := s.reserve(ctx, id, now, clientIP)
	if !errors.Is(err, errLocked) {
		return reservation{err: err}
	}
	err = s.reserveLocked(ctx, id, until, now)
	if errors.Is(err, errLocked) {
		s.standIn.count(ctx, kvnr, now)
		return reservation{until: until, duringLock: true, spent: true}
	}
	return reservation{until: until, duringLock: true, err: err}
}

// Login checks the password and starts a browser or app session at level low.
// Every failure is ErrLoginFailed; password.ErrBusy means too many hashes are
// running and the client should retry later.
func (s *Service) Login(ctx context.Context, in Login, kind string) (LoginResult, error) {
	// Turned away before any database work when the hasher is saturated.
	done, err := s.hasher.Admit()
	if err != nil {
		return LoginResult{}, err
	}
	defer done()
	kvnr := strings.ToUpper(strings.TrimSpace(in.KVNR))
	var p store.Person
	var acct store.Account
	err = errLoginUnknown
	if registry.ValidKVNR(kvnr) {
		p, acct, err = s.lookup(ctx, kvnr)
	}
	if errors.Is(err, errLoginUnknown) {
		return LoginResult{}, s.unknownLogin(ctx, kvnr, in, done)
	}
	if err != nil {
		return LoginResult{}, err
	}
	now := s.now()
	typed := in.Password
	if acct.PasswordInitial {
		// Printed in groups: spaces, hyphens and lower case do not matter.
		typed = proofing.NormalizeInitialPassword(typed)
	}
	reserved := make(chan reservation, 1)
	go func() { reserved <- s.reserveAttempt(ctx, p.ID, kvnr, now, in.ClientIP) }()
	verdict, herr := s.hasher.Derive(ctx, typed, acct.PasswordHash)
	r := <-reserved
	// The hash is done: what is left is no work for the hasher, and a
	// caller waiting at Admit can be let in to keep its slot busy.
	done()
	if r.err != nil {
		return LoginResult{}, fmt.Errorf("account: login: %w", r.err)
	}
	if r.spent {
		// The lock's checks are spent: the hash is dropped unchecked, and
		// the answer is a wrong password's.
		if errors.Is(herr, password.ErrBusy) {
			return LoginResult{}, herr
		}
		s.standIn.count(ctx, kvnr, s.now())
		s.record(ctx, audit.Event{Actor: "anonymous", Event: "account.login_failed", Subject: subject(p.ID), ClientIP: in.ClientIP,
			Details: map[string]any{"reason": "locked"}})
		return LoginResult{}, ErrLoginFailed
	}
	if errors.Is(herr, password.ErrBusy) {
		s.release(ctx, p.ID, r.duringLock)
		return LoginResult{}, herr
	}
	if herr != nil {
		return LoginResult{}, fmt.Errorf("account: login: %w", herr)
	}
	ok, rehash := verdict()
	expired := acct.PasswordInitial && !acct.PasswordExpiresAt.After(now)
	if !ok || expired {
		reason := "wrong_password"
		if ok {
			reason = "initial_password_expired"
		}
		if r.duringLock {
			reason = "locked_" + reason
		}
		s.record(ctx, audit.Event{Actor: "anonymous", Event: "account.login_failed", Subject: subject(p.ID), ClientIP: in.ClientIP,
			Details: map[string]any{"reason": reason}})
		outcome := session.OutcomeFailed
		if r.duringLock {
			outcome = session.OutcomeLocked
		}
		if err := s.sessions.Failed(ctx, p.ID, kind, session.OriginPassword, outcome, in.UserAgent, ""); err != nil {
			s.logger.Error("sign-in history", slog.Any("error", err))
		}
		return LoginResult{}, ErrLoginFailed
	}
	if r.duringLock {
		if locked, err := s.sessions.Locked(ctx, p.ID); err != nil {
			return LoginResult{}, fmt.Errorf("account: login: %w", err)
		} else if locked {
			return LoginResult{}, s.staffLocked(ctx, p.ID, kind, true, in)
		}
		// The right password: the owner. The lock holds for a
		// password-only login; the phone may confirm one.
		s.release(ctx, p.ID, true)
		return LoginResult{}, s.lockedLogin(ctx, p, acct, r.until, in.ClientIP)
	}
	origin := session.OriginPassword
	if acct.PasswordInitial {
		origin = session.OriginLetter
	}
	prep, err := s.sessions.Prepare(session.New{PersonID: p.ID, Kind: kind, Level: session.LevelLow, AMR: []string{"pwd"},
		Origin: origin, MustChangePassword: acct.PasswordInitial, ClientIP: in.ClientIP, UserAgent: in.UserAgent})
	if err != nil {
		return LoginResult{}, err
	}
	tok, sess := prep.Token, prep.Session
	// The login's audit entry commits with its session: one commit (and one
	// fsync) after the hash instead of two, and no session without its entry.
	entry, err := s.audit.Within(audit.Event{Actor: subject(p.ID), Event: "account.login", Subject: subject(p.ID), ClientIP: in.ClientIP,
		Details: map[string]any{"kind": kind, "level": string(session.LevelLow), "origin": string(origin), "must_change_password": acct.PasswordInitial}})
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: login: %w", err)
	}
	err = s.store.SettlePasswordLogin(ctx, counterKey(p.ID), resetCounter(s.now()), sess, prep.History, entry)
	if errors.Is(err, store.ErrPersonLocked) {
		return LoginResult{}, s.staffLocked(ctx, p.ID, kind, false, in)
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: login: %w", err)
	}
	if rehash && !acct.PasswordInitial {
		s.rehash(ctx, p.ID, in.Password, acct.PasswordHash)
	}
	res := LoginResult{Token: tok, Session: sess, Language: acct.Language}
	if kind == session.KindApp {
		devs, err := s.store.PersonDevices(ctx, p.ID)
		if err != nil {
			return LoginResult{}, fmt.Errorf("account: login: %w", err)
		}
		res.NeedsDevice = len(devs) == 0
	}
	return res, nil
}

// unknownLogin answers a login for a KVNR without a password: the same
// work as a wrong password, one write while hashing and one after. It ends
// the admission (done) once the hash is done, as Login does.
func (s *Service) unknownLogin(ctx context.Context, kvnr string, in Login, done func()) error {
	reserved := make(chan struct{})
	go func() {
		defer close(reserved)
		s.standIn.count(ctx, kvnr, s.now())
	}()
	herr := s.hasher.DummyVerify(ctx, in.Password)
	<-reserved
	done()
	if errors.Is(herr, password.ErrBusy) {
		return herr
	}
	s.standIn.count(ctx, kvnr, s.now())
	s.record(ctx, audit.Event{Actor: "anonymous", Event: "account.login_failed", ClientIP: in.ClientIP,
		Details: map[string]any{"reason": "unknown"}})
	return ErrLoginFailed
}

var errLoginUnknown = errors.New("account: unknown")

// lookup returns the person and their account with a password, or
// errLoginUnknown.
func (s *Service) lookup(ctx context.Context, kvnr string) (store.Person, store.Account, error) {
	p, err := s.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) {
		return store.Person{}, store.Account{}, errLoginUnknown
	}
	if err != nil {
		return store.Person{}, store.Account{}, fmt.Errorf("account: login: %w", err)
	}
	acct, err := s.store.AccountByPerson(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.PasswordHash == "") {
		return store.Person{}, store.Account{}, errLoginUnknown
	}
	if err != nil {
		return store.Person{}, store.Account{}, fmt.Errorf("account: login: %w", err)
	}
	return p, acct, nil
}
