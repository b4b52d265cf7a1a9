package approval

import (
	"unicode"
	"unicode/utf8"
)

// DisplaySafe reports whether s may be shown on the phone as it is: valid
// UTF-8 of letters, marks, digits, punctuation, symbols and spaces, and line
// breaks ('\n') only where lineBreaks allows them. It refuses everything
// that could make the phone show something other than what is signed, or
// hide part of it:
//
//   - control characters: C0 (tab and carriage return too), DEL, C1 (U+0080–U+009F);
//   - format characters (category Cf): the bidirectional embeddings and
//     overrides U+202A–U+202E and isolates U+2066–U+2069, the marks U+200E/U+200F,
//     zero-width U+200B–U+200D, U+2060, U+FEFF, soft hyphen, tag characters;
//   - the line and paragraph separators U+2028 and U+2029;
//   - other invisible code points (Default_Ignorable: U+034F, U+115F, U+3164,
//     …; variation selectors, which can smuggle data into an emoji);
//   - private-use, unassigned and non-characters.
func DisplaySafe(s string, lineBreaks bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\n' {
			if !lineBreaks {
				return false
			}
			continue
		}
		if !displayRune(r) {
			return false
		}
	}
	return true
}

func displayRune(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == 0x2028, r == 0x2029,
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), unicode.Is(unicode.Variation_Selector, r),
		unicode.Is(unicode.Noncharacter_Code_Point, r):
		return false
	case r == ' ', unicode.Is(unicode.Zs, r):
		return true
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// FieldProblem says in German why a one-line field a person entered (a
// street, a house number, a city) cannot be taken as it is, because the
// phone would show it, or "" when it can. Callers check the length
// themselves.
func FieldProblem(v string) string {
	if DisplaySafe(v, false) {
		return ""
	}
	return "Bitte verwenden Sie nur Buchstaben, Ziffern, Satzzeichen und Leerzeichen, keine unsichtbaren Steuer- oder Formatzeichen."
}
