package proofing

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pforte/pforte/internal/registry"
)

func date(t *testing.T, s string) registry.BirthDate {
	t.Helper()
	d, err := registry.ParseBirthDate(s, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func baseClaims() Claims {
	return Claims{
		Subject: "sub-1", TransactionID: "txn-1",
		FamilyName: "Müller", GivenNames: "Jürgen Karl", BirthDate: "1970-03-14",
		Address: Address{Street: "Musterstraße 12a", PostalCode: "10115", City: "Berlin", Country: "D"},
	}
}

func basePerson(t *testing.T) Person {
	return Person{
		FamilyName: "Müller", GivenNames: "Jürgen", Title: "Dr.", BirthDate: date(t, "1970-03-14"),
		Address: Address{Street: "Musterstr.", HouseNumber: "12 A", PostalCode: "10115", City: "BERLIN", Country: "DE"},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		claims func(c *Claims)
		person func(p *Person)
		want   Result
	}{
		{name: "equal", want: Result{Matched: true, AddressMatched: true}},
		{
			name:   "transliterated umlaut",
			claims: func(c *Claims) { c.FamilyName = "MUELLER"; c.GivenNames = "juergen" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "umlaut without dots in the register",
			person: func(p *Person) { p.FamilyName = "Muller"; p.GivenNames = "Jurgen" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "transliteration against dots dropped",
			claims: func(c *Claims) { c.FamilyName = "Mueller" },
			person: func(p *Person) { p.FamilyName = "Muller" },
			want:   Result{Reasons: []MismatchReason{ReasonFamilyName}, AddressMatched: true},
		},
		{
			name:   "titles ignored",
			claims: func(c *Claims) { c.FamilyName = "Prof. Dr. med. Müller" },
			person: func(p *Person) { p.GivenNames = "Dr. Jürgen" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "affixes and spaces ignored",
			claims: func(c *Claims) { c.FamilyName = "von der Heide" },
			person: func(p *Person) { p.FamilyName = "Vonderheide" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "nobility affix missing in register",
			claims: func(c *Claims) { c.FamilyName = "Freiherr von der Heide" },
			person: func(p *Person) { p.FamilyName = "Heide" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "affix missing in register",
			claims: func(c *Claims) { c.FamilyName = "von Strauß" },
			person: func(p *Person) { p.FamilyName = "Strauss" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "hyphens and diacritics",
			claims: func(c *Claims) { c.FamilyName = "Şahin-Łukasz"; c.GivenNames = "Gökçe" },
			person: func(p *Person) { p.FamilyName = "Sahin Lukasz"; p.GivenNames = "Goekce" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "any given name",
			claims: func(c *Claims) { c.GivenNames = "Anna Maria Luise" },
			person: func(p *Person) { p.GivenNames = "Luise" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "hyphenated given name counts as its parts",
			claims: func(c *Claims) { c.GivenNames = "Hans-Jürgen" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "initials do not count",
			claims: func(c *Claims) { c.GivenNames = "J. K." },
			person: func(p *Person) { p.GivenNames = "J Karl" },
			want:   Result{Reasons: []MismatchReason{ReasonGivenNames}, AddressMatched: true},
		},
		{
			name:   "only initials",
			claims: func(c *Claims) { c.GivenNames = "J." },
			person: func(p *Person) { p.GivenNames = "J" },
			want:   Result{Reasons: []MismatchReason{ReasonGivenNames}, AddressMatched: true},
		},
		{
			name:   "other given name",
			claims: func(c *Claims) { c.GivenNames = "Peter" },
			want:   Result{Reasons: []MismatchReason{ReasonGivenNames}, AddressMatched: true},
		},
		{
			name:   "married, register knows the birth name as family name",
			claims: func(c *Claims) { c.FamilyName = "Schmidt"; c.BirthName = "Müller" },
			want:   Result{Matched: true, FamilyNameByBirthName: true, AddressMatched: true},
		},
		{
			name:   "register updated, card still old",
			claims: func(c *Claims) { c.FamilyName = "Müller" },
			person: func(p *Person) { p.FamilyName = "Schmidt"; p.BirthName = "Müller" },
			want:   Result{Matched: true, FamilyNameByBirthName: true, AddressMatched: true},
		},
		{
			name:   "both birth names",
			claims: func(c *Claims) { c.FamilyName = "Meier"; c.BirthName = "Müller" },
			person: func(p *Person) { p.FamilyName = "Schmidt"; p.BirthName = "Müller" },
			want:   Result{Matched: true, FamilyNameByBirthName: true, AddressMatched: true},
		},
		{
			name:   "empty birth names never match",
			claims: func(c *Claims) { c.FamilyName = "Meier" },
			person: func(p *Person) { p.FamilyName = "Schmidt" },
			want:   Result{Reasons: []MismatchReason{ReasonFamilyName}, AddressMatched: true},
		},
		{
			name:   "other birth date",
			claims: func(c *Claims) { c.BirthDate = "1970-03-15" },
			want:   Result{Reasons: []MismatchReason{ReasonBirthDate}, AddressMatched: true},
		},
		{
			name:   "partial date in register",
			person: func(p *Person) { p.BirthDate = date(t, "1970-03") },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "partial date in register, other month",
			person: func(p *Person) { p.BirthDate = date(t, "1970-04") },
			want:   Result{Reasons: []MismatchReason{ReasonBirthDate}, AddressMatched: true},
		},
		{
			name:   "partial claim at its precision",
			claims: func(c *Claims) { c.BirthDate = "1970" },
			want:   Result{Matched: true, AddressMatched: true},
		},
		{
			name:   "partial claim, other year",
			claims: func(c *Claims) { c.BirthDate = "1971" },
			want:   Result{Reasons: []MismatchReason{ReasonBirthDate}, AddressMatched: true},
		},
		{
			name:   "unknown register date",
			person: func(p *Person) { p.BirthDate = registry.BirthDate{} },
			want:   Result{Reasons: []MismatchReason{ReasonBirthDate}, AddressMatched: true},
		},
		{
			name:   "invalid claimed date",
			claims: func(c *Claims) { c.BirthDate = "14.03.1970" },
			want:   Result{Reasons: []MismatchReason{ReasonBirthDate}, AddressMatched: true},
		},
		{
			name:   "moved",
			claims: func(c *Claims) { c.Address.Street = "Neue Straße 1" },
			want:   Result{Matched: true},
		},
		{
			name:   "no address in the register",
			person: func(p *Person) { p.Address = Address{} },
			want:   Result{Matched: true},
		},
		{
			name:   "everything wrong",
			claims: func(c *Claims) { c.FamilyName = "X"; c.GivenNames = "Y"; c.BirthDate = "2000" },
			want:   Result{Reasons: []MismatchReason{ReasonFamilyName, ReasonGivenNames, ReasonBirthDate}, AddressMatched: true},
		},
		{
			name:   "empty claims",
			claims: func(c *Claims) { *c = Claims{} },
			want:   Result{Reasons: []MismatchReason{ReasonFamilyName, ReasonGivenNames, ReasonBirthDate}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, p := baseClaims(), basePerson(t)
			if tc.claims != nil {
				tc.claims(&c)
			}
			if tc.person != nil {
				tc.person(&p)
			}
			if diff := cmp.Diff(tc.want, Match(c, p)); diff != "" {
				t.Errorf("Match (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMatchProperties checks that case changes, added titles and repeated
// calls (map order inside Match) never change a result.
func TestMatchProperties(t *testing.T) {
	type pair struct {
		c Claims
		p Person
	}
	var pairs []pair
	families := []string{"Müller", "Mueller", "Schmidt", "von der Heide", "Şahin"}
	givens := []string{"Jürgen", "Anna Maria", "Gökçe", "Hans-Peter Jürgen"}
	for _, cf := range families {
		for _, pf := range families {
			for _, cg := range givens {
				for _, pg := range givens {
					c := baseClaims()
					c.FamilyName, c.GivenNames = cf, cg
					p := basePerson(t)
					p.FamilyName, p.GivenNames = pf, pg
					pairs = append(pairs, pair{c, p})
				}
			}
		}
	}
	variants := []struct {
		name string
		f    func(pair) pair
	}{
		{"upper claims", func(x pair) pair {
			x.c.FamilyName, x.c.GivenNames = strings.ToUpper(x.c.FamilyName), strings.ToUpper(x.c.GivenNames)
			return x
		}},
		{"lower register", func(x pair) pair {
			x.p.FamilyName, x.p.GivenNames = strings.ToLower(x.p.FamilyName), strings.ToLower(x.p.GivenNames)
			return x
		}},
		{"title in claims", func(x pair) pair { x.c.FamilyName = "Prof. Dr. " + x.c.FamilyName; return x }},
		{"title in register", func(x pair) pair {
			x.p.GivenNames = "Dr. med. " + x.p.GivenNames
			x.p.Title = "Dr. med."
			return x
		}},
		{"same again", func(x pair) pair { return x }},
	}
	for _, x := range pairs {
		want := Match(x.c, x.p)
		for _, v := range variants {
			y := v.f(x)
			if diff := cmp.Diff(want, Match(y.c, y.p)); diff != "" {
				t.Errorf("%s changed the result for %q/%q vs %q/%q (-want +got):\n%s",
					v.name, x.c.FamilyName, x.c.GivenNames, x.p.FamilyName, x.p.GivenNames, diff)
			}
		}
	}
}

func TestPersonAndClaimsHideData(t *testing.T) {
	c, p := baseClaims(), basePerson(t)
	for _, s := range []string{
		c.String(), c.GoString(), c.LogValue().String(), p.String(), p.GoString(), p.LogValue().String(),
	} {
		if strings.Contains(s, "ller") || strings.Contains(s, "1970") {
			t.Errorf("printed form %q contains personal data", s)
		}
	}
}
