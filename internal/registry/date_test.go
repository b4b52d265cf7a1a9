package registry

import (
	"errors"
	"testing"
	"time"
)

var testToday = time.Date(2026, time.March, 15, 10, 0, 0, 0, time.UTC)

func TestParseBirthDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Precision
		wantErr bool
	}{
		{"1980-05-17", PrecisionDay, false},
		{"1980-05", PrecisionMonth, false},
		{"1980", PrecisionYear, false},
		{"2000-02-29", PrecisionDay, false},
		{"1870-01-01", PrecisionDay, false},
		{"2026-03-15", PrecisionDay, false},
		{"2026-03", PrecisionMonth, false},
		{"2026", PrecisionYear, false},
		{"2026-03-16", 0, true}, // tomorrow
		{"2026-04", 0, true},
		{"2027", 0, true},
		{"1869-12-31", 0, true},
		{"1869", 0, true},
		{"1900-02-29", 0, true},
		{"2001-02-29", 0, true},
		{"1980-04-31", 0, true},
		{"1980-13", 0, true},
		{"1980-00", 0, true},
		{"1980-05-00", 0, true},
		{"1980-5-17", 0, true},
		{"17.05.1980", 0, true},
		{"1980/05/17", 0, true},
		{"1980-05-17T00:00:00Z", 0, true},
		{" 1980", 0, true},
		{"198a", 0, true},
		{"", 0, true},
		{"0000", 0, true},
		{"１９８０", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBirthDate(tt.in, testToday)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBirthDate(%q) = %v, %v; want error %v", tt.in, got, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidBirthDate) {
					t.Errorf("error %v does not wrap ErrInvalidBirthDate", err)
				}
				if !got.IsZero() {
					t.Errorf("ParseBirthDate(%q) = %v with an error, want zero", tt.in, got)
				}
				return
			}
			if got.Precision() != tt.want {
				t.Errorf("Precision() = %v, want %v", got.Precision(), tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseBirthDateUsesTodaysLocation(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	// 23:30 UTC on 14 March is already 15 March in Berlin.
	now := time.Date(2026, time.March, 14, 23, 30, 0, 0, time.UTC).In(berlin)
	if _, err := ParseBirthDate("2026-03-15", now); err != nil {
		t.Errorf("ParseBirthDate(today in Berlin) = %v, want nil", err)
	}
}

func TestBirthDateMatches(t *testing.T) {
	parse := func(s string) BirthDate {
		t.Helper()
		if s == "" {
			return BirthDate{}
		}
		d, err := ParseBirthDate(s, testToday)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"1980-05-17", "1980-05-17", true},
		{"1980-05-17", "1980-05-18", false},
		{"1980-05", "1980-05-17", true},
		{"1980-05", "1980-06-17", false},
		{"1980", "1980-12-31", true},
		{"1980", "1981-01-01", false},
		{"1980", "1980-07", true},
		{"1980-07", "1980-08", false},
		{"", "1980-05-17", false},
		{"", "", false},
	}
	for _, tt := range tests {
		a, b := parse(tt.a), parse(tt.b)
		if got := a.Matches(b); got != tt.want {
			t.Errorf("%q.Matches(%q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := b.Matches(a); got != tt.want {
			t.Errorf("%q.Matches(%q) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestBirthDateAgeAt(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		birth  BirthDate
		at     time.Time
		want   int
		wantOK bool
	}{
		{NewBirthDate(2011, time.March, 15), day(2026, time.March, 14), 14, true},
		{NewBirthDate(2011, time.March, 15), day(2026, time.March, 15), 15, true},
		{NewBirthDate(2011, time.March, 15), day(2026, time.December, 31), 15, true},
		{NewBirthDate(2008, time.February, 29), day(2023, time.February, 28), 14, true},
		{NewBirthDate(2008, time.February, 29), day(2023, time.March, 1), 15, true},
		{NewBirthDate(2008, time.February, 29), day(2024, time.February, 29), 16, true},
		{NewBirthDate(2026, time.March, 15), day(2026, time.March, 15), 0, true},
		{BirthDate{year: 2011}, day(2026, time.March, 15), 0, false},
		{BirthDate{year: 2011, month: 3}, day(2026, time.March, 15), 0, false},
		{BirthDate{}, day(2026, time.March, 15), 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.birth.AgeAt(tt.at)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%v.AgeAt(%v) = %d, %v; want %d, %v", tt.birth, tt.at.Format(time.DateOnly), got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseBirthDate(f *testing.F) {
	for _, s := range []string{"1980-05-17", "1980-05", "1980", "2000-02-29", "", "2026-03-16", "1980-5-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseBirthDate(s, testToday)
		if err != nil {
			if !d.IsZero() || !errors.Is(err, ErrInvalidBirthDate) {
				t.Fatalf("ParseBirthDate(%q) = %v, %v", s, d, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseBirthDate(%q).String() = %q", s, d.String())
		}
		if !d.Matches(d) {
			t.Fatalf("%q does not match itself", s)
		}
		if d.Year() < MinBirthYear || d.Year() > testToday.Year() {
			t.Fatalf("ParseBirthDate(%q) accepted year %d", s, d.Year())
		}
		if d.Precision() == PrecisionDay {
			tm := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
			if tm.Day() != d.Day() || tm.After(testToday) {
				t.Fatalf("ParseBirthDate(%q) accepted a non-date or future date", s)
			}
			if age, ok := d.AgeAt(testToday); !ok || age < 0 {
				t.Fatalf("AgeAt = %d, %v", age, ok)
			}
		}
	})
}
