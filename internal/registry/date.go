package registry

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidBirthDate is wrapped by every error ParseBirthDate returns.
var ErrInvalidBirthDate = errors.New("invalid birth date")

// MinBirthYear is the earliest birth year accepted.
const MinBirthYear = 1870

// Precision says which part of a BirthDate is known.
type Precision uint8

// The precisions of a birth date, from least to most precise.
const (
	PrecisionNone  Precision = iota // the zero BirthDate: nothing known
	PrecisionYear                   // "YYYY"
	PrecisionMonth                  // "YYYY-MM"
	PrecisionDay                    // "YYYY-MM-DD"
)

// String returns "none", "year", "month" or "day".
func (p Precision) String() string {
	switch p {
	case PrecisionYear:
		return "year"
	case PrecisionMonth:
		return "month"
	case PrecisionDay:
		return "day"
	}
	return "none"
}

// BirthDate is a possibly partial birth date, as kept in the master data when
// only the year, or the year and month, of a birth is known. The zero value is
// an unknown date that matches nothing.
type BirthDate struct {
	year  int16
	month uint8 // 0 when unknown
	day   uint8 // 0 when unknown
}

// NewBirthDate returns the full date year-month-day. It does not check the
// date; use ParseBirthDate for input.
func NewBirthDate(year int, month time.Month, day int) BirthDate {
	return BirthDate{year: int16(year), month: uint8(month), day: uint8(day)}
}

// ParseBirthDate parses exactly "YYYY-MM-DD", "YYYY-MM" or "YYYY". The date must
// exist in the calendar, the year must not be before MinBirthYear, and the known
// part must not lie after the calendar day of today (in today's location): a year
// is accepted up to the current year, a month up to the current month. The error
// wraps ErrInvalidBirthDate and never contains s.
func ParseBirthDate(s string, today time.Time) (BirthDate, error) {
	d, p := parseBirthDate(s, today)
	if p != "" {
		return BirthDate{}, fmt.Errorf("registry: birth date: %w: %s", ErrInvalidBirthDate, p)
	}
	return d, nil
}

// parseBirthDate parses a birth date or says what is wrong with it.
func parseBirthDate(s string, today time.Time) (BirthDate, string) {
	const format = "want YYYY-MM-DD, YYYY-MM or YYYY"
	var d BirthDate
	switch len(s) {
	case 4, 7, 10:
	default:
		return BirthDate{}, format
	}
	y, ok := digits(s[:4])
	if !ok {
		return BirthDate{}, format
	}
	d.year = int16(y)
	if len(s) >= 7 {
		m, ok := digits(s[5:7])
		if s[4] != '-' || !ok {
			return BirthDate{}, format
		}
		if m < 1 || m > 12 {
			return BirthDate{}, "month out of range"
		}
		d.month = uint8(m)
	}
	if len(s) == 10 {
		dd, ok := digits(s[8:10])
		if s[7] != '-' || !ok {
			return BirthDate{}, format
		}
		if dd < 1 || dd > daysIn(y, time.Month(d.month)) {
			return BirthDate{}, "day out of range"
		}
		d.day = uint8(dd)
	}
	if y < MinBirthYear {
		return BirthDate{}, "year before 1870"
	}
	ty, tm, td := today.Date()
	if compareKnown(d, BirthDate{year: int16(ty), month: uint8(tm), day: uint8(td)}) > 0 {
		return BirthDate{}, "in the future"
	}
	return d, ""
}

// digits parses a string of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// daysIn returns the number of days of month m in year y.
func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// compareKnown compares a and b on the part known in both: -1, 0 or +1.
func compareKnown(a, b BirthDate) int {
	p := min(a.Precision(), b.Precision())
	if c := cmpInt(int(a.year), int(b.year)); c != 0 || p < PrecisionMonth {
		return c
	}
	if c := cmpInt(int(a.month), int(b.month)); c != 0 || p < PrecisionDay {
		return c
	}
	return cmpInt(int(a.day), int(b.day))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IsZero reports whether nothing of the date is known.
func (d BirthDate) IsZero() bool { return d.year == 0 }

// Precision says which part of the date is known.
func (d BirthDate) Precision() Precision {
	switch {
	case d.year == 0:
		return PrecisionNone
	case d.month == 0:
		return PrecisionYear
	case d.day == 0:
		return PrecisionMonth
	}
	return PrecisionDay
}

// Year returns the year, or 0 for the zero BirthDate.
func (d BirthDate) Year() int { return int(d.year) }

// Month returns the month, or 0 when it is not known.
func (d BirthDate) Month() time.Month { return time.Month(d.month) }

// Day returns the day of the month, or 0 when it is not known.
func (d BirthDate) Day() int { return int(d.day) }

// String returns the canonical form: "YYYY-MM-DD", "YYYY-MM" or "YYYY", and ""
// for the zero BirthDate. ParseBirthDate(d.String()) gives d back.
func (d BirthDate) String() string {
	var b [10]byte
	n := 0
	switch d.Precision() {
	case PrecisionNone:
		return ""
	case PrecisionYear:
		n = 4
	case PrecisionMonth:
		n = 7
	case PrecisionDay:
		n = 10
	}
	y := int(d.year)
	b[0], b[1], b[2], b[3] = byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[4], b[5], b[6] = '-', byte('0'+d.month/10), byte('0'+d.month%10)
	b[7], b[8], b[9] = '-', byte('0'+d.day/10), byte('0'+d.day%10)
	return string(b[:n])
}

// Matches reports whether d and other agree on the part known in both: a
// partial date from the master data ("1980-05") matches a full date from an ID
// card ("1980-05-17") when year and month are equal. A zero date matches
// nothing.
func (d BirthDate) Matches(other BirthDate) bool {
	if d.IsZero() || other.IsZero() {
		return false
	}
	return compareKnown(d, other) == 0
}

// AgeAt returns the age in completed years on the calendar day of t (in t's
// location). ok is false unless the date is full. A person born on 29 February
// completes a year on 1 March in years without 29 February.
func (d BirthDate) AgeAt(t time.Time) (years int, ok bool) {
	if d.Precision() != PrecisionDay {
		return 0, false
	}
	y, m, day := t.Date()
	years = y - int(d.year)
	if m < time.Month(d.month) || m == time.Month(d.month) && day < int(d.day) {
		years--
	}
	return years, true
}
