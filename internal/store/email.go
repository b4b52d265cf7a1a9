package store

import (
	"context"
	"time"
)

// Email is a person's e-mail address for notices: optional personal data,
// sealed by the caller (package email). An address is used for notices only
// once its confirmation link was followed: until then it is Pending.
type Email struct {
	PersonID PersonID
	// Address is the confirmed address; zero while none is confirmed.
	Address     Sealed
	ConfirmedAt time.Time
	// Pending is an address waiting for its confirmation link.
	// PendingHash is the SHA-256 of the link's token (how the link finds
	// the record), PendingToken the token itself, sealed, for the mail
	// that carries it, PendingUntil when the link expires. All are zero
	// when nothing waits.
	Pending      Sealed
	PendingHash  []byte
	PendingToken Sealed
	PendingUntil time.Time
	// Notify: the person wants notices by e-mail (true for a new record).
	Notify bool
	// UnsubscribeHash is the SHA-256 of the token of the mails'
	// one-click unsubscribe link, Unsubscribe the token sealed.
	UnsubscribeHash []byte
	Unsubscribe     Sealed
	UpdatedAt       time.Time
}

// OutMailKind is what a queued mail says.
type OutMailKind string

// The kinds of mail.
const (
	// OutMailMessage tells of a new message in the mailbox (Postfach); Ref
	// is the message's id. Its text names neither subject nor content.
	OutMailMessage OutMailKind = "message"
	// OutMailConfirm carries the confirmation link of a pending address;
	// Ref is the hex SHA-256 of the link's token (Email.PendingHash): a
	// mail whose link was replaced is not sent.
	OutMailConfirm OutMailKind = "confirm"
)

// OutMailStatus is where a queued mail stands:
//
//	queued ──sent by the relay──▶ sent
//	  │ ──the relay failed──▶ queued, due again later (backoff)
//	  │ ──failed too often──▶ failed
//	  └─ nothing to send any more (address removed, notices off,
//	     link replaced) ──▶ dropped
type OutMailStatus string

// The mail states.
const (
	OutMailQueued  OutMailStatus = "queued"
	OutMailSent    OutMailStatus = "sent"
	OutMailFailed  OutMailStatus = "failed"
	OutMailDropped OutMailStatus = "dropped"
)

// OutMail is one e-mail owed to a person, in the durable queue. It carries no
// address and no text: the sender reads both when it sends.
type OutMail struct {
	ID            string
	PersonID      PersonID
	Kind          OutMailKind
	Ref           string
	Status        OutMailStatus
	Attempts      int // sends tried (claims)
	LastError     string
	CreatedAt     time.Time
	NextAttemptAt time.Time // when a queued mail is due (again)
	DoneAt        time.Time // when it left the queue (sent, failed, dropped)
}

// MailIDForMessage is the id of the mail that tells of the mailbox message
// id: one mail per message, however often it is filed again.
func MailIDForMessage(id string) string { return "eml_" + id }

// Emails is the contract of the persons' e-mail addresses and of the mail
// queue. Every message to the person that the store keeps (Mailbox's
// CreateMailThread and AddMailMessage with direction to_person, and the
// message of every queued notice) queues an OutMail of kind OutMailMessage with
// id MailIDForMessage(message id) in the same transaction, when the person
// has a confirmed address and Notify on; a repeat of a merged notice
// queues no second mail.
type Emails interface {
	// EmailByPerson returns the person's record, or ErrNotFound.
	EmailByPerson(ctx context.Context, id PersonID) (Email, error)
	// EmailByPendingHash returns the record whose PendingHash is hash, or
	// ErrNotFound.
	EmailByPendingHash(ctx context.Context, hash []byte) (Email, error)
	// EmailByUnsubscribeHash returns the record whose UnsubscribeHash is
	// hash, or ErrNotFound.
	EmailByUnsubscribeHash(ctx context.Context, hash []byte) (Email, error)
	// UpdateEmail applies fn to the person's record under a row lock (to a
	// new record with PersonID set and Notify true when there is none) and
	// stores the result and the mails queue (status queued, due at their
	// NextAttemptAt) in one transaction. fn may run more than once. An
	// error of fn stores nothing and is returned. ErrNotFound for an
	// unknown person; ErrConflict when a hash is another record's.
	UpdateEmail(ctx context.Context, id PersonID, fn func(e *Email) error, queue ...OutMail) (Email, error)
	// ClaimMails returns up to limit queued mails due at now, oldest
	// first, and moves their NextAttemptAt to now+lease and Attempts up by
	// one in the same atomic update: a mail claimed by one node is not
	// claimed by another until the lease ends.
	ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutMail, error)
	// FinishMail moves a queued mail to status (sent, failed or dropped)
	// at now, recording reason. ErrNotFound for an unknown id; a mail no
	// longer queued stays as it is.
	FinishMail(ctx context.Context, id string, status OutMailStatus, now time.Time, reason string) error
	// RetryMail keeps the mail queued, due again at next, recording why
	// the send failed.
	RetryMail(ctx context.Context, id string, next time.Time, reason string) error
	// MailByID returns the mail, or ErrNotFound.
	MailByID(ctx context.Context, id string) (OutMail, error)
}
