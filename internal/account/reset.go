package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// ErrResetFailed is the one answer to every failed reset with a code.
var ErrResetFailed = errors.New("account: reset failed")

// errAccountMoved: the account changed between reading it and writing the new
// password (a parallel request); the caller tries again.
var errAccountMoved = errors.New("account: account changed meanwhile")

// ResetKind is the one-time kind of reset codes from letters.
const ResetKind = "reset"

// RequestReset handles a forgotten password by letter. A person who chose a
// password gets a reset letter (a reset code; the old password keeps working
// until the code is used); a person without one gets a password letter, as for
// an access request. Every well-formed request is answered alike (nil), after
// at least the minimum time.
func (a *Access) RequestReset(ctx context.Context, in AccessRequest) error {
	return a.answerAlike(ctx, in, "access.reset_requested", a.requestReset)
}

func (a *Access) requestReset(ctx context.Context, kvnr string, in AccessRequest) (accessOutcome, error) {
	p, ok, err := a.matchPerson(ctx, kvnr, in)
	if err != nil {
		return accessOutcome{}, err
	}
	if !ok {
		return a.dummy(ctx, accessOutcome{name: "no_match", subject: p})
	}
	person, err := a.store.PersonByKVNR(ctx, kvnr)
	if err != nil {
		return accessOutcome{}, fmt.Errorf("account: reset: %w", err)
	}
	acct, err := a.store.AccountByPerson(ctx, person.ID)
	if err != nil || acct.PasswordHash == "" || acct.PasswordInitial {
		return a.sendPasswordLetter(ctx, person)
	}
	code, err := proofing.NewInitialPassword() // same alphabet and length: 80 bits
	if err != nil {
		return accessOutcome{}, err
	}
	activation, err := proofing.NewActivationCode()
	if err != nil {
		return accessOutcome{}, err
	}
	now := a.accounts.now()
	expires := now.Add(a.accounts.cfg.InitialValidity)
	who := subject(person.ID)
	q, err := a.letters.Queue(ctx, person, letter.KindPasswordReset, dispatch.Secrets{
		InitialPassword: code, ActivationURL: proofing.ActivationURL(a.portal, activation)}, expires, time.Time{}, "")
	if errors.Is(err, dispatch.ErrLimit) {
		return a.dummy(ctx, accessOutcome{name: "limit", subject: who})
	}
	if err != nil {
		return accessOutcome{}, err
	}
	if err := a.VoidLetterCodes(ctx, person.ID); err != nil {
		return accessOutcome{}, err
	}
	for kind, c := range map[string]string{ResetKind: code, ActivationKind: activation} {
		if err := a.onetimes.PutOneTime(ctx, store.OneTime{Kind: kind, Digest: proofing.CodeDigest(c), Subject: who,
			Data: []byte(q.Letter.ID), CreatedAt: now, ExpiresAt: expires}); err != nil {
			return accessOutcome{}, fmt.Errorf("account: reset: %w", err)
		}
	}
	// Spend what a password letter spends on hashing.
	_ = a.accounts.hasher.DummyVerify(ctx, code)
	if q.InReview {
		return accessOutcome{name: "reset_review", subject: who}, nil
	}
	return accessOutcome{name: "reset_queued", subject: who}, nil
}

// matchPerson checks KVNR, postal code and birth date against the register. It
// returns the person's audit subject when the KVNR is known.
func (a *Access) matchPerson(ctx context.Context, kvnr string, in AccessRequest) (string, bool, error) {
	p, err := a.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("account: access: %w", err)
	}
	now := a.accounts.now()
	reg, err := registry.ParseBirthDate(p.BirthDate, now)
	given, gerr := registry.ParseBirthDate(strings.TrimSpace(in.BirthDate), now)
	if err != nil || gerr != nil || !reg.Matches(given) || p.PostalCode != strings.TrimSpace(in.PostalCode) {
		return subject(p.ID), false, nil
	}
	return subject(p.ID), true, nil
}

// ResetWithCode sets a new password with the code from a reset letter and starts
// a session at level low. Every failure of KVNR or code is ErrResetFailed; a
// refused password is a *RefusedError and leaves the code usable.
func (a *Access) ResetWithCode(ctx context.Context, kvnr, code, newPassword, clientIP, userAgent string) (LoginResult, error) {
	kvnr = strings.ToUpper(strings.TrimSpace(kvnr))
	code = proofing.NormalizeInitialPassword(code)
	now := a.accounts.now()
	digest := proofing.CodeDigest(code)
	ot, err := a.onetimes.OneTimeByDigest(ctx, ResetKind, digest, now)
	if errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, ErrResetFailed
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: reset: %w", err)
	}
	p, err := a.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) || (err == nil && subject(p.ID) != ot.Subject) {
		return LoginResult{}, ErrResetFailed
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: reset: %w", err)
	}
	if reasons := a.accounts.CheckNew(p, newPassword); len(reasons) > 0 {
		return LoginResult{}, &RefusedError{Reasons: reasons}
	}
	if _, err := a.onetimes.ConsumeOneTime(ctx, ResetKind, digest, now); errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, ErrResetFailed
	} else if err != nil {
		return LoginResult{}, fmt.Errorf("account: reset: %w", err)
	}
	return a.accounts.setChosenPassword(ctx, p, newPassword, session.New{PersonID: p.ID, Kind: session.KindBrowser,
		Level: session.LevelLow, AMR: []string{"pwd"}, Origin: session.OriginLetter, ClientIP: clientIP, UserAgent: userAgent}, "letter")
}

// setChosenPassword stores a chosen password after a proof of identity (eID or
// reset letter), ends the person's other sessions, sends a notice if a password
// was replaced, and starts a session.
func (s *Service) setChosenPassword(ctx context.Context, p store.Person, pw string, n session.New, via string) (LoginResult, error) {
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
	if _, err := s.store.UpdateAccount(ctx, p.ID, now, func(a *store.Account, exists bool) error {
		replaced = exists && a.PasswordHash != "" && !a.PasswordInitial
		if replaced != (len(notices) == 1) {
			return errAccountMoved
		}
		a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt, a.PasswordChangedAt = h, false, time.Time{}, now
		return nil
	}, notices...); err != nil {
		return LoginResult{}, fmt.Errorf("account: set password: %w", err)
	}
	s.notify.Kick()
	if _, err := s.sessions.EndOthers(ctx, p.ID, ""); err != nil {
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
	return LoginResult{Token: tok, Session: sess}, nil
}
