package assistant

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Sensitive is a kind of personal data masked out of a question.
type Sensitive string

// The kinds of data masking removes.
const (
	// SensitiveKVNR is a Krankenversichertennummer: a letter and nine
	// digits, whatever the check digit says (a mistyped one is still one).
	SensitiveKVNR Sensitive = "kvnr"
	// SensitiveIBAN is a bank account number.
	SensitiveIBAN Sensitive = "iban"
	// SensitiveDate is a full date (with a year): it may be a birth date.
	SensitiveDate Sensitive = "date"
	// SensitiveNumber is a run of four or more digits: a PIN, PUK, postal
	// code, telephone or card number.
	SensitiveNumber Sensitive = "number"
	// SensitiveSecret is a password or code: what follows "mein Passwort
	// ist", a code printed in groups, a long mix of letters and digits.
	SensitiveSecret Sensitive = "secret"
	// SensitiveEmail is an e-mail address.
	SensitiveEmail Sensitive = "email"
)

// placeholder is what replaces data of kind k in the kept question.
func (k Sensitive) placeholder() string {
	switch k {
	case SensitiveKVNR:
		return "[Versichertennummer entfernt]"
	case SensitiveIBAN:
		return "[IBAN entfernt]"
	case SensitiveDate:
		return "[Datum entfernt]"
	case SensitiveNumber:
		return "[Zahl entfernt]"
	case SensitiveSecret:
		return "[Passwort oder Code entfernt]"
	default:
		return "[E-Mail-Adresse entfernt]"
	}
}

// german names kind k in a sentence ("eine Versichertennummer").
func (k Sensitive) german() string {
	switch k {
	case SensitiveKVNR:
		return "eine Versichertennummer"
	case SensitiveIBAN:
		return "eine IBAN"
	case SensitiveDate:
		return "ein Datum (etwa ein Geburtsdatum)"
	case SensitiveNumber:
		return "eine Zahl, die eine PIN oder Nummer sein kann"
	case SensitiveSecret:
		return "etwas, das ein Passwort oder Code sein kann"
	default:
		return "eine E-Mail-Adresse"
	}
}

var (
	tagPattern = regexp.MustCompile(`<[^<>]{0,400}>`)
	spaceRun   = regexp.MustCompile(`\s+`)
)

// neutralise makes raw safe to process and keep: invalid UTF-8, HTML tags
// and entities, control, format (bidi, zero-width) and private-use
// characters are gone; the text is NFKC-normalised (full-width digits become
// digits, so masking sees them) and white space is collapsed. It never
// returns markup: '<' and '>' do not survive.
func neutralise(raw string) string {
	s := strings.ToValidUTF8(raw, " ")
	s = html.UnescapeString(s)
	s = tagPattern.ReplaceAllString(s, " ")
	s = norm.NFKC.String(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '<' || r == '>' || r == utf8.RuneError:
			return ' '
		case unicode.IsSpace(r), unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
			return -1
		case !unicode.IsPrint(r):
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(spaceRun.ReplaceAllString(s, " "))
}

// A masker finds one kind of data; keep may refuse a match (an ordinary
// word after "Passwort ist").
type masker struct {
	kind    Sensitive
	pattern *regexp.Regexp
	// group is the submatch to replace (0: the whole match).
	group int
	keep  func(match string) bool
}

// secretWords are ordinary words that may follow "mein Passwort ist" and are
// no password ("falsch", "abgelaufen").
var secretWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`falsch falscher richtig abgelaufen gesperrt weg verloren vergessen
		nicht kein keine zu so sehr ganz noch schon neu alt lang kurz ungültig gültig korrekt unbekannt leer
		angekommen da hier dort bei beim im in an auf aus mit ohne für per und oder aber wo wie was wann warum
		welche welcher welches mein meine meiner meinen ihr ihre dein deine der die das den dem ein eine einen
		einem einer sechsstellig vierstellig fünfstellig zwölfstellig gesperrt. falsch. abgelaufen. weg. vergessen.
		zu_kurz blockiert verschwunden unauffindbar geändert ändern zurückgesetzt gelöscht`) {
		secretWords[strings.TrimSuffix(w, ".")] = true
	}
}

