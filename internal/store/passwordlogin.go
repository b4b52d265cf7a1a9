package store

import (
	"context"
	"errors"
)

// ErrPersonLocked reports that staff locked the person's access (a
// PersonLock names them), so a write that would start a session for them
// was refused and nothing was written.
var ErrPersonLocked = errors.New("store: person's access locked by staff")

// PasswordLogins is the contract for settling a successful password login.
type PasswordLogins interface {
	// SettlePasswordLogin settles a successful password login in one
	// transaction: it applies reset to the counter key (as UpdateCounter
	// does: a counter that does not exist yet is passed with its Key set;
	// reset may run more than once), stores the session s and the person's
	// sign-in history line e. When a PersonLock names s.PersonID nothing is
	// written and the error is ErrPersonLocked; when reset returns an error
	// nothing is written and that error is returned. A LockPerson running
	// at the same time is ordered wholly before the transaction (which then
	// answers ErrPersonLocked) or wholly after it (so that the session is
	// stored before the lock and a DeletePersonSessions after the lock sees
	// it): no session outlives a lock that raced its login. The audit entry
	// of the login (audit, when not nil) is appended to the chain in the same
	// transaction, under the chain's lock (as AppendAudit does): it is stored
	// exactly when the session is.
	SettlePasswordLogin(ctx context.Context, key string, reset func(c *Counter) error, s Session, e LoginEvent, audit AuditAppend) error
}
