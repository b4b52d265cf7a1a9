package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/store"
)

// RequestLetter handles a request for a password letter. A malformed request is
// a *field.Error; every well-formed request returns nil after at least the
// minimum time, whatever happened: a letter queued (to the address on file,
// never to one typed in), held for review, refused by a limit, or no person
// matched.
func (a *Service) RequestLetter(ctx context.Context, in Request) error {
	return a.answerAlike(ctx, in, "access.letter_requested", a.requestLetter)
}

// answerAlike runs an anonymous request: it checks the fields' shape, runs
// handle, records the outcome in the audit trail (never in the answer), and
// pads the request to the minimum duration.
func (a *Service) answerAlike(ctx context.Context, in Request, event string,
	handle func(ctx context.Context, kvnr string, in Request) (accessOutcome, error)) error {
	start := a.clock()
	kvnr, err := in.Validate(a.now())
	if err != nil {
		return err
	}
	outcome, err := handle(ctx, kvnr, in)
	if err != nil {
		return err
	}
	a.record(ctx, audit.Event{Actor: "anonymous", Event: event, ClientIP: in.ClientIP,
		Subject: outcome.subject, Details: map[string]any{"outcome": outcome.name}})
	a.pad(ctx, start)
	return nil
}

// pad waits until the minimum time after start has passed: every answer of
// answerAlike ends at the same deadline, start + minTime, however long its
// work took (work that took longer is not padded).
func (a *Service) pad(ctx context.Context, start time.Time) {
	if wait := start.Add(a.cfg.MinTime).Sub(a.clock()); wait > 0 {
		a.sleep(ctx, wait)
	}
}

// accessOutcome is what a request led to, for the audit trail; lettered:
// a letter was stored (and with it the request's intake row deleted).
type accessOutcome struct {
	name, subject string
	lettered      bool
}

func (a *Service) requestLetter(ctx context.Context, kvnr string, in Request) (accessOutcome, error) {
	who, ok, err := a.matchPerson(ctx, kvnr, in)
	if err != nil {
		return accessOutcome{}, err
	}
	if !ok {
		return a.dummy(ctx, accessOutcome{name: "no_match", subject: who})
	}
	p, err := a.store.PersonByKVNR(ctx, kvnr)
	if err != nil {
		return accessOutcome{}, fmt.Errorf("access: access: %w", err)
	}
	if locked, err := a.staffLocked(ctx, p.ID); err != nil {
		return accessOutcome{}, err
	} else if locked {
		// Answered alike; the letter would open a way around the lock.
		return a.dummy(ctx, accessOutcome{name: "staff_locked", subject: who})
	}
	if acct, err := a.store.AccountByPerson(ctx, p.ID); err == nil && acct.PasswordHash != "" && !acct.PasswordInitial {
		// The person already chose a password; a forgotten password goes
		// through RequestReset, which never replaces it by a letter alone.
		return a.dummy(ctx, accessOutcome{name: "has_password", subject: who})
	}
	return a.sendPasswordLetter(ctx, p, in.Language, "")
}

// sendPasswordLetter queues a Passwortbrief to p's registered address, in the
// language of the request (requested) unless p chose one, and, if a limit
// allows it, replaces the person's earlier letter codes by the new ones: the
// letter, the voiding of the earlier codes, the new activation code and the
// initial password commit in one transaction (dispatch.Queue), and with them
// the deletion of the intake request that caused the letter (intake; "" for
// none).
func (a *Service) sendPasswordLetter(ctx context.Context, p store.Person, requested lang.Language, intake string) (accessOutcome, error) {
	who := subject(p.ID)
	initial, err := proofing.NewInitialPassword()
	if err != nil {
		return accessOutcome{}, err
	}
	code, err := proofing.NewActivationCode()
	if err != nil {
		return accessOutcome{}, err
	}
	setInitial, _, err := a.accounts.InitialPassword(ctx, initial)
	if err != nil {
		return accessOutcome{}, err
	}
	now := a.now()
	expires := lang.EndOfDay(now.Add(a.accounts.InitialValidity()))
	q, err := a.letters.Queue(ctx, p, letter.KindPassword, requested, dispatch.Secrets{
		InitialPassword: initial, ActivationURL: proofing.ActivationURL(a.cfg.Portal, code)},
		store.LetterCodes{Subject: who, Void: letterCodeKinds,
			Put:     []store.OneTime{{Kind: ActivationKind, Digest: proofing.CodeDigest(code), Subject: who, CreatedAt: now, ExpiresAt: expires}},
			Account: setInitial, Intake: intake},
		expires, time.Time{}, "")
	switch {
	case intake != "" && errors.Is(err, store.ErrNotFound):
		return accessOutcome{}, errIntakeGone
	case errors.Is(err, dispatch.ErrLimit):
		// The initial password's hash was spent already: no dummy, so
		// that this outcome costs what every other one costs (one hash).
		return accessOutcome{name: "limit", subject: who}, nil
	case errors.Is(err, account.ErrHasPassword):
		// The person chose a password since it was checked; nothing
		// was stored.
		return accessOutcome{name: "has_password", subject: who}, nil
	case err != nil:
		return accessOutcome{}, err
	}
	if q.InReview {
		return accessOutcome{name: "review", subject: who, lettered: true}, nil
	}
	return accessOutcome{name: "queued", subject: who, lettered: true}, nil
}

// letterCodeKinds are the one-time kinds a letter's codes are stored under: a
// new letter voids the earlier ones of both.
var letterCodeKinds = []string{ActivationKind, ResetKind}

// dummy spends about what a real letter costs in hashing, so that the minimum
// time covers both paths alike.
func (a *Service) dummy(ctx context.Context, o accessOutcome) (accessOutcome, error) {
	_ = a.hasher.DummyVerify(ctx, "dummy initial password")
	return o, nil
}

// VoidLetterCodes voids the person's unused activation and reset codes (a newer
// letter replaced them, or the letter came back undeliverable) and an unused
// initial password (dispatch.Voider).
func (a *Service) VoidLetterCodes(ctx context.Context, id store.PersonID) error {
	now := a.now()
	for _, kind := range []string{ActivationKind, ResetKind} {
		if _, err := a.store.VoidOneTimes(ctx, kind, subject(id), now); err != nil {
			return fmt.Errorf("access: void codes: %w", err)
		}
	}
	_, err := a.store.UpdateAccount(ctx, id, now, func(acct *store.Account, exists bool) error {
		if !exists || !acct.PasswordInitial {
			return errNothingToVoid
		}
		return voidInitial(acct, exists)
	})
	if err != nil && !errors.Is(err, errNothingToVoid) {
		return fmt.Errorf("access: void codes: %w", err)
	}
	return nil
}

var errNothingToVoid = errors.New("access: nothing to void")

// voidInitial is the account updater that voids an unused initial password
// and leaves everything else as it is.
func voidInitial(acct *store.Account, _ bool) error {
	if acct.PasswordInitial {
		acct.PasswordHash, acct.PasswordInitial, acct.PasswordExpiresAt = "", false, time.Time{}
	}
	return nil
}
