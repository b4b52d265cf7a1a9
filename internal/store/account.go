package store

import (
	"context"
	"time"
)

// Account is a person's login account: the password and its state. A person has
// at most one; it is created when the first password (usually an initial one
// from a letter) is set.
type Account struct {
	PersonID     PersonID
	PasswordHash string // argon2id PHC string; empty when no password is set
	// PasswordInitial marks a one-time initial password from a letter: it
	// must be replaced at the first login and expires at PasswordExpiresAt.
	PasswordInitial   bool
	PasswordExpiresAt time.Time
	PasswordChangedAt time.Time
	// Language is the language the person chose for pages and letters
	// ("de", "en"); empty until they choose (German letters, pages in the
	// browser's language).
	Language  string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Accounts is the contract for accounts.
type Accounts interface {
	// AccountByPerson returns the person's account, or ErrNotFound.
	AccountByPerson(ctx context.Context, id PersonID) (Account, error)
	// UpdateAccount applies fn to the person's account atomically and stores
	// the result, creating the account if fn is called with exists false and
	// returns nil. If fn returns an error nothing is written. fn may run more
	// than once. ErrNotFound if the person does not exist. The notices are
	// queued in the same transaction when the account is written.
	UpdateAccount(ctx context.Context, id PersonID, now time.Time, fn func(a *Account, exists bool) error, notices ...Notice) (Account, error)
}
