package store

import (
	"context"
	"time"
)

// SigningKey is one key that signs tokens (package signkey owns the rotation
// rules). The store keeps the private key only sealed; the public key is kept
// in the clear because it is published anyway.
type SigningKey struct {
	ID          string // random, e.g. 16 bytes base64url; the JWK "kid"
	Algorithm   string // JOSE algorithm, e.g. "ES256"
	Private     Sealed // the PKCS #8 DER of the private key, sealed by the caller
	Public      []byte // the public key as SubjectPublicKeyInfo DER
	CreatedAt   time.Time
	ActivateAt  time.Time // signs from here …
	RetireAt    time.Time // … until here
	DeleteAfter time.Time // published until here, then removed
}

// SigningKeys is the contract for token signing keys.
type SigningKeys interface {
	// AddSigningKey stores a new key. ErrConflict if the id exists.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns every stored key, ordered by ActivateAt (then ID).
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteSigningKeysBefore removes the keys whose DeleteAfter is before t
	// and returns how many it removed.
	DeleteSigningKeysBefore(ctx context.Context, t time.Time) (int64, error)
	// RotateSigningKeys calls fn with the keys whose DeleteAfter is not before
	// now, ordered as SigningKeys orders them, while holding the key set's
	// lock (across all processes sharing the database), and stores the key fn
	// returns, if any, in the same transaction. So of any number of
	// concurrent rotations each sees the keys the ones before it added, and a
	// rule like "add a key unless one is active" adds exactly one. If fn
	// returns an error nothing is written and the error is returned;
	// ErrConflict if the returned key's id exists. fn may run more than once.
	RotateSigningKeys(ctx context.Context, now time.Time, fn func(current []SigningKey) (add *SigningKey, err error)) error
}
