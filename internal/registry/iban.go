package registry

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidIBAN is wrapped by every error CheckIBAN and GermanIBAN return.
var ErrInvalidIBAN = errors.New("invalid iban")

// ibanLengths holds the IBAN length of the SEPA countries. An IBAN of a country
// not listed here must be 15 to 34 characters long.
var ibanLengths = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
	"DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
	"GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27,
	"LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18,
	"NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "VA": 22,
}

const (
	ibanMinLen = 15
	ibanMaxLen = 34
)

// CheckIBAN validates an IBAN and returns it in electronic form: spaces removed,
// letters upper case. It checks the country code, the length for the country,
// that the BBAN is alphanumeric (numeric for DE), that the check digits are in
// 02…98, and the ISO 7064 MOD 97-10 checksum. The error wraps ErrInvalidIBAN and
// never contains s.
func CheckIBAN(s string) (normalized string, err error) {
	n, p := checkIBAN(s)
	if p != "" {
		return "", fmt.Errorf("registry: iban: %w: %s", ErrInvalidIBAN, p)
	}
	return n, nil
}

// checkIBAN returns the normalized IBAN, or says what is wrong with it.
func checkIBAN(s string) (normalized, problem string) {
	n := normalizeIBAN(s)
	if len(n) < 4 {
		return "", "too short"
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", "only letters A-Z, digits and spaces are allowed"
		}
	}
	if !isUpper(n[0]) || !isUpper(n[1]) {
		return "", "must start with a country code"
	}
	if !isDigit(n[2]) || !isDigit(n[3]) {
		return "", "characters 3 and 4 must be check digits"
	}
	if want, ok := ibanLengths[n[:2]]; ok {
		if len(n) != want {
			return "", fmt.Sprintf("an IBAN of %s has %d characters", n[:2], want)
		}
	} else if len(n) < ibanMinLen || len(n) > ibanMaxLen {
		return "", "want 15 to 34 characters"
	}
	if n[:2] == "DE" {
		for i := 4; i < len(n); i++ {
			if !isDigit(n[i]) {
				return "", "a German BBAN has only digits"
			}
		}
	}
	if cd := int(n[2]-'0')*10 + int(n[3]-'0'); cd < 2 || cd > 98 {
		return "", "check digits must be 02 to 98"
	}
	if mod97(n[4:], n[:4]) != 1 {
		return "", "wrong check digits"
	}
	return n, ""
}

// normalizeIBAN removes ASCII spaces and upper-cases ASCII letters. It returns s
// itself when nothing changes, so already normalized input does not allocate.
func normalizeIBAN(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || (s[i] >= 'a' && s[i] <= 'z') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mod97 returns the value of the digits of a followed by those of b modulo 97,
// letters counting as the two digits 10 (A) to 35 (Z). It works digit by digit,
// so no big integers are needed. Every byte must be A-Z or 0-9.
func mod97(a, b string) int {
	r := 0
	for _, s := range [2]string{a, b} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if isDigit(c) {
				r = (r*10 + int(c-'0')) % 97
			} else {
				r = (r*100 + int(c-'A') + 10) % 97
			}
		}
	}
	return r
}

// GermanIBAN builds the German IBAN of an 8-digit bank code (Bankleitzahl) and an
// account number of up to 10 digits (padded with leading zeros), computing the
// check digits.
func GermanIBAN(bankCode, account string) (string, error) {
	if len(bankCode) != 8 || !allDigits(bankCode) {
		return "", fmt.Errorf("registry: german iban: %w: bank code must be 8 digits", ErrInvalidIBAN)
	}
	if len(account) == 0 || len(account) > 10 || !allDigits(account) {
		return "", fmt.Errorf("registry: german iban: %w: account number must be 1 to 10 digits", ErrInvalidIBAN)
	}
	var b [22]byte
	copy(b[:], "DE00")
	copy(b[4:], bankCode)
	pad := 10 - len(account)
	for i := 0; i < pad; i++ {
		b[12+i] = '0'
	}
	copy(b[12+pad:], account)
	cd := 98 - mod97(string(b[4:]), "DE00")
	b[2] = byte('0' + cd/10)
	b[3] = byte('0' + cd%10)
	return string(b[:]), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
