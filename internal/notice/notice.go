// Package notice owns the notices a change owes the person through another
// channel: "your password was changed", "a phone was bound", "your PIN is
// locked", "your address was changed" (to the OLD address), "your bank account
// was changed", "a phone was removed". It does not own the changes (packages
// account, device and profile make them) or the way a notice travels (a
// Channel: letters through package dispatch now; push and e-mail later).
// Every notice is also filed in the person's mailbox in the transaction that
// queues it (the store keeps that promise, store.Notices); package mailbox
// tells its text from the kind and the details (OpenDetails). The letter
// stays beside it: each of these changes may be an intruder's, and the
// mailbox is inside the account an intruder holds; the letter is the
// channel outside it.
//
// A notice is made (Maker.Make) before its change and queued in the same
// transaction as the change, so no change commits without its notice. The
// Service then delivers the queue:
//
//	queued ──Deliver: every channel took it──▶ sent
//	  │  ▲
//	  │  └── a channel failed (retry with backoff) or deferred it (a budget:
//	  │      due again when the budget allows) — never dropped
//	  └── a repeated notice of one kind, person, recipient and day merges
//	      into the queued one (Count + 1): one letter a day, however often
//	      a hostile client repeats a change
//
// Delivery is at least once; channels make it exactly once per notice id
// (package dispatch derives the letter's id from it). A Delivery names the
// language the person reads: their own choice, German without one.
package notice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

// Kind is what a notice reports.
type Kind string

// The notice kinds.
const (
	PasswordChanged Kind = "password_changed"
	DeviceBound     Kind = "device_bound"
	DeviceRemoved   Kind = "device_removed"
	PINLocked       Kind = "pin_locked"
	AddressChanged  Kind = "address_changed"
	BankChanged     Kind = "bank_changed"
	LoginLocked     Kind = "login_locked" // the password login was locked repeatedly
)

var kinds = []Kind{PasswordChanged, DeviceBound, DeviceRemoved, PINLocked, AddressChanged, BankChanged, LoginLocked}

// Valid reports whether k is one of the notice kinds.
func (k Kind) Valid() bool {
	for _, v := range kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Kinds returns every notice kind.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// Details are a notice's particulars.
type Details struct {
	At     time.Time `json:"at"`               // when the change happened
	Device string    `json:"device,omitempty"` // the phone's name, for device notices
	// To are the address lines the notice goes to when that is not the
	// person's current address (the OLD address of an address change).
	To []string `json:"to,omitempty"`
}

// Sealer encrypts at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// place is the associated data of a notice's sealed details.
func place(id string) []byte { return []byte("notices.details:" + id) }

// OpenDetails opens the sealed details of the notice id (for the mailbox,
// which shows each notice as a message).
func OpenDetails(sealer Sealer, id string, sealed store.Sealed) (Details, error) {
	plain, err := sealer.OpenFor(sealed, place(id))
	if err != nil {
		return Details{}, fmt.Errorf("notice %s: open: %w", id, err)
	}
	var d Details
	if err := json.Unmarshal(plain, &d); err != nil {
		return Details{}, fmt.Errorf("notice %s: details: %w", id, err)
	}
	return d, nil
}

// Maker makes notices for changes to queue in their transaction.
type Maker struct {
	sealer Sealer
	now    func() time.Time
	kick   func()
}

// NewMaker returns a maker; kick (may be nil) is what Kick calls, usually
// Service.Kick.
func NewMaker(sealer Sealer, now func() time.Time, kick func()) *Maker {
	if kick == nil {
		kick = func() {}
	}
	return &Maker{sealer: sealer, now: now, kick: kick}
}

// Kick tells the deliverer that a change committed notices; it never blocks.
func (m *Maker) Kick() { m.kick() }

// Make returns the notice of kind for person, with d sealed. Notices of one
// kind, person, recipient and (UTC) day share their merge key.
func (m *Maker) Make(person store.PersonID, kind Kind, d Details) (store.Notice, error) {
	if !kind.Valid() || person == 0 {
		return store.Notice{}, fmt.Errorf("notice: make: kind %q for person %d", kind, person)
	}
	now := m.now().UTC().Truncate(time.Microsecond)
	if d.At.IsZero() {
		d.At = now
	}
	d.At = d.At.UTC().Truncate(time.Microsecond)
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return store.Notice{}, fmt.Errorf("notice: random: %w", err)
	}
	id := "ntc_" + base64.RawURLEncoding.EncodeToString(b[:])
	plain, err := json.Marshal(d)
	if err != nil {
		return store.Notice{}, fmt.Errorf("notice: make: %w", err)
	}
	sealed, err := m.sealer.SealFor(plain, place(id))
	if err != nil {
		return store.Notice{}, fmt.Errorf("notice: seal: %w", err)
	}
	to := sha256.Sum256([]byte(strings.Join(d.To, "\n")))
	merge := strconv.FormatInt(int64(person), 10) + ":" + string(kind) + ":" + now.Format(time.DateOnly) + ":" + hex.EncodeToString(to[:8])
	return store.Notice{ID: id, PersonID: person, Kind: string(kind), MergeKey: merge, Details: sealed,
		Count: 1, Status: store.NoticeQueued, CreatedAt: now, NextAttemptAt: now}, nil
}

