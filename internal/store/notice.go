package store

import (
	"context"
	"time"
)

// NoticeStatus is where a notice stands: queued until a channel delivered it,
// then sent. A notice is never dropped: a delivery that fails or is deferred
// (a budget) keeps it queued with a later NextAttemptAt.
type NoticeStatus string

// The notice states.
const (
	NoticeQueued NoticeStatus = "queued"
	NoticeSent   NoticeStatus = "sent"
)

// Notice is a message a change owes the person through another channel
// ("your password was changed", "a device was bound", a letter to the OLD
// address). It is queued in the same transaction as the change it reports, so
// a change never commits without its notice.
type Notice struct {
	ID       string
	PersonID PersonID
	Kind     string // e.g. "password_changed", "address_changed"
	// MergeKey joins repeated notices: queueing a notice whose MergeKey
	// exists adds one to that notice's Count instead of storing a second
	// one (one letter per kind, person, recipient and day).
	MergeKey string
	// Details are the notice's sealed particulars (device name, the
	// replaced address); the store never sees them in clear.
	Details       Sealed
	Count         int // changes this notice reports, at least 1
	Status        NoticeStatus
	Attempts      int // deliveries tried
	LastError     string
	CreatedAt     time.Time
	NextAttemptAt time.Time // when a queued notice is due (again)
	SentAt        time.Time // zero until sent
}

// Notices is the contract of the durable notice queue.
type Notices interface {
	// QueueNotice stores n (Status queued, Count 1) in its own
	// transaction, or adds one to the Count of the notice with the same
	// MergeKey. Changes that owe a notice queue it through their own
	// transaction instead (ApprovalTx, AddDevice, UpdateAccount, …).
	// Every way of queueing a notice also files it in the person's
	// mailbox in the same transaction: a thread with NoticeID set and one
	// unread message to the person (Author "notice", no body); a merged
	// repeat makes that message unread again and moves the thread's
	// LastAt to the repeat, out of the archive.
	QueueNotice(ctx context.Context, n Notice) error
	// ClaimNotices returns up to limit queued notices due at now, oldest
	// first, and moves their NextAttemptAt to now+lease and Attempts up by
	// one in the same atomic update: a notice claimed by one node is not
	// claimed by another until the lease ends.
	ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Notice, error)
	// FinishNotice marks the notice sent at now. ErrNotFound for an unknown
	// id; a notice already sent stays as it is.
	FinishNotice(ctx context.Context, id string, now time.Time) error
	// RetryNotice keeps the notice queued, due again at next, recording
	// why the delivery did not happen.
	RetryNotice(ctx context.Context, id string, next time.Time, reason string) error
	// NoticeByID returns the notice, or ErrNotFound.
	NoticeByID(ctx context.Context, id string) (Notice, error)
	// PersonNotices returns the person's notices, newest first, at most
	// limit.
	PersonNotices(ctx context.Context, id PersonID, limit int) ([]Notice, error)
}
