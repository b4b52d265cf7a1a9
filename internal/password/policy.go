package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Defaults and bounds of a Policy.
const (
	DefaultMinLength = 10  // also the lowest MinLength Validate accepts
	DefaultMaxLength = 128 // also the highest MaxLength Validate accepts
	DefaultMinScore  = 3

	// strengthPrefix is how many runes of a password the strength estimator
	// sees; zxcvbn's time grows steeply with the length of its input.
	strengthPrefix = 64
	// maxBytesPerRune bounds the bytes of input per rune of the normalised
	// password (NFKC composes at most three runes of up to four bytes into
	// one), so longer inputs are too long without normalising them.
	maxBytesPerRune = 16
)

// Policy decides whether a new password is acceptable. A zero field means
// its default; the zero Policy is the default policy.
type Policy struct {
	// MinLength is the fewest runes after normalisation (default 10). It can
	// be raised, not lowered.
	MinLength int
	// MaxLength is the most runes after normalisation (default and highest
	// 128).
	MaxLength int
	// MinScore is the lowest acceptable zxcvbn score, 1 to 4 (default 3).
	MinScore int
	// InsurerName is the name of the Krankenkasse; its words must not appear
	// in a password, like "pforte" and "krankenkasse".
	InsurerName string
}

// withDefaults returns p with zero fields set to their defaults.
func (p Policy) withDefaults() Policy {
	if p.MinLength == 0 {
		p.MinLength = DefaultMinLength
	}
	if p.MaxLength == 0 {
		p.MaxLength = DefaultMaxLength
	}
	if p.MinScore == 0 {
		p.MinScore = DefaultMinScore
	}
	return p
}

// Validate reports every problem with the policy at once; nil means the
// policy is usable.
func (p Policy) Validate() []error {
	var errs []error
	q := p.withDefaults()
	if q.MinLength < DefaultMinLength {
		errs = append(errs, fmt.Errorf("password: policy: min length %d is below %d", q.MinLength, DefaultMinLength))
	}
	if q.MaxLength > DefaultMaxLength {
		errs = append(errs, fmt.Errorf("password: policy: max length %d is above %d", q.MaxLength, DefaultMaxLength))
	}
	if q.MaxLength < q.MinLength {
		errs = append(errs, fmt.Errorf("password: policy: max length %d is below min length %d", q.MaxLength, q.MinLength))
	}
	if q.MinScore < 1 || q.MinScore > 4 {
		errs = append(errs, fmt.Errorf("password: policy: min score %d is outside 1 to 4", q.MinScore))
	}
	if !utf8.ValidString(p.InsurerName) || len(p.InsurerName) > 200 {
		errs = append(errs, fmt.Errorf("password: policy: insurer name must be valid UTF-8 of at most 200 bytes"))
	}
	return errs
}

// Check returns the reasons pw is refused for the person described by c, in
// the order of the Code constants; an empty result means pw is acceptable.
// See the package documentation for what each check does. Check never
// panics and its result depends only on p, pw and c.
func (p Policy) Check(pw string, c Context) []Reason {
	p = p.withDefaults()
	pw, early := p.screen(pw)
	if early != nil {
		return early
	}
	var reasons []Reason
	if utf8.RuneCountInString(pw) < p.MinLength {
		reasons = append(reasons, Reason{Code: TooShort, Limit: p.MinLength})
	}
	personal, service := contextWords(c, p.InsurerName)
	reasons = append(reasons, contentReasons(pw, personal, service)...)
	if len(reasons) == 0 && score(pw, personal, service) < p.MinScore {
		reasons = append(reasons, Reason{Code: TooWeak})
	}
	return reasons
}

// Strength returns the strength of pw for the page's meter, 0 to 4. It
// agrees with Check: a password Check accepts scores at least MinScore, one
// it refuses at most MinScore-1 (and 0 if it is invalid, too long, common or
// contains the person's data or the service's name).
func (p Policy) Strength(pw string, c Context) int {
	p = p.withDefaults()
	pw, early := p.screen(pw)
	if early != nil {
		return 0
	}
	personal, service := contextWords(c, p.InsurerName)
	if len(contentReasons(pw, personal, service)) > 0 {
		return 0
	}
	s := score(pw, personal, service)
	if utf8.RuneCountInString(pw) < p.MinLength {
		s = min(s, p.MinScore-1)
	}
	return max(s, 0)
}

