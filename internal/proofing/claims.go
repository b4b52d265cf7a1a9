package proofing

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/registry"
)

// ErrInvalidClaims is wrapped by every error ClaimsFromOIDC returns.
var ErrInvalidClaims = errors.New("invalid claims")

// Bounds of the claims ClaimsFromOIDC accepts.
const (
	maxNameBytes     = 256 // one name field, in bytes
	maxFieldBytes    = 256 // subject, transaction id, address fields
	maxVerifiedItems = 8   // entries of a verified_claims array
	maxNationalities = 8
)

// Address is a postal address as the identification partner verified it, or as
// the register keeps it.
type Address struct {
	Street      string
	HouseNumber string // "" when the partner delivers it inside Street
	PostalCode  string
	City        string
	Country     string
}

// IsZero reports whether no field is set.
func (a Address) IsZero() bool { return a == Address{} }

// Claims are the attributes an identification partner verified, with the
// partner's subject (its pseudonym of the ID card, never the person's key: it
// changes with a new card) and transaction id. BirthDate is kept as delivered:
// "1970-03-14", or partial ("1970-03", "1970") when the card lacks day or month.
type Claims struct {
	Subject        string
	TransactionID  string
	TrustFramework string // verified_claims.verification.trust_framework, "" for plain claims

	FamilyName  string
	GivenNames  string // space separated
	BirthName   string
	BirthDate   string
	Address     Address
	Nationality string // ISO 3166 code or as delivered; the first of several
}

// String hides the personal data; fmt prints only the type.
func (Claims) String() string { return "proofing.Claims{…}" }

// GoString hides the personal data from %#v.
func (c Claims) GoString() string { return c.String() }

// LogValue logs which attributes are present, never their values.
func (c Claims) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("trust_framework", c.TrustFramework),
		slog.Bool("has_txn", c.TransactionID != ""),
		slog.Bool("has_birth_name", c.BirthName != ""),
		slog.Bool("has_address", !c.Address.IsZero()),
		slog.Int("birth_date_len", len(c.BirthDate)),
	)
}

// ClaimsFromOIDC reads the claims of an ID token or userinfo answer, decoded
// from JSON into raw. It accepts plain OpenID Connect claims (family_name,
// given_name, middle_name, birthdate, address{street_address, house_number,
// postal_code, locality, country}, birth_family_name, nationalities) and
// OpenID Connect for Identity Assurance: verified_claims as one object
// {verification: {trust_framework, txn?, …}, claims: {…same names…}} or an
// array of them, later entries completing what earlier ones lack (the address
// is taken as a whole). When verified_claims is present the plain personal
// claims beside it are ignored: only verified attributes count. The
// transaction id is the top-level txn claim, else the first verification.txn.
//
// Known claims must have their JSON types (null counts as absent); unknown
// claims are ignored. Strings must be valid UTF-8 without control characters
// and at most 256 bytes. family_name and a valid birthdate are required. The
// error wraps ErrInvalidClaims and names the claim, never its value.
func ClaimsFromOIDC(raw map[string]any) (Claims, error) {
	var p claimParser
	c := Claims{
		Subject:       p.str(raw, "sub", maxFieldBytes),
		TransactionID: p.str(raw, "txn", maxFieldBytes),
	}
	if vc, ok := raw["verified_claims"]; ok && vc != nil {
		var entries []any
		switch v := vc.(type) {
		case map[string]any:
			entries = []any{v}
		case []any:
			entries = v
		default:
			p.fail("verified_claims", "want an object or an array")
		}
		if len(entries) == 0 || len(entries) > maxVerifiedItems {
			p.fail("verified_claims", fmt.Sprintf("want 1 to %d entries", maxVerifiedItems))
			entries = nil
		}
		for _, e := range entries {
			entry, ok := e.(map[string]any)
			if !ok {
				p.fail("verified_claims", "want objects")
				break
			}
			verification := p.obj(entry, "verification", true)
			tf := p.str(verification, "trust_framework", maxFieldBytes)
			if tf == "" && p.err == nil {
				p.fail("verification.trust_framework", "missing")
			}
			if c.TrustFramework == "" {
				c.TrustFramework = tf
			}
			if txn := p.str(verification, "txn", maxFieldBytes); c.TransactionID == "" {
				c.TransactionID = txn
			}
			complete(&c, p.person(p.obj(entry, "claims", true)))
		}
	} else {
		complete(&c, p.person(raw))
	}
	if p.err != nil {
		return Claims{}, p.err
	}
	switch {
	case c.FamilyName == "":
		return Claims{}, fmt.Errorf("proofing: claims: %w: family_name missing", ErrInvalidClaims)
	case c.BirthDate == "":
		return Claims{}, fmt.Errorf("proofing: claims: %w: birthdate missing", ErrInvalidClaims)
	}
	if _, err := registry.ParseBirthDate(c.BirthDate, anyDay); err != nil {
		return Claims{}, fmt.Errorf("proofing: claims: %w: birthdate: want YYYY-MM-DD, YYYY-MM or YYYY", ErrInvalidClaims)
	}
	return c, nil
}

