// Package device owns device bindings (Gerätebindung) and the Freigabe-PIN: binding
// a phone's two keys to a person, challenges, the PIN's exact attempt limit, app
// logins, PIN changes and unbinding. The wire format of what the app signs is
// package appclient's (docs/app-protocol.md); this package checks it.
//
// Every app authentication answers a challenge (single use, 2 minutes, bound to
// its purpose and device). A challenge is self-contained and authenticated
// with a MAC (challenge.go): issuing one writes nothing, and its single use
// is recorded when it is answered. Its MAC, purpose, binding and expiry and
// both signatures are checked first, without any lock; then one write
// transaction of the store decides (store.DeviceProof),
// holding the binding's row, and nothing of the outcome is answered before it
// commits. A request without a valid device signature is refused and never
// counts as a PIN attempt, so nobody without the phone can lock the person
// out; of any number of parallel wrong PIN proofs on any number of nodes at
// most the limit are counted and answered as wrong:
//
//	challenge's MAC and expiry, signatures checked ──▶ one transaction: challenge used up (always)
//	                  │
//	                  ▼
//	  challenge unused, binding, device signature fit? ──no──▶ ErrProof (nothing counted)
//	                  │yes
//	                  ▼
//	          PIN locked? ──yes──▶ ErrPINLocked (nothing counted)
//	                  │no
//	                  ▼
//	          PIN signature ok? ──yes──▶ failures reset (a login: session and
//	                  │no                 history line stored, unless staff
//	                  ▼                   locked the person: ErrPersonLocked)
//	          count it; limit reached? ──yes──▶ lock PIN, queue its notice, ErrPINLocked
//	                  │no
//	                  ▼
//	          *WrongPINError{Remaining}
//
// A locked PIN is unlocked only by a new identity proof and a new PIN.
package device

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Errors of the device flows. None of them says which factor failed.
var (
	// ErrProof: the challenge or a signature did not check out.
	ErrProof = errors.New("device: proof refused")
	// ErrPINLocked: the binding's PIN is locked.
	ErrPINLocked = errors.New("device: pin locked")
	// ErrBindRefused: KVNR, password or activation code did not fit.
	ErrBindRefused = errors.New("device: binding refused")
	// ErrTooManyDevices: the person has the most devices allowed.
	ErrTooManyDevices = errors.New("device: too many devices")
	// ErrNotFound: no such binding (for this person).
	ErrNotFound = errors.New("device: no such device")
)

// WrongPINError reports a wrong PIN proof and how many attempts remain.
type WrongPINError struct{ Remaining int }

func (e *WrongPINError) Error() string {
	return "device: wrong pin proof, " + strconv.Itoa(e.Remaining) + " attempts left"
}

// Config holds the device rules. Zero fields take the defaults.
type Config struct {
	MaxDevices   int           // per person, default 3
	PINLimit     int           // wrong PIN proofs before the lock, default 3 (1–5)
	ChallengeTTL time.Duration // default 2 minutes
	// The weakest KDF parameters a new PIN key may have (binding, PIN change,
	// unlock); bindings made under a lower minimum keep working. Defaults:
	// appclient.MinKDFTime passes and appclient.MinKDFMemory KiB, the
	// protocol's own lower bounds.
	KDFMinTime   uint32 // t
	KDFMinMemory uint32 // m in KiB
}

func (c Config) withDefaults() Config {
	if c.MaxDevices <= 0 {
		c.MaxDevices = 3
	}
	if c.PINLimit <= 0 {
		c.PINLimit = 3
	}
	if c.ChallengeTTL <= 0 {
		c.ChallengeTTL = 2 * time.Minute
	}
	if c.KDFMinTime == 0 {
		c.KDFMinTime = appclient.MinKDFTime
	}
	if c.KDFMinMemory == 0 {
		c.KDFMinMemory = appclient.MinKDFMemory
	}
	return c
}

// Validate reports every problem.
func (c Config) Validate() []error {
	var errs []error
	if c.PINLimit < 0 || c.PINLimit > 5 {
		errs = append(errs, fmt.Errorf("device.pin_limit: %d is not between 1 and 5", c.PINLimit))
	}
	if c.MaxDevices < 0 || c.MaxDevices > 10 {
		errs = append(errs, fmt.Errorf("device.max_devices: %d is not between 1 and 10", c.MaxDevices))
	}
	if c.KDFMinTime != 0 && (c.KDFMinTime < appclient.MinKDFTime || c.KDFMinTime > appclient.MaxKDFTime) {
		errs = append(errs, fmt.Errorf("device.kdf_min_time: %d is not between %d and %d", c.KDFMinTime, appclient.MinKDFTime, appclient.MaxKDFTime))
	}
	if c.KDFMinMemory != 0 && (c.KDFMinMemory < appclient.MinKDFMemory || c.KDFMinMemory > appclient.MaxKDFMemory) {
		errs = append(errs, fmt.Errorf("device.kdf_min_memory: %d KiB is not between %d and %d", c.KDFMinMemory, appclient.MinKDFMemory, appclient.MaxKDFMemory))
	}
	return errs
}

