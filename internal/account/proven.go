package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// errAccountMoved: the account changed between reading it and writing the new
// password (a parallel request); the caller tries again.
var errAccountMoved = errors.New("account: account changed meanwhile")

// SetProvenPassword stores a password the person chose after proving who they
// are (an eID identification or a reset letter's code; package access runs
// those flows), ends the person's other sessions, sends a notice if a chosen
// password was replaced, and starts the session n describes. via names the
// proof in the audit trail ("eid", "letter").
func (s *Service) SetProvenPassword(ctx context.Context, p store.Person, pw string, n session.New, via string) (LoginResult, error) {
	// Staff locked the person's access: the proof does not lift it, and
	// the password stays as it is.
	if locked, err := s.sessions.Locked(ctx, p.ID); err != nil {
		return LoginResult{}, fmt.Errorf("account: set password: %w", err)
	} else if locked {
		return LoginResult{}, session.ErrPersonLocked
	}
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return LoginResult{}, err
	}
	now := s.now()
	replaced := false
	// The notice is made now and queued only if a chosen password is
	// replaced (a first password after a letter owes none).
	pwNotice, err := s.notify.Make(p.ID, notice.PasswordChanged, notice.Details{At: now})
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: set password: %w", err)
	}
	cur, err := s.store.AccountByPerson(ctx, p.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, fmt.Errorf("account: set password: %w", err)
	}
	var notices []store.Notice
	if err == nil && cur.PasswordHash != "" && !cur.PasswordInitial {
		notices = append(notices, pwNotice)
	}
	acct, err := s.store.UpdateAccount(ctx, p.ID, now, func(a *store.Account, exists bool) error {
		replaced = exists && a.PasswordHash != "" && !a.PasswordInitial
		if replaced != (len(notices) == 1) {
			return errAccountMoved
		}
		a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt, a.PasswordChangedAt = h, false, time.Time{}, now
		return nil
	}, notices...)
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: set password: %w", err)
	}
	s.notify.Kick()
	if _, err := s.sessions.EndOthers(ctx, p.ID, "", session.EndedPasswordChanged); err != nil {
		return LoginResult{}, err
	}
	if err := s.reset(ctx, p.ID); err != nil {
		return LoginResult{}, err
	}
	tok, sess, err := s.sessions.Create(ctx, n)
	if err != nil {
		return LoginResult{}, err
	}
	s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "account.password_set", Subject: subject(p.ID), ClientIP: n.ClientIP,
		Details: map[string]any{"via": via, "replaced": replaced, "level": string(n.Level)}})
	return LoginResult{Token: tok, Session: sess, Language: acct.Language}, nil
}
