package proofing

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// transliterations replace letters that are not a base letter plus a combining
// mark, or whose German spelling differs from simply dropping the mark. The
// keys are case-folded forms.
var transliterations = map[rune]string{
	'ä': "ae", 'ö': "oe", 'ü': "ue", 'ß': "ss",
	'æ': "ae", 'œ': "oe", 'ø': "oe", 'þ': "th",
	'ł': "l", 'đ': "d", 'ð': "d", 'ħ': "h", 'ı': "i", 'ŀ': "l", 'ŧ': "t",
}

// plainFoldings are the letters whose plain folding differs from their
// transliteration: the umlauts lose their dots ("Müller" → "muller").
var plainFoldings = map[rune]string{
	'ä': "a", 'ö': "o", 'ü': "u", 'ø': "o",
}

// titleStarts are tokens that are always an academic title.
var titleStarts = setOf("dr", "prof", "professor", "doktor", "dipl", "phd")

// titleParts are tokens that are part of a title when they follow one:
// "Dr. med.", "Dr. rer. nat.", "Dipl.-Ing.", "Dr. h. c. mult.".
var titleParts = setOf(
	"dr", "prof", "med", "dent", "vet", "rer", "nat", "phil", "jur", "iur",
	"pol", "oec", "theol", "h", "c", "hc", "habil", "mult", "ing", "sc",
	"techn", "pharm", "paed", "psych", "agr", "biol", "math", "inf", "soz",
	"des", "univ", "kfm", "kffr", "troph",
)

// affixes are name affixes (Vorsatzwörter and Namenszusätze) ignored when
// family names are compared.
var affixes = setOf(
	"von", "vom", "van", "der", "den", "de", "dem", "zu", "zum", "zur", "ten",
	"ter", "te", "la", "le", "da", "di", "del", "della", "dos", "du", "mc", "am",
	"auf", "aus", "freiherr", "freifrau", "freiin", "graf", "graefin", "baron",
	"baronin", "prinz", "prinzessin", "fuerst", "fuerstin", "ritter", "edler",
	"edle", "herzog", "herzogin",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Normalize returns the comparison form of a name: NFKC, case folded, umlauts
// transliterated (ä→ae), other diacritics removed, apostrophes removed, every
// other separator turned into a single space, academic titles dropped (see the
// package comment). Normalize is idempotent and ignores case. A name made of
// titles only keeps them, so that it does not become empty.
func Normalize(name string) string {
	return strings.Join(tokens(name, transliterations), " ")
}

// normalizePlain is Normalize with the plain folding of umlauts (ä→a).
func normalizePlain(name string) string {
	return strings.Join(tokens(name, plainFoldings), " ")
}

// tokens returns the normalised words of name without titles. special maps
// folded letters before the diacritics are removed; transliterations apply
// to letters it lacks.
func tokens(name string, special map[rune]string) []string {
	s := fold(name, special)
	// Folding a folded string changes nothing for all names; the loop guards
	// against odd code points whose compatibility and case mappings interact.
	for range 3 {
		next := fold(s, special)
		if next == s {
			break
		}
		s = next
	}
	return dropTitles(strings.Fields(s))
}

// isApostrophe reports whether r is one of the apostrophes names are written
// with ("O'Brien", "D’Angelo"); they are removed, not turned into spaces.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʼ', 'ʻ', '`', '´', '′', '＇':
		return true
	}
	return false
}

// fold applies the character rules of Normalize once.
func fold(s string, special map[rune]string) string {
	s = strings.Map(func(r rune) rune {
		if isApostrophe(r) {
			return -1
		}
		return r
	}, s)
	s = norm.NFKC.String(s)
	s = cases.Fold().String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if rep, ok := special[r]; ok {
			b.WriteString(rep)
		} else if rep, ok := transliterations[r]; ok {
			b.WriteString(rep)
		} else {
			b.WriteRune(r)
		}
	}
	s = norm.NFD.String(b.String())
	b.Reset()
	space := true // no leading space
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case unicode.Is(unicode.M, r), unicode.Is(unicode.Cf, r), isApostrophe(r):
			// combining marks, soft hyphens, joiners: removed
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimSuffix(norm.NFC.String(b.String()), " ")
}

// dropTitles removes academic titles: a token of titleStarts, and the tokens of
// titleParts that directly follow a removed token. When nothing else is left
// the tokens are kept as they are.
func dropTitles(toks []string) []string {
	out := make([]string, 0, len(toks))
	prevTitle := false
	for _, t := range toks {
		if titleStarts[t] || prevTitle && titleParts[t] {
			prevTitle = true
			continue
		}
		prevTitle = false
		out = append(out, t)
	}
	if len(out) == 0 {
		return toks
	}
	return out
}
