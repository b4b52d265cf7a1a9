package store

import (
	"context"
	"time"
)

// StaffKey is a security key or passkey (a WebAuthn credential) a staff
// member signs in with as their second factor.
type StaffKey struct {
	// ID is the credential id the authenticator chose (unique).
	ID      []byte
	StaffID StaffID
	// Name is what the staff member called the key.
	Name string
	// Credential is the credential record as package staff encodes it
	// (public key, flags, authenticator data); the store does not read it.
	Credential []byte
	// SignCount is the highest signature counter seen: an assertion must
	// come with a higher one (or both are 0: the authenticator keeps none).
	SignCount  int64
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
}

// StaffChallenge is one WebAuthn ceremony between its two steps: the
// challenge and its parameters, found by the hash of a handle only the
// browser that began it holds.
type StaffChallenge struct {
	HandleHash []byte
	StaffID    StaffID
	// Kind says which ceremony (package staff names them); a challenge is
	// never taken for another kind.
	Kind      string
	Data      []byte // as package staff encodes it
	ExpiresAt time.Time
}

// StaffKeys is the contract for staff members' security keys and the
// challenges of their ceremonies.
type StaffKeys interface {
	// AddStaffKey stores a new key. ErrConflict if its id exists (for any
	// staff member).
	AddStaffKey(ctx context.Context, k StaffKey) error
	// StaffKeysOf lists the staff member's keys, oldest first.
	StaffKeysOf(ctx context.Context, id StaffID) ([]StaffKey, error)
	// UseStaffKey records a use of the staff member's key with the
	// assertion's signature counter: it moves SignCount to count and
	// LastUsedAt to now only if count is above SignCount, or both are 0.
	// ErrConflict otherwise (a counter that did not increase: a cloned
	// key), ErrNotFound if the staff member has no such key. Of parallel
	// uses with the same counter exactly one succeeds.
	UseStaffKey(ctx context.Context, id StaffID, key []byte, count int64, now time.Time) error
	// RemoveStaffFactor removes one second factor of the staff member: the
	// key with id key, or, when key is nil, the TOTP secret (emptied). It
	// refuses with ErrConflict when that would leave the staff member with
	// no second factor at all, deciding under the staff member's row lock
	// so that parallel removals cannot together remove the last one.
	// ErrNotFound if there is no such key (or no TOTP secret).
	RemoveStaffFactor(ctx context.Context, id StaffID, key []byte, now time.Time) error
	// DeleteStaffKeys removes every key of the staff member and returns
	// how many it removed.
	DeleteStaffKeys(ctx context.Context, id StaffID) (int64, error)
	// AddStaffChallenge stores a challenge and removes those of every staff
	// member expired at now. ErrConflict if the handle's hash exists.
	AddStaffChallenge(ctx context.Context, c StaffChallenge, now time.Time) error
	// TakeStaffChallenge removes the challenge and returns it if it is of
	// kind and has not expired at now; ErrNotFound otherwise. Of parallel
	// takes exactly one gets it.
	TakeStaffChallenge(ctx context.Context, handleHash []byte, kind string, now time.Time) (StaffChallenge, error)
}
