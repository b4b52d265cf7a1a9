package account

import (
	"context"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/store"
)

// initials is the part of Service that gives out the initial passwords of
// letters. It is embedded in Service, so its methods are Service's, while it
// holds only what this role needs.
type initials struct {
	store    Store
	hasher   Hasher
	validity time.Duration
	now      func() time.Time
}

// SetInitialPassword gives the person an initial password (from a letter): a
// one-time password that must be replaced at the first login and expires after
// InitialValidity. A person who already chose a password keeps it:
// ErrHasPassword.
func (s *initials) SetInitialPassword(ctx context.Context, id store.PersonID, initial string) (time.Time, error) {
	fn, expires, err := s.InitialPassword(ctx, initial)
	if err != nil {
		return time.Time{}, err
	}
	if _, err := s.store.UpdateAccount(ctx, id, s.now(), fn); err != nil {
		return time.Time{}, err
	}
	return expires, nil
}

// InitialPassword hashes initial (the slow part, done before any
// transaction) and returns the account updater that gives it to the person,
// as SetInitialPassword does, and when it expires. The updater returns
// ErrHasPassword for a person who chose a password. A letter's codes set it
// in the letter's transaction (store.LetterCodes.Account).
func (s *initials) InitialPassword(ctx context.Context, initial string) (func(a *store.Account, exists bool) error, time.Time, error) {
	h, err := s.hasher.Hash(ctx, proofing.NormalizeInitialPassword(initial))
	if err != nil {
		return nil, time.Time{}, err
	}
	expires := lang.EndOfDay(s.now().Add(s.validity)).Truncate(time.Microsecond)
	return func(a *store.Account, exists bool) error {
		if exists && a.PasswordHash != "" && !a.PasswordInitial {
			return ErrHasPassword
		}
		a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt = h, true, expires
		return nil
	}, expires, nil
}

// InitialValidity is how long an initial password from a letter is valid.
func (s *initials) InitialValidity() time.Duration { return s.validity }
