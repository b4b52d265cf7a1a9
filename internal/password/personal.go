package password

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Context holds what a person's password must not contain: their data from
// the master data. Every field may be empty. The values are personal data:
// String, Format and LogValue print none of them.
type Context struct {
	KVNR       string // the Krankenversichertennummer, e.g. "A123456780"
	BirthDate  string // as given: "1970-03-14", "1970-03", "1970" or "14.03.1970"
	FamilyName string
	GivenNames string // all given names, separated by spaces or hyphens
	BirthName  string
	City       string
	Street     string // with or without the house number
}

// String returns a placeholder; the fields are personal data.
func (Context) String() string { return "password.Context{REDACTED}" }

// Format prints the same as String for every verb, so that %v, %+v and %#v
// do not reach the fields.
func (c Context) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue logs a placeholder; the fields are personal data.
func (Context) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// minWord is the shortest name part looked for at all; minSubstring the
// shortest looked for inside longer words (shorter ones only as whole words).
const (
	minWord      = 3
	minSubstring = 4
)

// stopWords are parts of names, streets and places too general to refuse.
var stopWords = map[string]bool{
	"am": true, "an": true, "auf": true, "bei": true, "dem": true, "den": true,
	"der": true, "des": true, "die": true, "das": true, "im": true, "in": true,
	"zum": true, "zur": true, "von": true, "vom": true, "vor": true, "und": true,
	"van": true, "ter": true, "zu": true, "st": true, "sankt": true,
	"str": true, "strasse": true, "weg": true, "platz": true, "allee": true,
	"gasse": true, "ring": true, "damm": true, "ufer": true, "chaussee": true,
	"pfad": true, "steig": true, "markt": true, "hof": true,
}

// wordSet collects folded words without duplicates.
type wordSet struct {
	list []string
	seen map[string]bool
}

func (w *wordSet) add(s string) {
	if utf8.RuneCountInString(s) < minWord || w.seen[s] {
		return
	}
	if w.seen == nil {
		w.seen = make(map[string]bool)
	}
	w.seen[s] = true
	w.list = append(w.list, s)
}

// addName adds the words of a name, place or street: each run of letters of
// at least minWord runes that is not a stop word, and all runs joined, each
// with umlauts transliterated and with their dots dropped.
func (w *wordSet) addName(s string) {
	s = strings.ToLower(Normalize(s))
	parts := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, p := range parts {
		if stopWords[translit.Replace(p)] {
			continue
		}
		w.add(translit.Replace(p))
		w.add(dropUmlaut.Replace(p))
	}
	if len(parts) > 1 {
		joined := strings.Join(parts, "")
		w.add(translit.Replace(joined))
		w.add(dropUmlaut.Replace(joined))
	}
}

// addKVNR adds the KVNR and its digits.
func (w *wordSet) addKVNR(s string) {
	s = strings.ToLower(compactor.Replace(Normalize(s)))
	if s == "" {
		return
	}
	w.add(s)
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(digits) >= minSubstring {
		w.add(digits)
	}
}

// addBirthDate adds the spellings of a birth date that people put into
// passwords. It accepts "YYYY-MM-DD", "YYYY-MM", "YYYY" and "DD.MM.YYYY";
// anything else adds nothing.
func (w *wordSet) addBirthDate(s string) {
	y, m, d, ok := parseDate(strings.TrimSpace(s))
	if !ok {
		return
	}
	yyyy := fmt.Sprintf("%04d", y)
	yy := yyyy[2:]
	w.add(yyyy)
	if m == 0 {
		return
	}
	mm := fmt.Sprintf("%02d", m)
	w.add(mm + yyyy)
	w.add(yyyy + mm)
	if d == 0 {
		return
	}
	dd := fmt.Sprintf("%02d", d)
	dn, mn := strconv.Itoa(d), strconv.Itoa(m)
	for _, f := range []string{
		dd + mm + yyyy, dd + mm + yy, yyyy + mm + dd, yy + mm + dd,
		mm + dd + yyyy, dn + mn + yyyy, dn + mn + yy,
	} {
		w.add(f)
	}
}

// parseDate reads the date forms addBirthDate accepts; m and d are 0 when
// not given.
func parseDate(s string) (y, m, d int, ok bool) {
	num := func(s string, n int) (int, bool) {
		if len(s) != n {
			return 0, false
		}
		v := 0
		for i := range len(s) {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			v = v*10 + int(s[i]-'0')
		}
		return v, true
	}
	valid := func(y, m, d int) bool {
		return y >= 1000 && m >= 0 && m <= 12 && d >= 0 && d <= 31 && (m > 0 || d == 0)
	}
	if p := strings.Split(s, "."); len(p) == 3 {
		d, ok1 := num(p[0], 2)
		m, ok2 := num(p[1], 2)
		y, ok3 := num(p[2], 4)
		ok = ok1 && ok2 && ok3 && d > 0 && m > 0 && valid(y, m, d)
		return y, m, d, ok
	}
	p := strings.Split(s, "-")
	if len(p) > 3 {
		return 0, 0, 0, false
	}
	var oks [3]bool
	vals := [3]int{}
	widths := [3]int{4, 2, 2}
	for i := range p {
		vals[i], oks[i] = num(p[i], widths[i])
		if !oks[i] {
			return 0, 0, 0, false
		}
	}
	y, m, d = vals[0], vals[1], vals[2]
	if (len(p) >= 2 && m == 0) || (len(p) == 3 && d == 0) {
		return 0, 0, 0, false
	}
	return y, m, d, valid(y, m, d)
}

// contextWords returns the folded words of the person's data and those of
// the service and insurer.
func contextWords(c Context, insurer string) (personal, service []string) {
	var p wordSet
	p.addKVNR(c.KVNR)
	p.addBirthDate(c.BirthDate)
	for _, s := range []string{c.FamilyName, c.GivenNames, c.BirthName, c.City, c.Street} {
		p.addName(s)
	}
	var s wordSet
	s.add("pforte")
	s.add("krankenkasse")
	s.addName(insurer)
	return p.list, s.list
}

// passwordForms returns the forms of the normalised password that context
// words are looked for in: loose forms for whole-word matches of short words
// and all forms (also compacted and with leetspeak undone) for substrings.
func passwordForms(pw string) (loose, all []string) {
	lower := strings.ToLower(pw)
	loose = []string{translit.Replace(lower), dropUmlaut.Replace(lower)}
	all = append(all, loose...)
	for _, f := range loose {
		c := compactor.Replace(f)
		all = append(all, c, leetI.Replace(c), leetL.Replace(c))
	}
	return loose, all
}

// containsAny reports whether any word occurs in the password forms: words
// of minSubstring runes or more anywhere, shorter ones as a whole word.
func containsAny(loose, all, words []string) bool {
	for _, w := range words {
		if utf8.RuneCountInString(w) >= minSubstring {
			for _, f := range all {
				if strings.Contains(f, w) {
					return true
				}
			}
			continue
		}
		for _, f := range loose {
			if containsWholeWord(f, w) {
				return true
			}
		}
	}
	return false
}

// containsWholeWord reports whether w occurs in s with no letter or digit
// directly before or after it.
func containsWholeWord(s, w string) bool {
	for i := 0; i <= len(s)-len(w); {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		i = start + 1
	}
	return false
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
