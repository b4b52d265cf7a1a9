package account

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// AccessRequest is a request for access ("Zugangsdaten anfordern").
type AccessRequest struct {
	KVNR       string
	PostalCode string
	BirthDate  string // YYYY-MM-DD
	ClientIP   string
}

var postalCode = regexp.MustCompile(`^[0-9]{5}$`)

// Letters queues letters (package dispatch).
type Letters interface {
	Queue(ctx context.Context, p store.Person, kind letter.Kind, sec dispatch.Secrets, expires, changedAt time.Time, device string) (dispatch.Queued, error)
}

// OneTimes keeps the letter codes.
type OneTimes interface {
	PutOneTime(ctx context.Context, v store.OneTime) error
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	VoidOneTimes(ctx context.Context, kind, subject string, now time.Time) (int64, error)
}

// ActivationKind is the one-time kind of letter activation codes.
const ActivationKind = "activation"

// Access runs access requests by letter. It answers every well-formed request the
// same way, whether or not the data match a person, and pads every answer to the
// same minimum duration so that timing does not tell either.
type Access struct {
	accounts *Service
	store    Store
	onetimes OneTimes
	letters  Letters
	portal   string // the portal's base URL, for the activation URL
	minTime  time.Duration
	clock    func() time.Time // monotonic: measures the padding, never dates anything
	sleep    func(context.Context, time.Duration)
	eid      *EIDConfig // nil: no identification partner
}

