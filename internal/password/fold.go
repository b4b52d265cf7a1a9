package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns pw in Unicode normalisation form NFKC. Length limits,
// checks and hashing all see the normalised password.
func Normalize(pw string) string {
	return norm.NFKC.String(pw)
}

// maxAffix is the longest leading or trailing run of digits, punctuation and
// symbols stripped before a blocklist lookup.
const maxAffix = 6

// minCandidate is the shortest form of a password looked up in the blocklist;
// shorter cores ("!!ab!!") say nothing.
const minCandidate = 3

var (
	// translit writes umlauts and ß the way German keyboards without them do.
	translit = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss")
	// dropUmlaut writes umlauts without their dots, as people often do.
	dropUmlaut = strings.NewReplacer("ä", "a", "ö", "o", "ü", "u", "ß", "ss")
	// leetI and leetL undo common leetspeak; they differ only in reading 1.
	leetI = strings.NewReplacer("4", "a", "@", "a", "3", "e", "1", "i", "0", "o", "5", "s", "$", "s")
	leetL = strings.NewReplacer("4", "a", "@", "a", "3", "e", "1", "l", "0", "o", "5", "s", "$", "s")
	// compactor removes the separators people put between words and date parts.
	compactor = strings.NewReplacer(" ", "", "-", "", "_", "", ".", "", "/", "")
)

// fold returns the comparable form of a normalised string: lower case with
// umlauts and ß transliterated.
func fold(s string) string {
	s = strings.ToLower(s)
	if !strings.ContainsAny(s, "äöüß") {
		return s // no copy: most blocklist entries stay shared with their source
	}
	return translit.Replace(s)
}

// isAffixRune reports whether r may belong to the digits and punctuation
// people put before or after a word.
func isAffixRune(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// stripAffixes removes a leading and a trailing run of affix runes, each only
// when it is at most maxAffix runes long and not the whole string.
func stripAffixes(s string) string {
	return stripLeading(stripTrailing(s))
}

// stripLeading removes a leading run of at most maxAffix affix runes.
func stripLeading(s string) string {
	n, i := 0, 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isAffixRune(r) {
			break
		}
		i += size
		n++
	}
	if n <= maxAffix && i < len(s) {
		return s[i:]
	}
	return s
}

// stripTrailing removes a trailing run of at most maxAffix affix runes.
func stripTrailing(s string) string {
	n, j := 0, len(s)
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		if !isAffixRune(r) {
			break
		}
		j -= size
		n++
	}
	if n <= maxAffix && j > 0 {
		return s[:j]
	}
	return s
}

// candidates returns the forms of the lower-case password looked up in the
// blocklist, without duplicates and without forms shorter than minCandidate.
func candidates(lower string) []string {
	var out []string
	add := func(s string) {
		if utf8.RuneCountInString(s) < minCandidate {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	t := translit.Replace(lower)
	for _, base := range [...]string{lower, t, compactor.Replace(lower), compactor.Replace(t)} {
		stripped := stripAffixes(base)
		add(base)
		add(stripped)
		for _, leet := range [...]*strings.Replacer{leetI, leetL} {
			// Leetspeak digits are also affix runes, so undo it before,
			// after and between stripping ("hall0", "P4ssw0rt!", "$ommer2024").
			add(leet.Replace(base))
			add(leet.Replace(stripped))
			add(stripAffixes(leet.Replace(base)))
			add(stripLeading(leet.Replace(stripTrailing(base))))
		}
	}
	return out
}
