package store

import (
	"context"
	"time"
)

// Identification is the immutable record of one successful identity proof.
type Identification struct {
	ID          string
	PersonID    PersonID
	Method      string // "eid", "letter"
	Level       string // "substantial", "high"
	Partner     string // the identification partner, e.g. its issuer URL
	PartnerTxn  string // the partner's transaction id
	SubjectLink string // the partner's subject: a link, never the person's key
	MatchedHash []byte // SHA-256 over the matched attributes, no clear data
	At          time.Time
}

// Identifications is the contract for identification records.
type Identifications interface {
	// AddIdentification stores a record; records are never changed.
	// ErrConflict if the id exists.
	AddIdentification(ctx context.Context, r Identification) error
	// PersonIdentifications returns the person's records, newest first.
	PersonIdentifications(ctx context.Context, id PersonID) ([]Identification, error)
}
