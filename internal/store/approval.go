package store

import (
	"context"
	"time"
)

// ApprovalStatus is where an approval request stands. It leaves pending exactly
// once: to approved or declined by an answer, or to expired by the sweep.
type ApprovalStatus string

// The approval states.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalDeclined ApprovalStatus = "declined"
	ApprovalExpired  ApprovalStatus = "expired"
	// ApprovalWithdrawn: a newer request of the same person and action
	// replaced it before it was answered.
	ApprovalWithdrawn ApprovalStatus = "withdrawn"
)

// Approval is an approval request (Freigabe): what a person is asked to approve on
// a bound device, bound to its content by ContentHash.
type Approval struct {
	ID       string
	PersonID PersonID
	Action   string // e.g. "address.change", "bank.change", "portal.login"
	Text     string // the German text the device shows, exactly as shown
	Data     []byte // the exact data bytes (a JSON object)
	// ContentHash is the 32-byte hash over Action, Text and Data that the
	// approving signature covers (computed by the owning package).
	ContentHash []byte
	Level       string // the level the approving device must have
	Status      ApprovalStatus
	NotMe       bool // declined with "this was not me" (DeclineReason DeclineNotMe)
	// DeclineReason says why a declined request was declined.
	DeclineReason DeclineReason
	DeviceID      DeviceID // the device that answered
	Method        string   // how the answer was confirmed: "pin", "fpt", "face"; empty for a decline
	// Number is the number a portal shows for number matching (0 when not
	// used); it is never sent to the device.
	Number int
	// Choices are the numbers the device offers; one of them is Number.
	Choices    []int
	Client     string // who asked, e.g. "session:<hash prefix>" or a client id
	CreatedAt  time.Time
	ExpiresAt  time.Time // exclusive: at ExpiresAt the request can no longer be answered
	AnsweredAt time.Time // zero until answered
	UsedAt     time.Time // zero until executed
}

// DeclineReason is why a request was declined.
type DeclineReason string

// The reasons of a decline.
const (
	DeclineDeclined    DeclineReason = "declined"     // the person said no
	DeclineNotMe       DeclineReason = "not_me"       // "this was not me": a flag for staff
	DeclineWrongNumber DeclineReason = "wrong_number" // a portal login's number mistapped
)

// OutboxEvent is an event for the core insurance system. ID is chosen by the
// producer and makes the event idempotent: an event whose ID exists is not stored
// again. Seq is assigned by the store, in commit order.
type OutboxEvent struct {
	Seq       int64
	ID        string
	Type      string
	PersonID  PersonID
	Payload   []byte
	CreatedAt time.Time
}

// ApprovalTx is what an approved action's executor may write inside the
// transaction that approves the request: everything it writes commits together
// with the transition pending → approved, or nothing does.
type ApprovalTx interface {
	// UpdatePerson applies fn to the person under a row lock, as
	// Persons.UpdatePerson does; fn sees the person as it is in this
	// transaction (an executor keeps the old address from it).
	UpdatePerson(ctx context.Context, id PersonID, fn func(p *Person) error) (Person, error)
	// DeviceByID reads the binding inside the transaction (an executor must
	// not read through the store: the transaction holds a connection, and a
	// read waiting for another one can starve the pool).
	DeviceByID(ctx context.Context, id DeviceID) (Device, error)
	// PersonByID reads the person inside the transaction, as
	// Persons.PersonByID does.
	PersonByID(ctx context.Context, id PersonID) (Person, error)
	// RepresentationsBetween reads, inside the transaction, what
	// Representations.RepresentationsBetween returns (an act on behalf
	// checks the representation again when it is approved).
	RepresentationsBetween(ctx context.Context, actor, subject PersonID) ([]Representation, error)
	// UpdateDevice applies fn to the binding, as Devices.UpdateDevice does.
	UpdateDevice(ctx context.Context, id DeviceID, fn func(d *Device) error) (Device, error)
	// AppendOutbox stores the event for the core system unless its ID
	// exists; CreatedAt is the transaction's time.
	AppendOutbox(ctx context.Context, e OutboxEvent) error
	// QueueNotice queues n as Notices.QueueNotice does.
	QueueNotice(ctx context.Context, n Notice) error
	// UpdateEmail applies fn to the person's e-mail record and queues
	// the mails, as Emails.UpdateEmail does.
	UpdateEmail(ctx context.Context, id PersonID, fn func(e *Email) error, queue ...OutMail) (Email, error)
}

// Approvals is the contract for approval requests and the outbox their
// executions fill.
type Approvals interface {
	// CreateApproval stores a new pending request while holding a lock on
	// the person. If check is not nil it is called first with the number of
	// the person's requests of a.Action created at or after since that were
	// not approved (pending, declined, expired or withdrawn), and a is stored
	// only if check returns nil. Then every pending request of the person
	// with a.Action for which withdraw (if not nil) returns true moves to
	// withdrawn, in the same transaction. ErrNotFound for an unknown person,
	// ErrConflict if the id exists.
	CreateApproval(ctx context.Context, a Approval, since time.Time, check func(unapproved int) error, withdraw func(old Approval) bool) error
	// ApprovalByID returns the request, or ErrNotFound.
	ApprovalByID(ctx context.Context, id string) (Approval, error)
	// PendingApprovals returns the person's requests that are pending and not
	// expired at now, oldest first.
	PendingApprovals(ctx context.Context, id PersonID, now time.Time) ([]Approval, error)
	// AnswerApproval declines: the one transition pending → declined, in one
	// atomic update that checks the request is pending and not expired at
	// now: of any number of concurrent answers exactly one succeeds. It
	// records dev, the reason (NotMe for DeclineNotMe) and now as AnsweredAt and returns the declined
	// request. ErrNotFound for an unknown id, ErrConflict when the request
	// is not pending or expired.
	AnswerApproval(ctx context.Context, id string, dev DeviceID, reason DeclineReason, now time.Time) (Approval, error)
	// ApproveApproval is the one transition pending → approved, and the
	// approved action's execution, in one transaction: the request must be
	// pending, not expired at now and its ContentHash must equal
	// contentHash, or ErrConflict (ErrNotFound for an unknown id) and
	// nothing is written. It records dev, method and now as AnsweredAt;
	// when exec is not nil it is called with the approved request (its Data
	// is what the hash covers) and the transaction, and the request is
	// marked used (UsedAt = now). An error of exec rolls everything back
	// (the request stays pending) and is returned. Of any number of
	// concurrent answers, on any number of nodes, exactly one succeeds, so
	// an action is carried out at most once. exec may run more than once
	// (a retried transaction); only the committed run counts.
	ApproveApproval(ctx context.Context, id string, contentHash []byte, dev DeviceID, method string, now time.Time,
		exec func(ctx context.Context, tx ApprovalTx, a Approval) error) (Approval, error)
	// RedeemApproval marks the person's approved, unused request used at
	// now: the requester took what the approval granted (a portal session's
	// step-up, a client's tokens). ErrConflict when it is not approved or
	// already used, ErrNotFound for an unknown id or another person's.
	RedeemApproval(ctx context.Context, id string, person PersonID, now time.Time) error
	// ExpireApprovals moves every pending request whose expiry is at or
	// before now to expired and returns how many it moved.
	ExpireApprovals(ctx context.Context, now time.Time) (int64, error)
	// OutboxAfter returns up to limit events with Seq > after, by Seq. Seq
	// grows in commit order, so a reader that remembers the last Seq it saw
	// misses no event.
	OutboxAfter(ctx context.Context, after int64, limit int) ([]OutboxEvent, error)
}