// complete fills the personal fields of c that are empty from v; the address
// is taken as a whole.
func complete(c *Claims, v Claims) {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&c.FamilyName, v.FamilyName)
	fill(&c.GivenNames, v.GivenNames)
	fill(&c.BirthName, v.BirthName)
	fill(&c.BirthDate, v.BirthDate)
	fill(&c.Nationality, v.Nationality)
	if c.Address.IsZero() {
		c.Address = v.Address
	}
}

// claimParser reads typed values from decoded JSON and keeps the first error.
type claimParser struct {
	err error
}

func (p *claimParser) fail(claim, problem string) {
	if p.err == nil {
		p.err = fmt.Errorf("proofing: claims: %w: %s: %s", ErrInvalidClaims, claim, problem)
	}
}

// str returns the string claim name of m, "" when absent or null.
func (p *claimParser) str(m map[string]any, name string, limit int) string {
	v, ok := m[name]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.fail(name, "want a string")
		return ""
	}
	if problem := textProblem(s, limit); problem != "" {
		p.fail(name, problem)
		return ""
	}
	return strings.TrimSpace(s)
}

// obj returns the object claim name of m; nil when absent, which is an error
// when required.
func (p *claimParser) obj(m map[string]any, name string, required bool) map[string]any {
	v, ok := m[name]
	if !ok || v == nil {
		if required {
			p.fail(name, "missing")
		}
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		p.fail(name, "want an object")
		return nil
	}
	return o
}

// person reads the personal claims of m.
func (p *claimParser) person(m map[string]any) Claims {
	if m == nil {
		return Claims{}
	}
	c := Claims{
		FamilyName: p.str(m, "family_name", maxNameBytes),
		GivenNames: p.str(m, "given_name", maxNameBytes),
		BirthName:  p.str(m, "birth_family_name", maxNameBytes),
		BirthDate:  p.str(m, "birthdate", maxFieldBytes),
	}
	if middle := p.str(m, "middle_name", maxNameBytes); middle != "" {
		c.GivenNames = strings.TrimSpace(c.GivenNames + " " + middle)
	}
	if a := p.obj(m, "address", false); a != nil {
		c.Address = Address{
			Street:      p.str(a, "street_address", maxFieldBytes),
			HouseNumber: p.str(a, "house_number", maxFieldBytes),
			PostalCode:  p.str(a, "postal_code", maxFieldBytes),
			City:        p.str(a, "locality", maxFieldBytes),
			Country:     p.str(a, "country", maxFieldBytes),
		}
		if c.Address.Country == "" {
			c.Address.Country = p.str(a, "country_code", maxFieldBytes)
		}
	}
	c.Nationality = p.str(m, "nationality", maxFieldBytes)
	if v, ok := m["nationalities"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok || len(list) > maxNationalities {
			p.fail("nationalities", fmt.Sprintf("want an array of at most %d strings", maxNationalities))
			return c
		}
		for i, n := range list {
			s, ok := n.(string)
			if !ok {
				p.fail("nationalities", "want strings")
				break
			}
			if problem := textProblem(s, maxFieldBytes); problem != "" {
				p.fail("nationalities", problem)
				break
			}
			if i == 0 && c.Nationality == "" {
				c.Nationality = strings.TrimSpace(s)
			}
		}
	}
	return c
}

// textProblem says what is wrong with the claim value s, or returns "".
func textProblem(s string, limit int) string {
	if len(s) > limit {
		return fmt.Sprintf("longer than %d bytes", limit)
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "contains control characters"
	}
	return ""
}
