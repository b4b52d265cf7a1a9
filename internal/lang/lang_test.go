package lang

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Language
		ok   bool
	}{
		{"de", German, true},
		{"en", English, true},
		{"DE", German, true},
		{" En ", English, true},
		{"en-GB", English, true},
		{"en_US", English, true},
		{"de-AT", German, true},
		{"deu", German, true},
		{"", "", false},
		{"fr", "", false},
		{"gsw", "", false}, // Swiss German is a language of its own
		{"und", "", false},
		{"*", "", false},
		{"e", "", false},
		{"english", "", false},
		{"de;q=1", "", false},
		{strings.Repeat("de-", 30) + "de", "", false},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		header string
		want   Language
	}{
		{"", German},
		{"de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", German},
		{"en-GB,en;q=0.9", English},
		{"en-US", English},
		{"en-DE", English},
		{"EN", English},
		{"de-CH", German},
		{"en;q=0.9, de;q=0.8", English},
		{"en-US;q=0.1, de;q=0.9", German},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7", English},
		{"fr", German},
		{"tr, ar", German},
		{"*", German},
		{"en;q=bad", German},
		{"xx-!!", German},
		{",,,", German},
		{"en;q=0", German},
		// A long header counts only its first entries.
		{"en," + strings.Repeat("fr;q=0.5,", 200), English},
		{strings.Repeat("fr;q=0.5,", 200) + "en", German},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.header); got != tt.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "de", "en-GB,en;q=0.9", "fr;q=0.5, en", "*;q=0.1", "en;q=1e9", "x-y-z", "\xff\xfe", "de-u-co-phonebk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if got := Negotiate(header); !got.Valid() {
			t.Errorf("Negotiate(%q) = %q, not a language", header, got)
		}
		if l, ok := Parse(header); ok != l.Valid() {
			t.Errorf("Parse(%q) = %q, %v", header, l, ok)
		}
	})
}

func TestChoose(t *testing.T) {
	tests := []struct {
		choice    string
		requested Language
		want      Language
	}{
		{"", "", German},
		{"", English, English},
		{"", German, German},
		{"en", German, English},
		{"de", English, German},
		{"en", "", English},
		{"fr", English, English}, // a stored value Pforte does not speak counts as no choice
		{"fr", "fr", German},
		{"", "xx", German},
	}
	for _, tt := range tests {
		if got := Choose(tt.choice, tt.requested); got != tt.want {
			t.Errorf("Choose(%q, %q) = %q, want %q", tt.choice, tt.requested, got, tt.want)
		}
	}
}

func TestAll(t *testing.T) {
	got := All()
	if len(got) != 2 || got[0] != German || got[1] != English {
		t.Errorf("All() = %v, want [de en]", got)
	}
	got[0] = "xx" // the caller's copy
	if All()[0] != German {
		t.Error("All returns its own slice")
	}
	for _, l := range All() {
		if !l.Valid() || l.Tag().String() != string(l) {
			t.Errorf("%q: valid %v, tag %v", l, l.Valid(), l.Tag())
		}
	}
	if Language("").Tag() != German.Tag() || Language("xx").Valid() {
		t.Error("the zero Language is not German, or an unknown one is valid")
	}
}

// TestMissingKeyIsVisible: a key no catalogue has prints as ⟦key⟧ in every
// language, never as a blank or as the bare key.
func TestMissingKeyIsVisible(t *testing.T) {
	for _, l := range append(All(), "", "xx") {
		if got := l.T("letter.no_such.key", "x"); got != "⟦letter.no_such.key⟧" {
			t.Errorf("%q: T(missing) = %q", l, got)
		}
	}
}

// TestUnknownLanguageSpeaksGerman: the zero Language and unknown ones use
// the German catalogue.
func TestUnknownLanguageSpeaksGerman(t *testing.T) {
	at := time.Date(2026, 11, 29, 13, 3, 0, 0, time.UTC)
	for _, l := range []Language{"", "xx", "EN"} {
		if got, want := l.DateTime(at), German.DateTime(at); got != want {
			t.Errorf("%q.DateTime = %q, want German %q", l, got, want)
		}
	}
}

func TestTFormatsArguments(t *testing.T) {
	if got := English.T("time.date_time", "1 May 2026", "09:30"); got != "1 May 2026 at 09:30" {
		t.Errorf("T = %q", got)
	}
	// An argument is never read as a format.
	if got := German.T("time.short", "%d%s", "%[1]s"); got != "%d%s, %[1]s Uhr" {
		t.Errorf("T with verbs in the arguments = %q", got)
	}
}

func TestTConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for i := range 16 {
		wg.Go(func() {
			l := All()[i%2]
			want := map[Language]string{German: "1. Juli 2026 um 14:00 Uhr", English: "1 July 2026 at 14:00"}[l]
			for range 200 {
				if got := l.DateTime(at); got != want {
					t.Errorf("%s: %q, want %q", l, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestTemplateFuncs: a page set parsed with a language's functions speaks
// that language, and html/template escapes what the functions return.
func TestTemplateFuncs(t *testing.T) {
	const page = `<html lang="{{lang}}">{{t "time.date_time" "<b>" "09:30"}} | {{date .At}} | {{datetime .At}} | {{short .At}} | {{euro .Cents}}`
	at := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	want := map[Language]string{
		German:  `<html lang="de">&lt;b&gt; um 09:30 Uhr | 29. März 2026 | 29. März 2026 um 03:00 Uhr | 29.03.2026, 03:00 Uhr | 1.234,56 €`,
		English: `<html lang="en">&lt;b&gt; at 09:30 | 29 March 2026 | 29 March 2026 at 03:00 | 29 Mar 2026, 03:00 | €1,234.56`,
	}
	for _, l := range All() {
		tmpl := template.Must(template.New("page").Funcs(l.Funcs()).Parse(page))
		var b bytes.Buffer
		if err := tmpl.Execute(&b, map[string]any{"At": at, "Cents": int64(123456)}); err != nil {
			t.Fatal(err)
		}
		if b.String() != want[l] {
			t.Errorf("%s:\n got %s\nwant %s", l, b.String(), want[l])
		}
	}
}

func ExampleLanguage_T() {
	at := time.Date(2026, 11, 29, 13, 3, 0, 0, time.UTC)
	for _, l := range All() {
		fmt.Println(l.DateTime(at), "·", l.Euro(4200))
	}
	// Output:
	// 29. November 2026 um 14:03 Uhr · 42,00 €
	// 29 November 2026 at 14:03 · €42.00
}
