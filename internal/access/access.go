// Package access owns the flows of a person who is not logged in and proves
// who they are (DESIGN.md 3.1 and the forgotten password of 3.3):
//
//   - requesting access ("Zugangsdaten anfordern") with KVNR, postal code and
//     birth date, answered by a password letter to the address on file
//     (letter.go) or by an identification with the eID card (eid.go);
//   - the forgotten password, by a reset letter's code or by eID (reset.go);
//   - activation letters for a logged-in person without a phone
//     (activation.go).
//
// No answer may tell whether a KVNR exists: every well-formed anonymous
// request is answered the same way, after the same minimum time, whatever
// happened (a letter queued or held for review, a limit reached, no person
// matched); the outcome goes to the audit trail only. A reset request by
// letter does not even look the person up: it stores one sealed row in the
// intake, the same write for every KVNR, and a worker on any node does the
// rest (intake.go). At most one letter's
// codes are valid per person: a new letter voids the old one's. A letter is
// written in the language of the request (Request.Language) unless the person
// chose one for their account (package dispatch applies that rule).
//
// The eID flow across requests, with its state sealed in the store so that
// any node serves any step:
//
//	StartEID ──▶ one-time "eid-flow" (15 min) ──▶ the partner
//	FinishEID(flow, partner's answer) ──consumes the flow──▶ match the claims
//	     │ match: identification record, one-time "eid-proven" ticket (15 min)
//	     │ no match / cancelled / failed: ErrEIDNoMatch, ErrEIDCancelled, ErrEIDFailed
//	     ▼
//	ChoosePassword(ticket) ──consumes the ticket──▶ password set, session at
//	                                                high with origin eid
//
// It does not own passwords, logins or sessions (package account keeps the
// password a flow proves; package session the session it starts), the
// letters themselves (package dispatch) or the rules of matching claims
// (package proofing).
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Request is a request for access ("Zugangsdaten anfordern") or for a new
// password, as the person typed it.
type Request struct {
	KVNR       string
	PostalCode string
	BirthDate  string // YYYY-MM-DD or TT.MM.JJJJ
	ClientIP   string
	// Language is the language the request was made in: the page's, or
	// the Accept-Language of the app's request (lang.Negotiate); zero for
	// none. The letter it causes is in this language unless the person
	// chose one (package dispatch decides).
	Language lang.Language
}

var postalCode = regexp.MustCompile(`^[0-9]{5}$`)

// Store is what the flows need of the store.
type Store interface {
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	UpdatePerson(ctx context.Context, id store.PersonID, fn func(p *store.Person) error) (store.Person, error)
	AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error)
	UpdateAccount(ctx context.Context, id store.PersonID, now time.Time, fn func(a *store.Account, exists bool) error,
		notices ...store.Notice) (store.Account, error)
	AddIdentification(ctx context.Context, r store.Identification) error
	PutOneTime(ctx context.Context, v store.OneTime) error
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	VoidOneTimes(ctx context.Context, kind, subject string, now time.Time) (int64, error)
	// AddIntake, ClaimIntakes and DeleteIntake keep the intake of reset
	// requests (store.Intakes).
	AddIntake(ctx context.Context, in store.Intake, limit int) error
	ClaimIntakes(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Intake, error)
	DeleteIntake(ctx context.Context, id string) error
	// PersonLockByID returns the staff lock of the person's access
	// (store.ErrNotFound: none): a locked person's requests queue no
	// letter and a reset code sets no password.
	PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error)
}

// Accounts keeps the passwords the flows give out or prove (package
// account).
type Accounts interface {
	// InitialValidity is how long a letter's initial password is valid;
	// its codes hold to the end of that day, German time.
	InitialValidity() time.Duration
	// InitialPassword hashes the letter's initial password and returns
	// the account updater that gives it to the person (it returns
	// account.ErrHasPassword if they chose one), to run in the letter's
	// transaction.
	InitialPassword(ctx context.Context, initial string) (func(a *store.Account, exists bool) error, time.Time, error)
	// CheckNew says why pw is refused as p's new password (nil: accepted).
	CheckNew(p store.Person, pw string) []password.Reason
	// SetProvenPassword sets the password the person chose after a proof
	// and starts the session n describes.
	SetProvenPassword(ctx context.Context, p store.Person, pw string, n session.New, via string) (account.LoginResult, error)
}

