package proofing

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// The method and level of an eID identification.
const (
	MethodEID = "eid"
	LevelHigh = "high"
)

// ErrNotMatched is returned by NewIdentification for claims that did not match.
var ErrNotMatched = errors.New("proofing: claims did not match the person")

// hashDomain separates the matched-attributes hash from every other hash.
const hashDomain = "pforte/proofing/matched-attributes/v1"

// Identification records that a person's identity was proven. It is a value:
// once made it is never changed, only stored and read.
//
// PartnerSubjectLink is the partner's subject for the person; it is kept as a
// link to the partner's records only and is never the person's key, since it
// changes with a new ID card. MatchedAttributesHash is the SHA-256 of the
// normalised attributes that matched (see MatchedAttributesHash), so a record
// shows what was matched without holding personal data in clear. The names
// and birth date are guessable from a list of candidates, so the hash is
// pseudonymous, not anonymous: it is kept with the same care as the register.
type Identification struct {
	ID                    string // 32 hex digits from crypto/rand
	PersonID              store.PersonID
	Method                string // MethodEID
	Level                 string // LevelHigh
	Partner               string // the partner's name from configuration
	PartnerTransactionID  string
	PartnerSubjectLink    string
	At                    time.Time
	MatchedAttributesHash [sha256.Size]byte
}

// LogValue logs the record without the subject link.
func (id Identification) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("identification_id", id.ID),
		slog.Int64("person_id", int64(id.PersonID)),
		slog.String("method", id.Method),
		slog.String("level", id.Level),
		slog.String("partner", id.Partner),
		slog.String("partner_txn", id.PartnerTransactionID),
	)
}

// NewIdentification returns the record of an eID identification of person by
// partner at the time at, for claims c whose Match result r matched. It
// refuses a result that did not match (ErrNotMatched), and claims without
// subject or transaction id.
func NewIdentification(person store.PersonID, partner string, c Claims, r Result, at time.Time) (Identification, error) {
	var problems []error
	if !r.Matched {
		problems = append(problems, ErrNotMatched)
	}
	if person <= 0 {
		problems = append(problems, errors.New("proofing: identification: no person"))
	}
	if partner == "" {
		problems = append(problems, errors.New("proofing: identification: no partner"))
	}
	if c.Subject == "" {
		problems = append(problems, errors.New("proofing: identification: no partner subject"))
	}
	if c.TransactionID == "" {
		problems = append(problems, errors.New("proofing: identification: no partner transaction id"))
	}
	if at.IsZero() {
		problems = append(problems, errors.New("proofing: identification: no time"))
	}
	if err := errors.Join(problems...); err != nil {
		return Identification{}, err
	}
	var id [16]byte
	rand.Read(id[:]) // never fails; the runtime aborts if randomness is unavailable
	return Identification{
		ID:                    hex.EncodeToString(id[:]),
		PersonID:              person,
		Method:                MethodEID,
		Level:                 LevelHigh,
		Partner:               partner,
		PartnerTransactionID:  c.TransactionID,
		PartnerSubjectLink:    c.Subject,
		At:                    at,
		MatchedAttributesHash: MatchedAttributesHash(c),
	}, nil
}

// MatchedAttributesHash returns the SHA-256 over a canonical encoding of the
// matched attributes of c in normalised form: the domain string
// "pforte/proofing/matched-attributes/v1", then for family_name, given_names,
// birth_name and birth_date in this order the attribute name and its value,
// each preceded by its length as 4 bytes big-endian. Names are in Normalize's
// form, the birth date in registry.BirthDate's canonical form (as delivered
// when it does not parse). Spelling variants Normalize removes give the same
// hash.
func MatchedAttributesHash(c Claims) [sha256.Size]byte {
	date := c.BirthDate
	if d, err := registry.ParseBirthDate(c.BirthDate, anyDay); err == nil {
		date = d.String()
	}
	h := sha256.New()
	field := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(hashDomain)
	for _, kv := range [][2]string{
		{"family_name", Normalize(c.FamilyName)},
		{"given_names", Normalize(c.GivenNames)},
		{"birth_name", Normalize(c.BirthName)},
		{"birth_date", date},
	} {
		field(kv[0])
		field(kv[1])
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