// NewAccess returns the access flow. minTime is the least time every request
// takes (default 400 ms), which must exceed the real work's duration.
func NewAccess(accounts *Service, st Store, onetimes OneTimes, letters Letters, portal string, minTime time.Duration) *Access {
	if minTime <= 0 {
		minTime = 400 * time.Millisecond
	}
	return &Access{accounts: accounts, store: st, onetimes: onetimes, letters: letters, portal: portal, minTime: minTime,
		clock: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Validate checks the shape of the request's fields.
func (in AccessRequest) Validate(today time.Time) (kvnr string, err error) {
	kvnr = strings.ToUpper(strings.TrimSpace(in.KVNR))
	if !registry.ValidKVNR(kvnr) {
		return "", field.Invalid("kvnr", "Bitte prüfen Sie die Versichertennummer: ein Buchstabe und neun Ziffern, wie auf Ihrer Gesundheitskarte.")
	}
	if !postalCode.MatchString(strings.TrimSpace(in.PostalCode)) {
		return "", field.Invalid("postal_code", "Bitte geben Sie eine Postleitzahl mit fünf Ziffern an.")
	}
	d, err := registry.ParseBirthDate(strings.TrimSpace(in.BirthDate), today)
	if err != nil || len(d.String()) != len("2006-01-02") {
		return "", field.Invalid("birth_date", "Bitte geben Sie Ihr Geburtsdatum vollständig an (TT.MM.JJJJ).")
	}
	return kvnr, nil
}

// RequestLetter handles a request for a password letter. A malformed request is
// a *field.Error; every well-formed request returns nil after at least the
// minimum time, whatever happened: a letter queued (to the address on file,
// never to one typed in), held for review, refused by a limit, or no person
// matched.
func (a *Access) RequestLetter(ctx context.Context, in AccessRequest) error {
	return a.answerAlike(ctx, in, "access.letter_requested", a.requestLetter)
}

// answerAlike runs an anonymous request: it checks the fields' shape, runs
// handle, records the outcome in the audit trail (never in the answer), and
// pads the request to the minimum duration.
func (a *Access) answerAlike(ctx context.Context, in AccessRequest, event string,
	handle func(ctx context.Context, kvnr string, in AccessRequest) (accessOutcome, error)) error {
	start := a.clock()
	kvnr, err := in.Validate(a.accounts.now())
	if err != nil {
		return err
	}
	outcome, err := handle(ctx, kvnr, in)
	if err != nil {
		return err
	}
	a.accounts.record(ctx, audit.Event{Actor: "anonymous", Event: event, ClientIP: in.ClientIP,
		Subject: outcome.subject, Details: map[string]any{"outcome": outcome.name}})
	a.pad(ctx, start)
	return nil
}

// pad waits until the minimum time after start has passed: every answer of
// answerAlike ends at the same deadline, start + minTime, however long its
// work took (work that took longer is not padded).
func (a *Access) pad(ctx context.Context, start time.Time) {
	if wait := start.Add(a.minTime).Sub(a.clock()); wait > 0 {
		a.sleep(ctx, wait)
	}
}

type accessOutcome struct{ name, subject string }

func (a *Access) requestLetter(ctx context.Context, kvnr string, in AccessRequest) (accessOutcome, error) {
	who, ok, err := a.matchPerson(ctx, kvnr, in)
	if err != nil {
		return accessOutcome{}, err
	}
	if !ok {
		return a.dummy(ctx, accessOutcome{name: "no_match", subject: who})
	}
	p, err := a.store.PersonByKVNR(ctx, kvnr)
	if err != nil {
		return accessOutcome{}, fmt.Errorf("account: access: %w", err)
	}
	if acct, err := a.store.AccountByPerson(ctx, p.ID); err == nil && acct.PasswordHash != "" && !acct.PasswordInitial {
		// The person already chose a password; a forgotten password goes
		// through RequestReset, which never replaces it by a letter alone.
		return a.dummy(ctx, accessOutcome{name: "has_password", subject: who})
	}
	return a.sendPasswordLetter(ctx, p)
}

// sendPasswordLetter queues a Passwortbrief to p's registered address and, if a
// limit allows it, replaces the person's earlier letter codes by the new ones.
func (a *Access) sendPasswordLetter(ctx context.Context, p store.Person) (accessOutcome, error) {
	who := subject(p.ID)
	initial, err := proofing.NewInitialPassword()
	if err != nil {
		return accessOutcome{}, err
	}
	code, err := proofing.NewActivationCode()
	if err != nil {
		return accessOutcome{}, err
	}
	now := a.accounts.now()
	expires := now.Add(a.accounts.cfg.InitialValidity)
	q, err := a.letters.Queue(ctx, p, letter.KindPassword, dispatch.Secrets{
		InitialPassword: initial, ActivationURL: proofing.ActivationURL(a.portal, code)}, expires, time.Time{}, "")
	if errors.Is(err, dispatch.ErrLimit) {
		return a.dummy(ctx, accessOutcome{name: "limit", subject: who})
	}
	if err != nil {
		return accessOutcome{}, err
	}
	// The new letter supersedes the old: void its codes, then set the new.
	if err := a.VoidLetterCodes(ctx, p.ID); err != nil {
		return accessOutcome{}, err
	}
	if _, err := a.accounts.SetInitialPassword(ctx, p.ID, initial); err != nil {
		return accessOutcome{}, err
	}
	if err := a.onetimes.PutOneTime(ctx, store.OneTime{Kind: ActivationKind, Digest: proofing.CodeDigest(code), Subject: who,
		Data: []byte(q.Letter.ID), CreatedAt: now, ExpiresAt: expires}); err != nil {
		return accessOutcome{}, fmt.Errorf("account: access: %w", err)
	}
	if q.InReview {
		return accessOutcome{name: "review", subject: who}, nil
	}
	return accessOutcome{name: "queued", subject: who}, nil
}

// dummy spends about what a real letter costs in hashing, so that the minimum
// time covers both paths alike.
func (a *Access) dummy(ctx context.Context, o accessOutcome) (accessOutcome, error) {
	_ = a.accounts.hasher.DummyVerify(ctx, "dummy initial password")
	return o, nil
}

// VoidLetterCodes voids the person's unused activation and reset codes (a newer
// letter replaced them, or the letter came back undeliverable) and an unused
// initial password (dispatch.Voider).
func (a *Access) VoidLetterCodes(ctx context.Context, id store.PersonID) error {
	now := a.accounts.now()
	for _, kind := range []string{ActivationKind, ResetKind} {
		if _, err := a.onetimes.VoidOneTimes(ctx, kind, subject(id), now); err != nil {
			return fmt.Errorf("account: void codes: %w", err)
		}
	}
	_, err := a.store.UpdateAccount(ctx, id, now, func(acct *store.Account, exists bool) error {
		if !exists || !acct.PasswordInitial {
			return errNothingToVoid
		}
		acct.PasswordHash, acct.PasswordInitial, acct.PasswordExpiresAt = "", false, time.Time{}
		return nil
	})
	if err != nil && !errors.Is(err, errNothingToVoid) {
		return fmt.Errorf("account: void codes: %w", err)
	}
	return nil
}

var errNothingToVoid = errors.New("account: nothing to void")

// ErrLetterRefused reports that a letter for a logged-in person was refused by
// a limit (the person is known, so saying so reveals nothing).
var ErrLetterRefused = errors.New("account: letter limit reached")

// ErrLettersToday reports that the insurer's letters with codes for today are
// used up (letters.daily_cap): the person may order again tomorrow.
var ErrLettersToday = errors.New("account: no more letters today")

// OrderActivationLetter sends a logged-in person who has a password but no
// phone an activation letter (QR code only, no new password) to the address on
// file, with the limits of password letters. It returns whether the letter
// waits for staff review (address not verified).
func (a *Access) OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string) (inReview bool, err error) {
	p, err := a.store.PersonByID(ctx, id)
	if err != nil {
		return false, fmt.Errorf("account: activation letter: %w", err)
	}
	code, err := proofing.NewActivationCode()
	if err != nil {
		return false, err
	}
	now := a.accounts.now()
	expires := now.Add(a.accounts.cfg.InitialValidity)
	q, err := a.letters.Queue(ctx, p, letter.KindActivation, dispatch.Secrets{ActivationURL: proofing.ActivationURL(a.portal, code)},
		expires, time.Time{}, "")
	if errors.Is(err, dispatch.ErrDailyCap) {
		return false, ErrLettersToday
	}
	if errors.Is(err, dispatch.ErrLimit) {
		return false, ErrLetterRefused
	}
	if err != nil {
		return false, err
	}
	// The new letter supersedes earlier codes; a chosen password stays.
	if _, err := a.onetimes.VoidOneTimes(ctx, ActivationKind, subject(id), now); err != nil {
		return false, fmt.Errorf("account: activation letter: %w", err)
	}
	if err := a.onetimes.PutOneTime(ctx, store.OneTime{Kind: ActivationKind, Digest: proofing.CodeDigest(code), Subject: subject(id),
		Data: []byte(q.Letter.ID), CreatedAt: now, ExpiresAt: expires}); err != nil {
		return false, fmt.Errorf("account: activation letter: %w", err)
	}
	a.accounts.record(ctx, audit.Event{Actor: subject(id), Event: "access.activation_letter", Subject: subject(id), ClientIP: clientIP,
		Details: map[string]any{"letter": q.Letter.ID, "review": q.InReview}})
	return q.InReview, nil
}
