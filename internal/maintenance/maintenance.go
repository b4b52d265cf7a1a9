// Package maintenance owns the upkeep every node runs beside serving: moving
// unanswered approval requests past their expiry to expired, and removing what
// has expired for longer than the retention (one-time values such as
// challenges and codes, sessions, OpenID requests and tokens), the sign-in
// history past its reach, and keeping the
// token signing keys rotated. It does not own what it sweeps (each step is a
// method of the package that owns the data) or the delivery of notices
// (package notice runs its own loop).
//
//	every ExpireEvery:  Expire ── approvals pending past expiry ─▶ expired
//	every CleanEvery:   Clean  ── older than now − Retention ─▶ deleted;
//	                               signing keys added or retired
//
// Every node may run it at once: each step is one statement, or an exact
// store update, with the same outcome whoever runs it first.
package maintenance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config says how often the steps run and how long expired rows stay. Zero
// fields take the defaults.
type Config struct {
	ExpireEvery time.Duration // default 30 s
	CleanEvery  time.Duration // default 10 min
	// Retention keeps expired rows this long, for looking into a recent
	// problem (default 24 h).
	Retention time.Duration
	// History is how far back the sign-in history reaches; older
	// entries go (default 90 days, session.HistoryDays).
	History time.Duration
}

func (c Config) withDefaults() Config {
	if c.ExpireEvery <= 0 {
		c.ExpireEvery = 30 * time.Second
	}
	if c.CleanEvery <= 0 {
		c.CleanEvery = 10 * time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.History <= 0 {
		c.History = 90 * 24 * time.Hour
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	if c.ExpireEvery < 0 || c.ExpireEvery > 0 && (c.ExpireEvery < time.Second || c.ExpireEvery > 10*time.Minute) {
		errs = append(errs, fmt.Errorf("maintenance.expire_every: %v is not between 1s and 10m", c.ExpireEvery))
	}
	if c.CleanEvery < 0 || c.CleanEvery > 0 && (c.CleanEvery < time.Minute || c.CleanEvery > 24*time.Hour) {
		errs = append(errs, fmt.Errorf("maintenance.clean_every: %v is not between 1m and 24h", c.CleanEvery))
	}
	if c.Retention < 0 || c.Retention > 0 && (c.Retention < time.Hour || c.Retention > 90*24*time.Hour) {
		errs = append(errs, fmt.Errorf("maintenance.retention: %v is not between 1h and 2160h (90 days)", c.Retention))
	}
	return errs
}

// Store removes what expired before a time (the store).
type Store interface {
	DeleteOneTimesBefore(ctx context.Context, t time.Time) (int64, error)
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error)
	DeleteExpiredStaffSessions(ctx context.Context, t time.Time) (int64, error)
	DeleteLoginEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Approvals moves unanswered requests past their expiry to expired (package
// approval).
type Approvals interface {
	Expire(ctx context.Context) (int64, error)
}

// Provider is the OpenID provider's upkeep: removing its requests and tokens
// that expired before cutoff (package oidc), and adding or retiring token
// signing keys (package signkey).
type Provider interface {
	Sweep(ctx context.Context, cutoff time.Time) error
	Ensure(ctx context.Context) error
}

// Conversations removes the assistant's conversation turns older than its
// retention (package assistant) and returns how many it removed.
type Conversations interface {
	Sweep(ctx context.Context) (int, error)
}

// NoConversations is the Conversations of a node that keeps none.
var NoConversations Conversations = noConversations{}

type noConversations struct{}

func (noConversations) Sweep(context.Context) (int, error) { return 0, nil }

// Sweeper runs the steps.
type Sweeper struct {
	store         Store
	approvals     Approvals
	provider      Provider      // NoProvider without OpenID clients
	conversations Conversations // NoConversations when none are kept
	now           func() time.Time
	cfg           Config
	logger        *slog.Logger
}

// NoProvider is the Provider of a node without OpenID clients: nothing to do.
var NoProvider Provider = noProvider{}

type noProvider struct{}

func (noProvider) Sweep(context.Context, time.Time) error { return nil }
func (noProvider) Ensure(context.Context) error           { return nil }

// New returns a sweeper.
func New(st Store, approvals Approvals, provider Provider, conversations Conversations, now func() time.Time, cfg Config, logger *slog.Logger) *Sweeper {
	return &Sweeper{store: st, approvals: approvals, provider: provider, conversations: conversations, now: now,
		cfg: cfg.withDefaults(), logger: logger}
}

// Expire moves unanswered approval requests past their expiry to expired and
// returns how many it moved.
func (s *Sweeper) Expire(ctx context.Context) (int64, error) {
	n, err := s.approvals.Expire(ctx)
	if err != nil {
		return 0, fmt.Errorf("maintenance: expire approvals: %w", err)
	}
	return n, nil
}

// Cleaned counts what one Clean removed.
type Cleaned struct {
	OneTimes, Sessions, LoginEvents, StaffSessions int64
	// Conversations counts the assistant's conversation turns removed.
	Conversations int64
}

// Clean removes one-time values (with the used app challenges), sessions
// and staff sessions that expired more than Retention ago, sign-in history
// entries older than History, the provider's old requests and tokens and
// the assistant's conversation turns older than the assistant's retention,
// and keeps the signing keys rotated.
// Every step runs; their errors are joined.
func (s *Sweeper) Clean(ctx context.Context) (Cleaned, error) {
	cutoff := s.now().Add(-s.cfg.Retention)
	var res Cleaned
	var errs []error
	var err error
	if res.OneTimes, err = s.store.DeleteOneTimesBefore(ctx, cutoff); err != nil {
		errs = append(errs, fmt.Errorf("maintenance: one-time values: %w", err))
	}
	if res.Sessions, err = s.store.DeleteExpiredSessions(ctx, cutoff); err != nil {
		errs = append(errs, fmt.Errorf("maintenance: sessions: %w", err))
	}
	if res.StaffSessions, err = s.store.DeleteExpiredStaffSessions(ctx, cutoff); err != nil {
		errs = append(errs, fmt.Errorf("maintenance: staff sessions: %w", err))
	}
	if res.LoginEvents, err = s.store.DeleteLoginEventsBefore(ctx, s.now().Add(-s.cfg.History)); err != nil {
		errs = append(errs, fmt.Errorf("maintenance: sign-in history: %w", err))
	}
	n, err := s.conversations.Sweep(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("maintenance: assistant conversations: %w", err))
	}
	res.Conversations = int64(n)
	if err := s.provider.Ensure(ctx); err != nil {
		errs = append(errs, fmt.Errorf("maintenance: signing keys: %w", err))
	}
	if err := s.provider.Sweep(ctx, cutoff); err != nil {
		errs = append(errs, fmt.Errorf("maintenance: OpenID requests and tokens: %w", err))
	}
	return res, errors.Join(errs...)
}

// Run runs Expire every ExpireEvery and Clean every CleanEvery until ctx ends,
// logging what fails.
func (s *Sweeper) Run(ctx context.Context) {
	expire := time.NewTicker(s.cfg.ExpireEvery)
	defer expire.Stop()
	clean := time.NewTicker(s.cfg.CleanEvery)
	defer clean.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-expire.C:
			if _, err := s.Expire(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("maintenance", slog.String("step", "expire"), slog.Any("error", err))
			}
		case <-clean.C:
			if _, err := s.Clean(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("maintenance", slog.String("step", "clean"), slog.Any("error", err))
			}
		}
	}
}
