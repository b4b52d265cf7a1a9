package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// ErrResetFailed is the one answer to every failed reset with a code.
var ErrResetFailed = errors.New("access: reset failed")

// ResetKind is the one-time kind of reset codes from letters.
const ResetKind = "reset"

// RequestReset handles a forgotten password by letter. A person who chose a
// password gets a reset letter (a reset code; the old password keeps working
// until the code is used); a person without one gets a password letter, as for
// an access request. A malformed request is a *field.Error. Every
// well-formed request is stored in the intake, the same write whatever its
// KVNR, and answered alike (nil) after the minimum time; the worker
// (DrainIntake) looks the person up and queues the letter. ErrIntakeFull
// when too many requests wait.
func (a *Service) RequestReset(ctx context.Context, in Request) error {
	start := a.clock()
	kvnr, err := in.Validate(a.now())
	if err != nil {
		return err
	}
	if err := a.takeIn(ctx, intakeReset, kvnr, in); err != nil {
		return err
	}
	a.pad(ctx, start)
	return nil
}

// requestReset is the work of a reset request taken from the intake:
// intake is its id, deleted with the letter the request causes.
func (a *Service) requestReset(ctx context.Context, kvnr string, in Request, intake string) (accessOutcome, error) {
	p, ok, err := a.matchPerson(ctx, kvnr, in)
	if err != nil {
		return accessOutcome{}, err
	}
	if !ok {
		return a.dummy(ctx, accessOutcome{name: "no_match", subject: p})
	}
	person, err := a.store.PersonByKVNR(ctx, kvnr)
	if err != nil {
		return accessOutcome{}, fmt.Errorf("access: reset: %w", err)
	}
	if locked, err := a.staffLocked(ctx, person.ID); err != nil {
		return accessOutcome{}, err
	} else if locked {
		// Answered alike; the letter would open a way around the lock.
		return a.dummy(ctx, accessOutcome{name: "staff_locked", subject: subject(person.ID)})
	}
	acct, err := a.store.AccountByPerson(ctx, person.ID)
	if err != nil || acct.PasswordHash == "" || acct.PasswordInitial {
		return a.sendPasswordLetter(ctx, person, in.Language, intake)
	}
	code, err := proofing.NewInitialPassword() // same alphabet and length: 80 bits
	if err != nil {
		return accessOutcome{}, err
	}
	activation, err := proofing.NewActivationCode()
	if err != nil {
		return accessOutcome{}, err
	}
	now := a.now()
	expires := lang.EndOfDay(now.Add(a.accounts.InitialValidity()))
	who := subject(person.ID)
	// The letter, the voiding of earlier codes (and of an unused initial
	// password) and the new codes commit in one transaction.
	q, err := a.letters.Queue(ctx, person, letter.KindPasswordReset, in.Language, dispatch.Secrets{
		InitialPassword: code, ActivationURL: proofing.ActivationURL(a.cfg.Portal, activation)},
		store.LetterCodes{Subject: who, Void: letterCodeKinds, Put: []store.OneTime{
			{Kind: ResetKind, Digest: proofing.CodeDigest(code), Subject: who, CreatedAt: now, ExpiresAt: expires},
			{Kind: ActivationKind, Digest: proofing.CodeDigest(activation), Subject: who, CreatedAt: now, ExpiresAt: expires},
		}, Account: voidInitial, Intake: intake},
		expires, time.Time{}, "")
	if errors.Is(err, dispatch.ErrLimit) {
		return a.dummy(ctx, accessOutcome{name: "limit", subject: who})
	}
	if intake != "" && errors.Is(err, store.ErrNotFound) {
		return accessOutcome{}, errIntakeGone
	}
	if err != nil {
		return accessOutcome{}, err
	}
	// Spend what a password letter spends on hashing.
	_ = a.hasher.DummyVerify(ctx, code)
	if q.InReview {
		return accessOutcome{name: "reset_review", subject: who, lettered: true}, nil
	}
	return accessOutcome{name: "reset_queued", subject: who, lettered: true}, nil
}

// matchPerson checks KVNR, postal code and birth date against the register. It
// returns the person's audit subject when the KVNR is known.
func (a *Service) matchPerson(ctx context.Context, kvnr string, in Request) (string, bool, error) {
	p, err := a.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("access: access: %w", err)
	}
	now := a.now()
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
func (a *Service) ResetWithCode(ctx context.Context, kvnr, code, newPassword, clientIP, userAgent string) (account.LoginResult, error) {
	kvnr = strings.ToUpper(strings.TrimSpace(kvnr))
	code = proofing.NormalizeInitialPassword(code)
	now := a.now()
	digest := proofing.CodeDigest(code)
	ot, err := a.store.OneTimeByDigest(ctx, ResetKind, digest, now)
	if errors.Is(err, store.ErrNotFound) {
		return account.LoginResult{}, ErrResetFailed
	}
	if err != nil {
		return account.LoginResult{}, fmt.Errorf("access: reset: %w", err)
	}
	p, err := a.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) || (err == nil && subject(p.ID) != ot.Subject) {
		return account.LoginResult{}, ErrResetFailed
	}
	if err != nil {
		return account.LoginResult{}, fmt.Errorf("access: reset: %w", err)
	}
	// The code is right: its letter's owner learns that staff locked the
	// access, and the code stays unused.
	if locked, err := a.staffLocked(ctx, p.ID); err != nil {
		return account.LoginResult{}, err
	} else if locked {
		return account.LoginResult{}, session.ErrPersonLocked
	}
	if reasons := a.accounts.CheckNew(p, newPassword); len(reasons) > 0 {
		return account.LoginResult{}, &account.RefusedError{Reasons: reasons}
	}
	if _, err := a.store.ConsumeOneTime(ctx, ResetKind, digest, now); errors.Is(err, store.ErrNotFound) {
		return account.LoginResult{}, ErrResetFailed
	} else if err != nil {
		return account.LoginResult{}, fmt.Errorf("access: reset: %w", err)
	}
	return a.accounts.SetProvenPassword(ctx, p, newPassword, session.New{PersonID: p.ID, Kind: session.KindBrowser,
		Level: session.LevelLow, AMR: []string{"pwd"}, Origin: session.OriginLetter, ClientIP: clientIP, UserAgent: userAgent}, "letter")
}
