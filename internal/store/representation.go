package store

import (
	"context"
	"time"
)

// RepresentationID identifies an appointed representation.
type RepresentationID int64

// RepresentationKind is the legal ground of an appointed representation.
type RepresentationKind string

// The kinds of appointed representation.
const (
	// KindAuthorised: a power of attorney (Vollmacht) the person gave.
	KindAuthorised RepresentationKind = "bevollmaechtigt"
	// KindCustodian: a custodian appointed by a court (Betreuer/in).
	KindCustodian RepresentationKind = "betreuer"
)

// Representation is an appointed representation (Bevollmächtigung,
// Betreuung) as staff recorded it: Actor may act for Subject within Scope
// (action names) until ValidUntil (exclusive), unless it was ended earlier.
// Parents of young dependents need no record: their representation follows
// from the master data.
type Representation struct {
	ID         RepresentationID
	Actor      PersonID
	Subject    PersonID
	Kind       RepresentationKind
	Scope      []string // e.g. "address.change", "mailbox.read"; sorted, unique
	ValidUntil time.Time
	RecordedBy string // "staff:<name>" of who recorded it
	CreatedAt  time.Time
	EndedAt    time.Time // zero while not ended
	EndedBy    string
}

// Representations is the contract for appointed representations and the
// family links of the master data.
type Representations interface {
	// CreateRepresentation stores r with a new ID (ID and the end fields of
	// r are ignored) and returns it. ErrNotFound if Actor or Subject is not
	// a person.
	CreateRepresentation(ctx context.Context, r Representation) (Representation, error)
	// EndRepresentation ends the representation at now, recording by, and
	// returns it. Of parallel ends exactly one succeeds; the others and any
	// later one get ErrConflict. ErrNotFound for an unknown id.
	EndRepresentation(ctx context.Context, id RepresentationID, by string, now time.Time) (Representation, error)
	// RepresentationByID returns the representation, or ErrNotFound.
	RepresentationByID(ctx context.Context, id RepresentationID) (Representation, error)
	// RepresentationsBetween returns the representations of actor for
	// subject, ended ones included, oldest first.
	RepresentationsBetween(ctx context.Context, actor, subject PersonID) ([]Representation, error)
	// RepresentationsOf returns the representations actor holds that are
	// not ended and whose ValidUntil is after now, oldest first.
	RepresentationsOf(ctx context.Context, actor PersonID, now time.Time) ([]Representation, error)
	// RepresentationsFor returns every representation recorded for subject,
	// ended ones included, oldest first (the back office's view).
	RepresentationsFor(ctx context.Context, subject PersonID) ([]Representation, error)
	// DependentsOf returns up to limit persons whose MemberKVNR is kvnr,
	// ordered by ID (the family-insured of a member).
	DependentsOf(ctx context.Context, kvnr string, limit int) ([]Person, error)
}