// Store is what the service needs of the store.
type Store interface {
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	AddDevice(ctx context.Context, d store.Device, check func(bound int) error, notices ...store.Notice) error
	DeviceByID(ctx context.Context, id store.DeviceID) (store.Device, error)
	PersonDevices(ctx context.Context, id store.PersonID) ([]store.Device, error)
	DecideDeviceProof(ctx context.Context, p store.DeviceProof) (store.ProofResult, error)
	UpdateDevice(ctx context.Context, id store.DeviceID, fn func(d *store.Device) error, notices ...store.Notice) (store.Device, error)
	ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	UseChallenge(ctx context.Context, digest []byte, expiresAt time.Time) error
	ChallengeUsed(ctx context.Context, digest []byte) (bool, error)
}

// Passwords checks a person's password (package account).
type Passwords interface {
	CheckPassword(ctx context.Context, id store.PersonID, pw, clientIP string) error
}

// Notices makes the notices a binding's changes owe (package notice); they
// are queued in the change's own transaction. Kick asks for their delivery
// after the change committed.
type Notices interface {
	Make(person store.PersonID, kind notice.Kind, d notice.Details) (store.Notice, error)
	Kick()
}

// Sessions starts app sessions (package session).
type Sessions interface {
	Create(ctx context.Context, n session.New) (session.Token, store.Session, error)
	// Prepare builds a session without storing it, with its sign-in
	// history line: an app login stores both in the transaction that
	// decides its proof.
	Prepare(n session.New) (session.Prepared, error)
	// Locked reports whether staff locked the person's access: no device
	// is bound to a locked person.
	Locked(ctx context.Context, id store.PersonID) (bool, error)
}

// Auditor records security events.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Service runs the device flows.
type Service struct {
	store      Store
	passwords  Passwords
	notices    Notices
	sessions   Sessions
	audit      Auditor
	cards      Cards // nil: no binding with the health card
	challenges challengeKeys
	now        func() time.Time
	cfg        Config
	logger     *slog.Logger
}

// New returns a service. cards checks health cards; nil leaves binding with
// the card off (ErrEGKOff). keys are the node's data keys: challenges are
// authenticated with a key derived from them, so every node of a cluster
// must hold the same keys.
func New(st Store, passwords Passwords, notices Notices, sessions Sessions, aud Auditor, cards Cards, keys *seal.Keyring,
	now func() time.Time, cfg Config, logger *slog.Logger) *Service {
	return &Service{store: st, passwords: passwords, notices: notices, sessions: sessions, audit: aud, cards: cards,
		challenges: challengeKeys{keys.MACKeys(challengeKeyInfo)}, now: now, cfg: cfg.withDefaults(), logger: logger}
}

func subject(id store.PersonID) string { return "person:" + strconv.FormatInt(int64(id), 10) }

func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

func randomID(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("device: random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Purposes a challenge can be bound to (docs/app-protocol.md).
const (
	PurposeBind      = "bind"
	PurposeLogin     = "login"
	PurposeApprove   = "approve"
	PurposeDecline   = "decline"
	PurposePINChange = "pin-change"
	PurposeUnbind    = "unbind"
	PurposeBindEGK   = appclient.PurposeBindEGK
)

var purposes = map[string]bool{PurposeBind: true, PurposeLogin: true, PurposeApprove: true, PurposeDecline: true,
	PurposePINChange: true, PurposeUnbind: true, PurposeBindEGK: true}

// Proof is the app's answer to a challenge.
type Proof struct {
	// For is what the challenge was issued for (an approval id), set by the
	// server side that checks it; empty for other purposes.
	For             string
	ChallengeID     string
	DeviceSignature []byte
	PINSignature    []byte
}

// checkName bounds a device name or model.
func checkName(name, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return field.Wrong(name, lang.Key("field.device_name"))
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 40 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return field.Wrong(name, lang.Key("field.device_name_long"))
	}
	return nil
}
