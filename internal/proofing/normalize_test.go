package proofing

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Müller", "mueller"},
		{"MÜLLER", "mueller"},
		{"Mueller", "mueller"},
		{"Mu\u0308ller", "mueller"}, // decomposed umlaut
		{"Strauß", "strauss"},
		{"STRAUẞ", "strauss"},
		{"Gößmann", "goessmann"},
		{"Ærø", "aeroe"},
		{"René", "rene"},
		{"Łukasz", "lukasz"},
		{"Ğökçe Şahin", "goekce sahin"},
		{"Ćosić", "cosic"},
		{"Dvořák", "dvorak"},
		{"İlkay", "ilkay"},
		{"O'Brien", "obrien"},
		{"D’Angelo", "dangelo"},
		{"Müller-Lüdenscheidt", "mueller luedenscheidt"},
		{"Müller – Lüdenscheidt", "mueller luedenscheidt"},
		{"  Hans\t Peter  ", "hans peter"},
		{"Hans\u00adPeter", "hanspeter"}, // soft hyphen is not a separator
		{"Ｍüｌｌｅｒ", "mueller"},            // full-width forms
		{"Dr. Jürgen", "juergen"},
		{"Prof. Dr. med. Anna", "anna"},
		{"Dr. rer. nat. Anna", "anna"},
		{"Dipl.-Ing. Klaus", "klaus"},
		{"Dr. h.c. mult. Klaus", "klaus"},
		{"Klaus PhD", "klaus"},
		{"Dr", "dr"},             // titles only: kept
		{"Med Anna", "med anna"}, // a title part counts only after a title
		{"", ""},
		{"---", ""},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizePlain(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Müller", "muller"},
		{"Gößmann", "gossmann"},
		{"Mueller", "mueller"},
		{"Ørsted", "orsted"},
	}
	for _, tc := range tests {
		if got := normalizePlain(tc.in); got != tc.want {
			t.Errorf("normalizePlain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// names are realistic inputs for the property tests.
var names = []string{
	"Jürgen Müller", "Prof. Dr. med. Anna-Lena Gößmann", "Ğökçe Şahin", "O'Brien",
	"von der Heide", "Freiherr von Strauß", "Łukasz Wałęsa", "Zoë Dvořák", "İlkay Öztürk",
	"Dr. h.c. Hans Peter", "ǅemal", "Ærø", "ﬁnn", "Μαρία", "Алексей", "李", "Med Anna",
}

func TestNormalizeProperties(t *testing.T) {
	for _, n := range names {
		once := Normalize(n)
		if twice := Normalize(once); twice != once {
			t.Errorf("Normalize not idempotent for %q: %q then %q", n, once, twice)
		}
		if up := Normalize(strings.ToUpper(n)); up != once {
			t.Errorf("Normalize(upper(%q)) = %q, want %q", n, up, once)
		}
		if low := Normalize(strings.ToLower(n)); low != once {
			t.Errorf("Normalize(lower(%q)) = %q, want %q", n, low, once)
		}
		if plain := normalizePlain(normalizePlain(n)); plain != normalizePlain(n) {
			t.Errorf("normalizePlain not idempotent for %q", n)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, n := range names {
		f.Add(n)
	}
	f.Add("\xff\xfe")
	f.Add("Dr. Dr.")
	f.Fuzz(func(t *testing.T, s string) {
		once := Normalize(s)
		if twice := Normalize(once); twice != once {
			t.Errorf("Normalize(%q) = %q, Normalize of that = %q", s, once, twice)
		}
		if !utf8.ValidString(once) {
			t.Errorf("Normalize(%q) = %q: not valid UTF-8", s, once)
		}
		if strings.HasPrefix(once, " ") || strings.HasSuffix(once, " ") || strings.Contains(once, "  ") {
			t.Errorf("Normalize(%q) = %q: stray spaces", s, once)
		}
		if plain := normalizePlain(s); normalizePlain(plain) != plain {
			t.Errorf("normalizePlain(%q) = %q is not idempotent", s, plain)
		}
	})
}
