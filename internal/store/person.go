package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PersonID identifies an insured person inside Pforte. It is never shown to anyone
// and is not the KVNR.
type PersonID int64

// Ref is the person's reference in audit events and one-time values:
// "person:<id>".
func (id PersonID) Ref() string { return "person:" + strconv.FormatInt(int64(id), 10) }

// ParsePersonRef returns the person a Ref names.
func ParsePersonRef(ref string) (PersonID, error) {
	n, ok := strings.CutPrefix(ref, "person:")
	id, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || id <= 0 || strconv.FormatInt(id, 10) != n {
		return 0, fmt.Errorf("store: not a person reference: %q", ref)
	}
	return PersonID(id), nil
}

// Relation is a person's insurance relation.
type Relation string

// The insurance relations.
const (
	RelationMember    Relation = "member"    // Mitglied
	RelationDependent Relation = "dependent" // familienversichert
)

// Sealed is a value encrypted at rest: the ciphertext and the id of the key that
// sealed it. The store never sees the plaintext.
type Sealed struct {
	KeyID      string
	Ciphertext []byte
}

// IsZero reports whether no value is sealed.
func (s Sealed) IsZero() bool { return s.KeyID == "" && len(s.Ciphertext) == 0 }

// Person is an insured person's master data (Versichertenstamm) as imported from the
// core insurance system.
type Person struct {
	ID         PersonID
	KVNR       string
	FamilyName string
	GivenNames string // several given names separated by single spaces
	Title      string
	// Salutation is "Frau" or "Herr" where the register knows it, else
	// empty (letters then greet with the name alone).
	Salutation string
	BirthName  string
	// BirthDate is "YYYY-MM-DD", "YYYY-MM" or "YYYY" (a partial date keeps only
	// the known part).
	BirthDate   string
	Street      string
	HouseNumber string
	PostalCode  string
	City        string
	// AddressVerifiedAt is zero when the address is not verified.
	AddressVerifiedAt time.Time
	AddressVerifiedBy string
	IBAN              Sealed
	Relation          Relation
	MemberKVNR        string // for dependents: the member's KVNR
	// Digest fingerprints the imported content (computed by the registry over
	// the plaintext). An upsert whose digest equals the stored one changes
	// nothing.
	Digest    []byte
	Version   int64 // 1 on insert, incremented by every change
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UpsertResult counts what an upsert did.
type UpsertResult struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Persons is the contract for insured master data.
type Persons interface {
	// UpsertPersons inserts or updates the batch, keyed by KVNR, in one
	// transaction. A row whose Digest equals the stored digest is left
	// untouched (Version and UpdatedAt unchanged). ID, Version and CreatedAt of
	// the batch are ignored; UpdatedAt of each row is used as the write time.
	// KVNRs must be unique within one batch.
	UpsertPersons(ctx context.Context, batch []Person) (UpsertResult, error)
	// PersonByKVNR returns the person with the KVNR, or ErrNotFound.
	PersonByKVNR(ctx context.Context, kvnr string) (Person, error)
	// PersonByID returns the person, or ErrNotFound.
	PersonByID(ctx context.Context, id PersonID) (Person, error)
	// UpdatePerson applies fn to the stored person atomically and writes the
	// result, incrementing Version; KVNR, ID and CreatedAt cannot change. If fn
	// returns an error nothing is written and the error is returned. fn may run
	// more than once. ErrNotFound if there is no such person.
	UpdatePerson(ctx context.Context, id PersonID, fn func(p *Person) error) (Person, error)
	// ListPersons returns up to limit persons with ID > after, ordered by ID.
	ListPersons(ctx context.Context, after PersonID, limit int) ([]Person, error)
	// CountPersons returns how many persons are stored.
	CountPersons(ctx context.Context) (int64, error)
}
