package registry

import (
	"errors"
	"fmt"
)

// ErrInvalidKVNR is wrapped by every error CheckKVNR returns.
var ErrInvalidKVNR = errors.New("invalid kvnr")

// kvnrLen is the length of the unchangeable part of the
// Krankenversichertennummer: one letter, eight digits, one check digit.
const kvnrLen = 10

// ValidKVNR reports whether s is a KVNR with a correct check digit.
func ValidKVNR(s string) bool { return CheckKVNR(s) == nil }

// CheckKVNR checks that s is one capital letter A–Z, eight ASCII digits and the
// check digit defined in DESIGN.md section 2. The error wraps ErrInvalidKVNR and
// never contains s.
func CheckKVNR(s string) error {
	if p := kvnrProblem(s); p != "" {
		return fmt.Errorf("registry: kvnr: %w: %s", ErrInvalidKVNR, p)
	}
	return nil
}

// kvnrProblem says what is wrong with a KVNR, or returns "".
func kvnrProblem(s string) string {
	if p := kvnrShapeProblem(s); p != "" {
		return p
	}
	if s[kvnrLen-1] != kvnrCheckDigit(s[:kvnrLen-1]) {
		return "wrong check digit"
	}
	return ""
}

// kvnrShapeProblem checks the pattern [A-Z][0-9]{9}, ignoring the check digit's
// value, and says what is wrong, or returns "".
func kvnrShapeProblem(s string) string {
	if len(s) != kvnrLen {
		return "want 10 characters"
	}
	if !isUpper(s[0]) {
		return "must start with a capital letter A-Z"
	}
	if !allDigits(s[1:]) {
		return "characters 2 to 10 must be digits 0-9"
	}
	return ""
}

// KVNRCheckDigit returns the check digit (an ASCII digit) for the first nine
// characters of a KVNR: a capital letter and eight digits.
func KVNRCheckDigit(prefix9 string) (byte, error) {
	if len(prefix9) != kvnrLen-1 {
		return 0, fmt.Errorf("registry: kvnr check digit: %w: want 9 characters", ErrInvalidKVNR)
	}
	if !isUpper(prefix9[0]) {
		return 0, fmt.Errorf("registry: kvnr check digit: %w: must start with a capital letter A-Z", ErrInvalidKVNR)
	}
	if !allDigits(prefix9[1:]) {
		return 0, fmt.Errorf("registry: kvnr check digit: %w: characters 2 to 9 must be digits 0-9", ErrInvalidKVNR)
	}
	return kvnrCheckDigit(prefix9), nil
}

// kvnrCheckDigit computes the check digit of a prefix whose shape is already
// checked. The letter becomes its two-digit position in the alphabet (A=01 …
// Z=26); the resulting ten digits are weighted 1,2,1,2,… from the left, each
// product is replaced by its digit sum, and the check digit is the sum mod 10.
func kvnrCheckDigit(prefix9 string) byte {
	pos := int(prefix9[0]-'A') + 1
	digits := [10]int{pos / 10, pos % 10}
	for i := 1; i < 9; i++ {
		digits[i+1] = int(prefix9[i] - '0')
	}
	sum := 0
	for i, d := range digits {
		p := d * (1 + i%2)
		sum += p/10 + p%10
	}
	return byte('0' + sum%10)
}

// MaskKVNR shortens a KVNR for logs and messages: the letter, the next two digits
// and the check digit stay, everything else becomes '*' ("X11******5"). Anything
// that is not ten ASCII bytes is masked completely.
func MaskKVNR(k string) string {
	if len(k) != kvnrLen {
		return "**********"
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "**********"
		}
	}
	return k[:3] + "******" + k[9:]
}
