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
	NotMe       bool     // declined with "this was not me"
	DeviceID    DeviceID // the device that answered
	Method      string   // how the answer was confirmed: "pin", "fpt", "face"; empty for a decline
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

// AddressChange is a new postal address. VerifiedAt and VerifiedBy replace the
// address verification; a zero VerifiedAt clears it.
type AddressChange struct {
	Street      string
	HouseNumber string
	PostalCode  string
	City        string
	VerifiedAt  time.Time
	VerifiedBy  string
}

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

// Change is what executing an approval writes: the person's new address and/or
// sealed IBAN (each nil when unchanged) and the outbox event (none when
// Outbox.ID is empty). Outbox.PersonID and CreatedAt are taken from the change.
type Change struct {
	PersonID PersonID
	Address  *AddressChange
	IBAN     *Sealed
	Outbox   OutboxEvent
}

// Approvals is the contract for approval requests and the outbox their
// executions fill.
type Approvals interface {
	// CreateApproval stores a new pending request while holding a lock on
	// the person. If check is not nil it is called first with the number of
	// the person's requests of a.Action created at or after since that were
	// not approved (pending, declined or expired), and a is stored only if
	// check returns nil. ErrNotFound for an unknown person, ErrConflict if
	// the id exists.
	CreateApproval(ctx context.Context, a Approval, since time.Time, check func(unapproved int) error) error
	// ApprovalByID returns the request, or ErrNotFound.
	ApprovalByID(ctx context.Context, id string) (Approval, error)
	// PendingApprovals returns the person's requests that are pending and not
	// expired at now, oldest first.
	PendingApprovals(ctx context.Context, id PersonID, now time.Time) ([]Approval, error)
	// AnswerApproval is the one transition pending → approved or declined,
	// in one atomic update that checks the request is pending and not expired
	// at now: of any number of concurrent answers exactly one succeeds.
	// It records dev, method, notMe and now as AnsweredAt and returns the
	// answered request. ErrNotFound for an unknown id, ErrConflict when the
	// request is not pending or expired. status must be approved or declined.
	AnswerApproval(ctx context.Context, id string, status ApprovalStatus, dev DeviceID, method string, notMe bool, now time.Time) (Approval, error)
	// ExpireApprovals moves every pending request whose expiry is at or
	// before now to expired and returns how many it moved.
	ExpireApprovals(ctx context.Context, now time.Time) (int64, error)
	// ExecuteApproval marks the request used and applies change, in one
	// transaction. The request must belong to change.PersonID, be approved,
	// unused, and its ContentHash must equal contentHash; otherwise nothing
	// is written and ErrConflict (ErrNotFound for an unknown id) is
	// returned. Of any number of concurrent executions exactly one succeeds.
	// An address or IBAN change increments the person's Version and sets
	// UpdatedAt to now; the outbox event is stored unless its ID exists.
	ExecuteApproval(ctx context.Context, id string, contentHash []byte, now time.Time, change Change) error
	// OutboxAfter returns up to limit events with Seq > after, by Seq. Seq
	// grows in commit order, so a reader that remembers the last Seq it saw
	// misses no event.
	OutboxAfter(ctx context.Context, after int64, limit int) ([]OutboxEvent, error)
}
