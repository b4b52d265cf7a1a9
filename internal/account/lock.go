package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// A temporary lock holds for password-only logins. Its owner still gets in
// with the phone: a login with the RIGHT password during the lock answers
// *LockedError (not ErrLoginFailed) with a ticket, the portal asks the bound
// phone to confirm (portal.login, number matching), and ConfirmLockedLogin
// starts the session once the phone approved. The lock itself stays.
//
// Why this is no password oracle. During a lock the right password gives a
// different answer than a wrong one; if the lock let every attempt check the
// password, anyone knowing a KVNR could test passwords without limit while the
// account is locked, which is what the lock is there to stop. So a lock allows
// only LockedChecks password checks (counted on their own counter, reserved
// before the check as everywhere else); after them every attempt until the
// lock ends gets ErrLoginFailed after a hash whose verdict is dropped
// uncalled, the right password included, exactly as before. An attacker so checks at most MaxFailures +
// LockedChecks passwords per lock period instead of MaxFailures, which is the
// distinction "right password = logged in" that exists outside the lock
// anyway, over a few more tries. A wrong password during the lock answers
// ErrLoginFailed with the same work (two writes, one hash) whether the
// lock's checks are spent or not, so neither the lock nor its checks show.

// LockedError is the answer to the right password while the account is
// temporarily locked. Only the password's owner sees it.
type LockedError struct {
	// Until is when the lock ends.
	Until time.Time
	// Person is whose account it is.
	Person store.PersonID
	// Ticket lets ConfirmLockedLogin start the session after the phone
	// approved (single use, LockedTicketTTL).
	Ticket string
}

func (e *LockedError) Error() string {
	return "account: locked until " + e.Until.UTC().Format(time.RFC3339)
}

// LockedTicketTTL is how long the right password during a lock waits for the
// phone.
const LockedTicketTTL = 10 * time.Minute

// lockedTicketKind is the one-time kind of LockedError tickets.
const lockedTicketKind = "login-locked"

// ErrLockedTicket: the ticket of a login during a lock expired or was used.
var ErrLockedTicket = errors.New("account: locked-login ticket expired or used")

func lockedChecksKey(id store.PersonID) string {
	return "login:locked:" + strconv.FormatInt(int64(id), 10)
}

// reserveLocked reserves one of the lock's password checks (the lock is named
// by its end); errLocked when they are spent. The counter's window is the lock
// it belongs to, so a new lock starts with fresh checks.
func (s *Service) reserveLocked(ctx context.Context, id store.PersonID, until, now time.Time) error {
	until = until.UTC().Truncate(time.Microsecond)
	_, err := s.store.UpdateCounter(ctx, lockedChecksKey(id), func(c *store.Counter) error {
		if !c.WindowStart.Equal(until) {
			c.Value, c.WindowStart = 0, until
		}
		if c.Value >= int64(s.cfg.LockedChecks) {
			return errLocked
		}
		c.Value++
		c.UpdatedAt = now
		return nil
	})
	return err
}

// lockedTicket is what a LockedError ticket stores.
type lockedTicket struct {
	Until              time.Time `json:"until"`
	MustChangePassword bool      `json:"must_change_password"`
}

// lockedLogin answers the right password during the lock with a ticket.
func (s *Service) lockedLogin(ctx context.Context, p store.Person, acct store.Account, until time.Time, clientIP string) error {
	ticket, err := proofing.NewActivationCode()
	if err != nil {
		return err
	}
	data, err := json.Marshal(lockedTicket{Until: until.UTC(), MustChangePassword: acct.PasswordInitial})
	if err != nil {
		return fmt.Errorf("account: locked login: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.PutOneTime(ctx, store.OneTime{Kind: lockedTicketKind, Digest: proofing.CodeDigest(ticket), Subject: subject(p.ID),
		Data: data, CreatedAt: now, ExpiresAt: now.Add(LockedTicketTTL)}); err != nil {
		return fmt.Errorf("account: locked login: %w", err)
	}
	s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "account.login_locked", Subject: subject(p.ID), ClientIP: clientIP,
		Details: map[string]any{"locked_until": until.UTC().Format(time.RFC3339)}})
	return &LockedError{Until: until, Person: p.ID, Ticket: ticket}
}

// LockedLogin returns what a LockedError ticket stands for, without using it:
// ErrLockedTicket when it expired or was used.
func (s *Service) LockedLogin(ctx context.Context, ticket string) (LockedError, error) {
	ot, err := s.store.OneTimeByDigest(ctx, lockedTicketKind, proofing.CodeDigest(ticket), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return LockedError{}, ErrLockedTicket
	}
	if err != nil {
		return LockedError{}, fmt.Errorf("account: locked login: %w", err)
	}
	l, _, err := parseLockedTicket(ot, ticket)
	return l, err
}

func parseLockedTicket(ot store.OneTime, ticket string) (LockedError, lockedTicket, error) {
	id, err := store.ParsePersonRef(ot.Subject)
	if err != nil {
		return LockedError{}, lockedTicket{}, err
	}
	var t lockedTicket
	if err := json.Unmarshal(ot.Data, &t); err != nil {
		return LockedError{}, lockedTicket{}, fmt.Errorf("account: locked login: %w", err)
	}
	return LockedError{Until: t.Until, Person: id, Ticket: ticket}, t, nil
}

// ConfirmLockedLogin uses a LockedError ticket once and starts a browser
// session at level, confirmed by the phone with method (origin device, amr
// pwd hwk method). The caller has checked that the person's phone approved
// the portal.login request of this login (approval.CompleteLogin gives
// level). The lock stays: it holds for password-only logins.
func (s *Service) ConfirmLockedLogin(ctx context.Context, ticket string, level session.Level, method, clientIP, userAgent string) (LoginResult, error) {
	ot, err := s.store.ConsumeOneTime(ctx, lockedTicketKind, proofing.CodeDigest(ticket), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, ErrLockedTicket
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: confirm locked login: %w", err)
	}
	l, t, err := parseLockedTicket(ot, ticket)
	if err != nil {
		return LoginResult{}, err
	}
	acct, err := s.store.AccountByPerson(ctx, l.Person)
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: confirm locked login: %w", err)
	}
	tok, sess, err := s.sessions.Create(ctx, session.New{PersonID: l.Person, Kind: session.KindBrowser, Level: level,
		AMR: []string{"pwd", "hwk", method}, Origin: session.OriginDevice, MustChangePassword: t.MustChangePassword,
		ClientIP: clientIP, UserAgent: userAgent})
	if err != nil {
		return LoginResult{}, err
	}
	s.record(ctx, audit.Event{Actor: subject(l.Person), Event: "account.login", Subject: subject(l.Person), ClientIP: clientIP,
		Details: map[string]any{"kind": session.KindBrowser, "level": string(level), "origin": string(session.OriginDevice),
			"during_lock": true, "must_change_password": t.MustChangePassword}})
	return LoginResult{Token: tok, Session: sess, Language: acct.Language}, nil
}

// lockedRepeatedly records the repeated lock whose notice reserve queued
// with it, and asks for the notice's delivery.
func (s *Service) lockedRepeatedly(ctx context.Context, id store.PersonID, locks int64, clientIP string) {
	ctx = context.WithoutCancel(ctx)
	s.notify.Kick()
	s.record(ctx, audit.Event{Actor: "system", Event: "account.locked_repeatedly", Subject: subject(id), ClientIP: clientIP,
		Details: map[string]any{"locks_in_a_row": locks, "notice": true}})
}
