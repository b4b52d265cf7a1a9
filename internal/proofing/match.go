package proofing

import (
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/registry"
)

// Person is what the register knows about the insured person the claims are
// matched against. Title is the academic title kept apart from the names; it is
// ignored, as are titles inside the name fields.
type Person struct {
	FamilyName string
	GivenNames string // space separated, several allowed
	Title      string
	BirthName  string // "" when the register has none
	BirthDate  registry.BirthDate
	Address    Address // the zero Address never matches
}

// String hides the personal data; fmt prints only the type.
func (Person) String() string { return "proofing.Person{…}" }

// GoString hides the personal data from %#v.
func (p Person) GoString() string { return p.String() }

// LogValue logs nothing personal.
func (Person) LogValue() slog.Value { return slog.StringValue("[person]") }

// MismatchReason names one rule a match failed. It is for logs and tests only:
// a person is never told which attribute did not match.
type MismatchReason string

// The reasons Match reports.
const (
	ReasonFamilyName MismatchReason = "family_name"
	ReasonGivenNames MismatchReason = "given_names"
	ReasonBirthDate  MismatchReason = "birth_date"
)

// Result is the outcome of Match.
type Result struct {
	// Matched reports whether the claims belong to the person: family name,
	// a given name and the birth date matched.
	Matched bool
	// Reasons lists the failed rules in a fixed order; empty when Matched.
	Reasons []MismatchReason
	// FamilyNameByBirthName reports that the family name matched only through
	// a birth name: the register's family name may be out of date.
	FamilyNameByBirthName bool
	// AddressMatched reports whether the claimed address equals the register's;
	// it never affects Matched. The caller may refresh the address
	// verification when it is true.
	AddressMatched bool
}

// Match decides whether the verified claims c belong to the person p of the
// register, by the rules of the package comment. It is a pure function of its
// arguments.
func Match(c Claims, p Person) Result {
	var r Result
	family, byBirth := familyNameMatches(c, p)
	if !family {
		r.Reasons = append(r.Reasons, ReasonFamilyName)
	}
	r.FamilyNameByBirthName = family && byBirth
	if !givenNamesMatch(c.GivenNames, p.GivenNames) {
		r.Reasons = append(r.Reasons, ReasonGivenNames)
	}
	if !birthDateMatches(c.BirthDate, p.BirthDate) {
		r.Reasons = append(r.Reasons, ReasonBirthDate)
	}
	r.Matched = len(r.Reasons) == 0
	r.AddressMatched = addressMatches(c.Address, p.Address)
	return r
}

// familyNameMatches compares current to current, then falls back to the birth
// names; byBirth reports that only a fallback matched.
func familyNameMatches(c Claims, p Person) (ok, byBirth bool) {
	if familyNamesEqual(c.FamilyName, p.FamilyName) {
		return true, false
	}
	if familyNamesEqual(c.FamilyName, p.BirthName) ||
		familyNamesEqual(c.BirthName, p.FamilyName) ||
		familyNamesEqual(c.BirthName, p.BirthName) {
		return true, true
	}
	return false, false
}

// familyNamesEqual compares two family names in both foldings, ignoring the
// spaces between their parts and, when something else is left, their affixes.
// An empty name equals nothing.
func familyNamesEqual(a, b string) bool {
	for _, normal := range []func(string) string{Normalize, normalizePlain} {
		ta, tb := strings.Fields(normal(a)), strings.Fields(normal(b))
		if len(ta) == 0 || len(tb) == 0 {
			return false
		}
		if strings.Join(ta, "") == strings.Join(tb, "") {
			return true
		}
		if sa, sb := withoutAffixes(ta), withoutAffixes(tb); len(sa) > 0 && strings.Join(sa, "") == strings.Join(sb, "") {
			return true
		}
	}
	return false
}

// withoutAffixes returns toks without name affixes, or nil when only affixes
// are left.
func withoutAffixes(toks []string) []string {
	var out []string
	for _, t := range toks {
		if !affixes[t] {
			out = append(out, t)
		}
	}
	return out
}

// givenNamesMatch reports whether any given name of a equals any given name of
// b in either folding. Initials (one letter) never count.
func givenNamesMatch(a, b string) bool {
	for _, normal := range []func(string) string{Normalize, normalizePlain} {
		names := map[string]bool{}
		for _, t := range strings.Fields(normal(a)) {
			if utf8.RuneCountInString(t) > 1 {
				names[t] = true
			}
		}
		for _, t := range strings.Fields(normal(b)) {
			if names[t] {
				return true
			}
		}
	}
	return false
}

// anyDay is the "today" partial dates are parsed with: the claims' birth date
// is compared, not checked against the calendar of today.
var anyDay = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// birthDateMatches compares the claimed date with the register's on the part
// known in both. An invalid claimed date matches nothing.
func birthDateMatches(claimed string, registered registry.BirthDate) bool {
	d, err := registry.ParseBirthDate(claimed, anyDay)
	if err != nil {
		return false
	}
	return d.Matches(registered)
}

// germany are the ways the country of a German address is written.
var germany = setOf("", "d", "de", "deu", "deutschland", "germany", "bundesrepublik deutschland")

// addressMatches compares postal code, street with house number, city and, when
// both give one, country. Empty postal code, street or city match nothing.
func addressMatches(a, b Address) bool {
	if a.PostalCode == "" || a.Street == "" || a.City == "" {
		return false
	}
	if strings.TrimSpace(a.PostalCode) != strings.TrimSpace(b.PostalCode) {
		return false
	}
	if streetKey(a) != streetKey(b) || Normalize(a.City) != Normalize(b.City) {
		return false
	}
	ca, cb := Normalize(a.Country), Normalize(b.Country)
	if germany[ca] && germany[cb] {
		return true
	}
	return ca == "" || cb == "" || ca == cb
}

// streetKey returns street and house number normalised, "str." spelled out and
// without spaces: "Musterstr. 12 a" and "Musterstraße 12a" give the same key.
func streetKey(a Address) string {
	toks := strings.Fields(Normalize(a.Street + " " + a.HouseNumber))
	for i, t := range toks {
		if base, ok := strings.CutSuffix(t, "str"); ok {
			toks[i] = base + "strasse"
		}
	}
	return strings.Join(toks, "")
}
