package proofing

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("test input %s: %v", s, err)
	}
	return m
}

func TestClaimsFromOIDC(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Claims
	}{
		{
			name: "plain",
			raw: `{"sub":"s1","txn":"t1","iss":"https://idp","aud":["x"],"exp":1,
				"family_name":"Müller","given_name":"Jürgen","middle_name":"Karl","birth_family_name":"Schmidt",
				"birthdate":"1970-03-14","nationalities":["DE","FR"],
				"address":{"street_address":"Musterstraße 12a","postal_code":"10115","locality":"Berlin","country":"DE","formatted":"x"}}`,
			want: Claims{
				Subject: "s1", TransactionID: "t1",
				FamilyName: "Müller", GivenNames: "Jürgen Karl", BirthName: "Schmidt", BirthDate: "1970-03-14",
				Address:     Address{Street: "Musterstraße 12a", PostalCode: "10115", City: "Berlin", Country: "DE"},
				Nationality: "DE",
			},
		},
		{
			name: "partial date, null claims absent",
			raw:  `{"family_name":" Müller ","given_name":null,"birthdate":"1970","address":null}`,
			want: Claims{FamilyName: "Müller", BirthDate: "1970"},
		},
		{
			name: "verified claims object",
			raw: `{"sub":"s1","family_name":"Unverified","verified_claims":{
				"verification":{"trust_framework":"de_aml","txn":"t2","evidence":[{"type":"electronic_record"}]},
				"claims":{"family_name":"Müller","given_name":"Jürgen","birthdate":"1970-03",
					"address":{"street_address":"Weg","house_number":"1","postal_code":"10115","locality":"Berlin","country_code":"DE"}}}}`,
			want: Claims{
				Subject: "s1", TransactionID: "t2", TrustFramework: "de_aml",
				FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03",
				Address: Address{Street: "Weg", HouseNumber: "1", PostalCode: "10115", City: "Berlin", Country: "DE"},
			},
		},
		{
			name: "verified claims array, later complete earlier",
			raw: `{"txn":"top","verified_claims":[
				{"verification":{"trust_framework":"eidas","txn":"t2"},"claims":{"family_name":"Müller","birthdate":"1970-03-14"}},
				{"verification":{"trust_framework":"de_aml"},"claims":{"family_name":"Other","given_name":"Jürgen",
					"address":{"locality":"Berlin"}}}]}`,
			want: Claims{
				TransactionID: "top", TrustFramework: "eidas",
				FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
				Address: Address{City: "Berlin"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ClaimsFromOIDC(decode(t, tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ClaimsFromOIDC (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClaimsFromOIDCRefuses(t *testing.T) {
	long := strings.Repeat("a", maxNameBytes+1)
	tests := []struct {
		name string
		raw  map[string]any
	}{
		{"empty", map[string]any{}},
		{"no family name", decode(t, `{"birthdate":"1970"}`)},
		{"no birth date", decode(t, `{"family_name":"Müller"}`)},
		{"bad birth date", decode(t, `{"family_name":"Müller","birthdate":"14.03.1970"}`)},
		{"number as name", decode(t, `{"family_name":1,"birthdate":"1970"}`)},
		{"array as name", decode(t, `{"family_name":["a"],"birthdate":"1970"}`)},
		{"bad sub", decode(t, `{"sub":true,"family_name":"M","birthdate":"1970"}`)},
		{"address not an object", decode(t, `{"family_name":"M","birthdate":"1970","address":"Berlin"}`)},
		{"address field not a string", decode(t, `{"family_name":"M","birthdate":"1970","address":{"postal_code":10115}}`)},
		{"nationalities not strings", decode(t, `{"family_name":"M","birthdate":"1970","nationalities":[1]}`)},
		{"nationalities not an array", decode(t, `{"family_name":"M","birthdate":"1970","nationalities":"DE"}`)},
		{"too long", map[string]any{"family_name": long, "birthdate": "1970"}},
		{"invalid UTF-8", map[string]any{"family_name": "M\xffller", "birthdate": "1970"}},
		{"control character", map[string]any{"family_name": "M\x00ller", "birthdate": "1970"}},
		{"verified claims not an object", decode(t, `{"verified_claims":"x"}`)},
		{"verified claims empty array", decode(t, `{"verified_claims":[]}`)},
		{"verified claims entry not an object", decode(t, `{"verified_claims":[1]}`)},
		{"no verification", decode(t, `{"verified_claims":{"claims":{"family_name":"M","birthdate":"1970"}}}`)},
		{"no trust framework", decode(t, `{"verified_claims":{"verification":{},"claims":{"family_name":"M","birthdate":"1970"}}}`)},
		{"no claims", decode(t, `{"verified_claims":{"verification":{"trust_framework":"eidas"}}}`)},
		{"plain claims do not complete verified ones", decode(t,
			`{"family_name":"M","verified_claims":{"verification":{"trust_framework":"eidas"},"claims":{"birthdate":"1970"}}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ClaimsFromOIDC(tc.raw)
			if !errors.Is(err, ErrInvalidClaims) {
				t.Fatalf("ClaimsFromOIDC = %v, %v; want ErrInvalidClaims", got, err)
			}
			if strings.Contains(err.Error(), "ller") || strings.Contains(err.Error(), long) {
				t.Errorf("error %q contains a claim value", err)
			}
		})
	}
}

// toOIDC encodes c as plain claims, the inverse of ClaimsFromOIDC.
func toOIDC(c Claims) map[string]any {
	m := map[string]any{}
	set := func(m map[string]any, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(m, "sub", c.Subject)
	set(m, "txn", c.TransactionID)
	set(m, "family_name", c.FamilyName)
	set(m, "given_name", c.GivenNames)
	set(m, "birth_family_name", c.BirthName)
	set(m, "birthdate", c.BirthDate)
	set(m, "nationality", c.Nationality)
	if !c.Address.IsZero() {
		a := map[string]any{}
		set(a, "street_address", c.Address.Street)
		set(a, "house_number", c.Address.HouseNumber)
		set(a, "postal_code", c.Address.PostalCode)
		set(a, "locality", c.Address.City)
		set(a, "country", c.Address.Country)
		m["address"] = a
	}
	return m
}

func FuzzClaimsFromOIDC(f *testing.F) {
	for _, s := range []string{
		`{"family_name":"Müller","given_name":"Jürgen","birthdate":"1970-03-14","address":{"locality":"Berlin"}}`,
		`{"verified_claims":{"verification":{"trust_framework":"eidas","txn":"t"},"claims":{"family_name":"M","birthdate":"1970"}}}`,
		`{"verified_claims":[{"verification":{"trust_framework":"eidas"},"claims":{"family_name":"M"}},{"verification":{"trust_framework":"x"},"claims":{"birthdate":"1970-01"}}]}`,
		`{"family_name":null,"birthdate":1970}`,
		`{"nationalities":["DE"],"family_name":"a","birthdate":"2000-02-29"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]any
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		c, err := ClaimsFromOIDC(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidClaims) {
				t.Fatalf("error %v does not wrap ErrInvalidClaims", err)
			}
			return
		}
		for _, s := range []string{c.Subject, c.TransactionID, c.FamilyName, c.GivenNames, c.BirthName, c.BirthDate,
			c.Nationality, c.Address.Street, c.Address.City, c.Address.PostalCode} {
			if !utf8.ValidString(s) || len(s) > 2*maxNameBytes+1 {
				t.Fatalf("accepted field %q", s)
			}
		}
		again, err := ClaimsFromOIDC(toOIDC(c))
		if err != nil {
			t.Fatalf("re-reading accepted claims: %v", err)
		}
		c.TrustFramework = ""
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		Match(c, Person{FamilyName: c.FamilyName, GivenNames: c.GivenNames})
		MatchedAttributesHash(c)
	})
}