// maskers run in order; each sees the text the earlier ones left.
var maskers = []masker{
	{kind: SensitiveEmail, pattern: regexp.MustCompile(`[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+`)},
	// A secret named as such: "Passwort ist X", "PIN: X", "Kennwort lautet X".
	{kind: SensitiveSecret, group: 1, pattern: regexp.MustCompile(
		`(?i)(?:passwort|passwords?|kennwort|initialpasswort|pin|puk|code|aktivierungscode|rücksetzcode|geheimzahl|zugangsdaten)` +
			`\s*(?:ist|lautet|lautete|heißt|heisst|war|wäre|=|:)\s*[„“"'‚‘»«]?([^\s„“"'‚‘»«]+)`),
		keep: func(m string) bool {
			w := strings.ToLower(strings.TrimRight(m, ".,;:!?)"))
			return secretWords[w] || w == "" || strings.HasPrefix(w, "[") // a placeholder is masked already
		}},
	// A code printed in four groups of four, as initial passwords are.
	{kind: SensitiveSecret, pattern: regexp.MustCompile(`(?i)\b[a-z2-9]{4}(?:[ -]?[a-z2-9]{4}){3}\b`),
		keep: func(m string) bool { return !strings.ContainsAny(m, "23456789") && m != strings.ToUpper(m) }},
	{kind: SensitiveIBAN, pattern: regexp.MustCompile(`(?i)\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,4})?\b`),
		keep: func(m string) bool { return countDigits(m) < 10 }},
	{kind: SensitiveKVNR, pattern: regexp.MustCompile(`(?i)\b[a-z][ -]?(?:\d[ -]?){8}\d\b`)},
	// A long token mixing letters and digits: activation codes, tokens.
	{kind: SensitiveSecret, pattern: regexp.MustCompile(`[\p{L}\p{N}_-]{12,}`),
		keep: func(m string) bool { return countDigits(m) == 0 || countDigits(m) == utf8.RuneCountInString(m) }},
	{kind: SensitiveDate, pattern: regexp.MustCompile(`\b\d{1,2} ?[./-] ?\d{1,2} ?[./-] ?(?:\d{4}|\d{2})\b|\b\d{4}-\d{1,2}-\d{1,2}\b`)},
	{kind: SensitiveDate, pattern: regexp.MustCompile(`(?i)\b\d{1,2}\.? ?(?:januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|jan|feb|mär|apr|jun|jul|aug|sept?|okt|nov|dez)\.? ?(?:\d{4}|'?\d{2})\b`)},
	{kind: SensitiveNumber, pattern: regexp.MustCompile(`\d(?:[ ./-]?\d){3,}`)},
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// mask replaces every piece of personal data in the neutralised text s by a
// placeholder and says which kinds it found, each once, in the order of
// maskers.
func mask(s string) (string, []Sensitive) {
	var found []Sensitive
	for _, m := range maskers {
		s = replaceMatches(s, m, func() {
			if !slices.Contains(found, m.kind) {
				found = append(found, m.kind)
			}
		})
	}
	return s, found
}

// replaceMatches replaces m's matches in s (its group, if it names one)
// unless m.keep refuses them, calling hit for each replacement.
func replaceMatches(s string, m masker, hit func()) string {
	idx := m.pattern.FindAllStringSubmatchIndex(s, -1)
	if len(idx) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range idx {
		start, end := loc[2*m.group], loc[2*m.group+1]
		if start < 0 || start < last {
			continue
		}
		if m.keep != nil && m.keep(s[start:end]) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(m.kind.placeholder())
		last = end
		hit()
	}
	b.WriteString(s[last:])
	return b.String()
}

// withoutPlaceholders is s with the placeholders of mask removed, for
// retrieval: "[Versichertennummer entfernt]" must not make a question about
// the KVNR.
func withoutPlaceholders(s string) string {
	for _, k := range []Sensitive{SensitiveKVNR, SensitiveIBAN, SensitiveDate, SensitiveNumber, SensitiveSecret, SensitiveEmail} {
		s = strings.ReplaceAll(s, k.placeholder(), " ")
	}
	return strings.TrimSpace(spaceRun.ReplaceAllString(s, " "))
}