// Hasher spends the work of a password check without one (package
// password), so that no-match answers cost what matches cost.
type Hasher interface {
	DummyVerify(ctx context.Context, pw string) error
}

// Letters queues letters (package dispatch).
type Letters interface {
	// Queue stores the letter and the writes of its codes in one
	// transaction.
	Queue(ctx context.Context, p store.Person, kind letter.Kind, requested lang.Language, sec dispatch.Secrets,
		codes store.LetterCodes, expires, changedAt time.Time, device string) (dispatch.Queued, error)
}

// Auditor records security events (package audit).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Sealer seals the eID flow's state at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// EIDClient speaks to the identification partner (package eid).
type EIDClient interface {
	Start() (eid.AuthRequest, error)
	Finish(ctx context.Context, req eid.AuthRequest, gotState, code string) (proofing.Claims, error)
}

// ActivationKind is the one-time kind of letter activation codes.
const ActivationKind = "activation"

// Config configures the flows. Zero fields take the defaults.
type Config struct {
	// Portal is the portal's base URL, printed into letters (the QR code's
	// activation URL).
	Portal string
	// MinTime is the least time every anonymous request takes (default
	// 400 ms); it must exceed the real work's duration.
	MinTime time.Duration
	// EID is the identification partner; nil: eID is not offered
	// (ErrEIDUnavailable).
	EID EIDClient
	// Partner is the partner's issuer, recorded with each identification.
	Partner string
	// IntakeLimit is how many reset requests may wait in the intake
	// (default 10000); past it a request is refused with ErrIntakeFull.
	IntakeLimit int
}

// DefaultIntakeLimit is Config.IntakeLimit's default: a day of requests of a
// large insurer, small enough that a flood cannot fill the disk.
const DefaultIntakeLimit = 10000

// Service runs the flows.
type Service struct {
	store    Store
	accounts Accounts
	hasher   Hasher
	letters  Letters
	audit    Auditor
	sealer   Sealer
	partner  EIDClient // nil: no identification partner
	cfg      Config
	now      func() time.Time
	clock    func() time.Time // monotonic: measures the padding, never dates anything
	sleep    func(context.Context, time.Duration)
	logger   *slog.Logger
	kick     chan struct{} // a request was taken in: wakes RunIntake
	intake
}

// New returns the flows.
func New(st Store, accounts Accounts, hasher Hasher, letters Letters, aud Auditor, sealer Sealer, cfg Config,
	now func() time.Time, logger *slog.Logger) *Service {
	if cfg.MinTime <= 0 {
		cfg.MinTime = 400 * time.Millisecond
	}
	if cfg.IntakeLimit <= 0 {
		cfg.IntakeLimit = DefaultIntakeLimit
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Service{kick: make(chan struct{}, 1), store: st, accounts: accounts, hasher: hasher, letters: letters, audit: aud, sealer: sealer, partner: cfg.EID,
		cfg: cfg, now: now, clock: time.Now, sleep: sleepCtx, logger: logger}
	a.intake = intake{a: a}
	return a
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func subject(id store.PersonID) string { return "person:" + strconv.FormatInt(int64(id), 10) }

func (a *Service) record(ctx context.Context, e audit.Event) {
	if err := a.audit.Record(ctx, e); err != nil {
		a.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

// Validate checks the shape of the request's fields and reports every
// problem at once (field.Errors); it returns the KVNR in its canonical form.
func (in Request) Validate(today time.Time) (kvnr string, err error) {
	var problems field.Errors
	kvnr = strings.ToUpper(strings.TrimSpace(in.KVNR))
	if !registry.ValidKVNR(kvnr) {
		problems = append(problems, field.Wrong("kvnr", lang.Key("field.kvnr")))
	}
	if !postalCode.MatchString(strings.TrimSpace(in.PostalCode)) {
		problems = append(problems, field.Wrong("postal_code", lang.Key("field.postal_code")))
	}
	if d, err := registry.ParseBirthDate(strings.TrimSpace(in.BirthDate), today); err != nil || len(d.String()) != len("2006-01-02") {
		problems = append(problems, field.Wrong("birth_date", lang.Key("field.birth_date")))
	}
	if err := problems.Err(); err != nil {
		return "", err
	}
	return kvnr, nil
}

// staffLocked reports whether staff locked the person's access.
func (a *Service) staffLocked(ctx context.Context, id store.PersonID) (bool, error) {
	_, err := a.store.PersonLockByID(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("access: access lock: %w", err)
}