// screen normalises pw and returns it, or the one reason that stops every
// other check: invalid UTF-8, control characters or an overlong password.
func (p Policy) screen(pw string) (string, []Reason) {
	if !utf8.ValidString(pw) {
		return "", []Reason{{Code: InvalidUTF8}}
	}
	if len(pw) > p.MaxLength*maxBytesPerRune {
		return "", []Reason{{Code: TooLong, Limit: p.MaxLength}}
	}
	pw = Normalize(pw)
	if strings.ContainsFunc(pw, unicode.IsControl) {
		return "", []Reason{{Code: ControlCharacters}}
	}
	if utf8.RuneCountInString(pw) > p.MaxLength {
		return "", []Reason{{Code: TooLong, Limit: p.MaxLength}}
	}
	return pw, nil
}

// contentReasons returns Common, ContainsPersonalData and
// ContainsServiceName as they apply to the normalised pw, given the folded
// personal and service words from contextWords.
func contentReasons(pw string, personal, service []string) []Reason {
	var reasons []Reason
	if isCommon(pw) {
		reasons = append(reasons, Reason{Code: Common})
	}
	loose, all := passwordForms(pw)
	if containsAny(loose, all, personal) {
		reasons = append(reasons, Reason{Code: ContainsPersonalData})
	}
	if containsAny(loose, all, service) {
		reasons = append(reasons, Reason{Code: ContainsServiceName})
	}
	return reasons
}

// score returns zxcvbn's score for the first strengthPrefix runes of the
// normalised pw, with the personal and service words as user inputs.
func score(pw string, personal, service []string) int {
	if n := 0; utf8.RuneCountInString(pw) > strengthPrefix {
		for i := range pw {
			if n == strengthPrefix {
				pw = pw[:i]
				break
			}
			n++
		}
	}
	inputs := make([]string, 0, len(personal)+len(service))
	inputs = append(append(inputs, personal...), service...)
	return zxcvbn.PasswordStrength(asciiForStrength(pw), inputs).Score
}

// translitBothCases is translit for upper and lower case.
var translitBothCases = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ẞ", "SS")

// strengthPool is the order in which asciiForStrength hands out stand-ins:
// the printable ASCII characters without space, 37 code points apart, so that
// stand-ins next to each other never form a sequence.
var strengthPool = func() []byte {
	const first, n = '!', '~' - '!' + 1
	pool := make([]byte, 0, n)
	for i := range n {
		pool = append(pool, byte(first+(i*37)%n))
	}
	return pool
}()

// asciiForStrength returns the password as zxcvbn should see it. zxcvbn
// indexes passwords by byte and scores most passwords with a multi-byte
// character 0 (guesses 0): "Пароль для Кассы 77!" and random strings with
// umlauts would be refused as weak. So umlauts and ß are transliterated, as
// the user inputs are, and every other non-ASCII rune is replaced by an ASCII
// character the password does not contain, the same rune by the same
// character, so that repeats stay repeats and nothing new matches. The
// password has at most strengthPrefix runes, fewer than the 94 characters
// available, so the pool never runs out.
func asciiForStrength(pw string) string {
	pw = translitBothCases.Replace(pw)
	ascii := true
	var used [128]bool
	for _, r := range pw {
		if r < utf8.RuneSelf {
			used[r] = true
		} else {
			ascii = false
		}
	}
	if ascii {
		return pw
	}
	standIn := map[rune]byte{}
	next := 0
	var b strings.Builder
	for _, r := range pw {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		c, ok := standIn[r]
		if !ok {
			for next < len(strengthPool) && used[strengthPool[next]] {
				next++
			}
			if next == len(strengthPool) {
				c = '?' // unreachable for passwords of strengthPrefix runes
			} else {
				c = strengthPool[next]
				used[c] = true
			}
			standIn[r] = c
		}
		b.WriteByte(c)
	}
	return b.String()
}
