package approval_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/approval"
)

func TestDisplaySafe(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		lineBreaks bool
		want       bool
	}{
		{"German address", "Straße des 17. Juni 5, 80331 München", false, true},
		{"umlauts decomposed (combining marks)", "Mu\u0308ller", false, true},
		{"punctuation and symbols", "IBAN DE89 3704 0044 0532 0130 00 – 12,50 € (Rückerstattung) §3 „Bonus“ ✓", false, true},
		{"no-break and narrow no-break space", "10\u00a0€ und 5\u202fkm", false, true},
		{"other scripts", "Łódź İstanbul Αθήνα Москва 東京 مرحبا", false, true},
		{"empty", "", false, true},
		{"line break where allowed", "Neue Anschrift:\nLindenallee 3", true, true},
		{"line break where not allowed", "Lindenallee\n3", false, false},
		{"carriage return", "Zeile 1\r\nZeile 2", true, false},
		{"tab", "Haupt\tstraße", false, false},
		{"NUL", "Haupt\x00straße", false, false},
		{"DEL", "Haupt\x7fstraße", false, false},
		{"C1 U+0085 next line", "Haupt\u0085straße", true, false},
		{"C1 U+009B CSI", "Haupt\u009bstraße", false, false},
		{"invalid UTF-8", "Haupt\xffstraße", false, false},
		{"line separator U+2028", "Lindenallee\u20283", true, false},
		{"paragraph separator U+2029", "Lindenallee\u20293", true, false},
		{"soft hyphen U+00AD", "Haupt\u00adstraße", false, false},
		{"zero-width non-joiner U+200C", "Haupt\u200cstraße", false, false},
		{"BOM U+FEFF", "\ufeffHauptstraße", false, false},
		{"Mongolian vowel separator U+180E", "Haupt\u180estraße", false, false},
		{"tag character U+E0041", "Haupt\U000E0041straße", false, false},
		{"combining grapheme joiner U+034F", "Haupt\u034fstraße", false, false},
		{"Hangul filler U+3164", "Haupt\u3164straße", false, false},
		{"variation selector U+FE0F", "Haupt\ufe0fstraße", false, false},
		{"variation selector supplement U+E0100", "Haupt\U000E0100straße", false, false},
		{"private use U+E000", "Haupt\ue000straße", false, false},
		{"unassigned U+0378", "Haupt\u0378straße", false, false},
		{"non-character U+FFFF", "Haupt\uffffstraße", false, false},
	}
	for _, r := range []rune{0x200b, 0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2061, 0x2066, 0x2067, 0x2068, 0x2069} {
		tests = append(tests, struct {
			name       string
			in         string
			lineBreaks bool
			want       bool
		}{"format U+" + hex4(r), "Haupt" + string(r) + "straße", true, false})
	}
	for _, tt := range tests {
		if got := approval.DisplaySafe(tt.in, tt.lineBreaks); got != tt.want {
			t.Errorf("%s: DisplaySafe(%q, %v) = %v, want %v", tt.name, tt.in, tt.lineBreaks, got, tt.want)
		}
		if tt.lineBreaks {
			continue
		}
		if msg := approval.FieldProblem(tt.in); (msg == "") != tt.want || (msg != "" && !strings.Contains(msg, "Bitte")) {
			t.Errorf("%s: FieldProblem(%q) = %q", tt.name, tt.in, msg)
		}
	}
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}

// TestDisplaySafeRefusesEveryControlAndFormatCharacter walks all of Unicode.
func TestDisplaySafeRefusesEveryControlAndFormatCharacter(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == '\n' || !utf8.ValidRune(r) {
			continue
		}
		bad := unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) ||
			unicode.Is(unicode.Co, r)
		if bad && approval.DisplaySafe(string(r), true) {
			t.Errorf("DisplaySafe accepts U+%04X", r)
		}
	}
}

func FuzzDisplaySafe(f *testing.F) {
	for _, s := range []string{"Hauptstraße 1", "Neue Anschrift:\nLindenallee 3", "Haupt\u202estraße", "\ufeff", "\xff", "a\u0085b"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, lineBreaks bool) {
		ok := approval.DisplaySafe(s, lineBreaks)
		if !ok {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		for _, r := range s {
			if r == '\n' {
				if !lineBreaks {
					t.Fatalf("accepted a line break in %q", s)
				}
				continue
			}
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 || !(unicode.IsPrint(r) || unicode.Is(unicode.Zs, r)) {
				t.Fatalf("accepted U+%04X in %q", r, s)
			}
		}
		// What is safe stays safe in parts and joined.
		if !approval.DisplaySafe(s+s, lineBreaks) {
			t.Fatalf("%q is safe but not twice", s)
		}
		if i := len(s) / 2; i > 0 && utf8.RuneStart(s[i]) && !approval.DisplaySafe(s[:i], lineBreaks) {
			t.Fatalf("%q is safe but not its first half", s)
		}
	})
}
