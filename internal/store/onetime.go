package store

import (
	"context"
	"time"
)

// OneTime is a single-use value: an activation code, a reset code, a challenge
// nonce. The store keeps only a digest of the secret, never the secret itself.
type OneTime struct {
	Kind       string // namespace chosen by the owning package, e.g. "activation"
	Digest     []byte // e.g. SHA-256 of the secret; unique within Kind
	Subject    string // what the value belongs to, e.g. a person or binding id
	Data       []byte // owner-defined payload, returned on consumption
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt time.Time // zero while unused
}

// OneTimes is the contract for single-use values.
type OneTimes interface {
	// PutOneTime stores a new value. ErrConflict if Kind and Digest exist.
	PutOneTime(ctx context.Context, v OneTime) error
	// ConsumeOneTime marks the value used and returns it, in the same atomic
	// update that checks it: of any number of concurrent consumers on any
	// number of processes exactly one succeeds. ErrNotFound when the value is
	// unknown, already used, or expired at now.
	ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (OneTime, error)
	// OneTimeByDigest returns the value if it is unused and not expired at
	// now, without consuming it (to look at what a code is for before the
	// atomic ConsumeOneTime); ErrNotFound otherwise.
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (OneTime, error)
	// VoidOneTimes marks every unused value of kind and subject as used at now
	// (a new letter voids the old one's codes) and returns how many it voided.
	VoidOneTimes(ctx context.Context, kind, subject string, now time.Time) (int64, error)
	// DeleteOneTimesBefore removes values that expired before t, used or
	// not, and the used challenges (UsedChallenges) that expired before t.
	DeleteOneTimesBefore(ctx context.Context, t time.Time) (int64, error)
}