// Delivery is a notice as a channel delivers it.
type Delivery struct {
	ID      string // the notice's id: a channel delivers each id once
	Person  store.Person
	Kind    Kind
	Details Details
	Count   int // how many changes the notice reports (merged repeats)
	// Language is the language the person reads notices in: their own
	// choice (store.Account.Language), German without one. A notice is
	// caused by a change, not by a request, so no request's language counts.
	Language lang.Language
}

// Channel delivers notices one way. Deliver must send each Delivery.ID at
// most once, however often it is called with it (a node may crash after a
// channel took a notice and before the notice was marked sent). It returns a
// *DeferredError when it cannot take the notice now but will later (a
// budget); any other error is retried with backoff.
type Channel interface {
	Deliver(ctx context.Context, d Delivery) error
}

// DeferredError says a channel will take the notice from Until on.
type DeferredError struct {
	Until  time.Time
	Reason string
}

func (e *DeferredError) Error() string {
	return "notice: deferred until " + e.Until.Format(time.RFC3339) + ": " + e.Reason
}

// Store is what the service needs of the store.
type Store interface {
	ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error)
	FinishNotice(ctx context.Context, id string, now time.Time) error
	RetryNotice(ctx context.Context, id string, next time.Time, reason string) error
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error)
}

// Config tunes delivery. Zero fields take the defaults.
type Config struct {
	Lease      time.Duration // how long a claimed notice is held by one node, default 2 minutes
	Batch      int           // notices claimed at once, default 50
	MaxBackoff time.Duration // longest wait between failed attempts, default 1 hour
}

func (c Config) withDefaults() Config {
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 50
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Hour
	}
	return c
}

// Service delivers the queued notices through its channels.
type Service struct {
	store    Store
	sealer   Sealer
	channels []Channel
	now      func() time.Time
	cfg      Config
	logger   *slog.Logger
	kick     chan struct{}
}

// New returns a service delivering through channels (at least one).
func New(st Store, sealer Sealer, channels []Channel, now func() time.Time, cfg Config, logger *slog.Logger) *Service {
	return &Service{store: st, sealer: sealer, channels: channels, now: now, cfg: cfg.withDefaults(), logger: logger,
		kick: make(chan struct{}, 1)}
}

// Result counts what one Deliver pass did.
type Result struct {
	Sent, Deferred, Failed int
}

// backoff is the wait after the n-th failed attempt: 30 s, doubling, at most
// MaxBackoff.
func (s *Service) backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

// Deliver claims the notices due now and delivers each through every
// channel, until none is due. A notice whose delivery failed stays queued.
func (s *Service) Deliver(ctx context.Context) (Result, error) {
	var res Result
	for {
		now := s.now()
		batch, err := s.store.ClaimNotices(ctx, now, s.cfg.Lease, s.cfg.Batch)
		if err != nil {
			return res, fmt.Errorf("notice: claim: %w", err)
		}
		for _, n := range batch {
			s.deliverOne(ctx, n, &res)
		}
		if len(batch) < s.cfg.Batch {
			return res, nil
		}
	}
}

func (s *Service) deliverOne(ctx context.Context, n store.Notice, res *Result) {
	err := s.send(ctx, n)
	now := s.now()
	var deferred *DeferredError
	switch {
	case err == nil:
		if err := s.store.FinishNotice(ctx, n.ID, now); err != nil {
			s.logger.Error("notice finish", slog.String("notice", n.ID), slog.Any("error", err))
			res.Failed++
			return
		}
		res.Sent++
	case errors.As(err, &deferred):
		res.Deferred++
		s.logger.Warn("notice deferred", slog.String("notice", n.ID), slog.String("kind", n.Kind),
			slog.Time("until", deferred.Until), slog.String("reason", deferred.Reason))
		if err := s.store.RetryNotice(ctx, n.ID, deferred.Until, deferred.Reason); err != nil {
			s.logger.Error("notice retry", slog.String("notice", n.ID), slog.Any("error", err))
		}
	default:
		res.Failed++
		s.logger.Error("notice delivery", slog.String("notice", n.ID), slog.String("kind", n.Kind),
			slog.Int("attempts", n.Attempts), slog.Any("error", err))
		if err := s.store.RetryNotice(ctx, n.ID, now.Add(s.backoff(n.Attempts)), "delivery failed"); err != nil {
			s.logger.Error("notice retry", slog.String("notice", n.ID), slog.Any("error", err))
		}
	}
}

func (s *Service) send(ctx context.Context, n store.Notice) error {
	p, err := s.store.PersonByID(ctx, n.PersonID)
	if err != nil {
		return fmt.Errorf("notice %s: person: %w", n.ID, err)
	}
	d, err := OpenDetails(s.sealer, n.ID, n.Details)
	if err != nil {
		return err
	}
	choice := ""
	if a, err := s.store.AccountByPerson(ctx, n.PersonID); err == nil {
		choice = a.Language
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("notice %s: account: %w", n.ID, err)
	}
	del := Delivery{ID: n.ID, Person: p, Kind: Kind(n.Kind), Details: d, Count: max(n.Count, 1),
		Language: lang.Choose(choice, lang.German)}
	for _, c := range s.channels {
		if err := c.Deliver(ctx, del); err != nil {
			return err
		}
	}
	return nil
}

// Kick asks Run to deliver now (after a change queued a notice); it never
// blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run delivers every interval and on Kick until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("notice delivery pass", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// ChannelFunc adapts a function to Channel.
type ChannelFunc func(ctx context.Context, d Delivery) error

// Deliver calls f.
func (f ChannelFunc) Deliver(ctx context.Context, d Delivery) error { return f(ctx, d) }
