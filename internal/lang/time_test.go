package lang

import (
	"testing"
	"time"
)

// TestTimesAcrossDaylightSaving: what a person reads is German local time,
// CET in winter and CEST in summer, also around the changes.
func TestTimesAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		utc                   time.Time
		date, dateTime, short string
	}{
		// Winter: UTC+1.
		{time.Date(2026, 11, 29, 9, 3, 0, 0, time.UTC), "29. November 2026", "29. November 2026 um 10:03 Uhr", "29.11.2026, 10:03 Uhr"},
		// The last minute before the spring change (02:00 CET → 03:00 CEST).
		{time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), "29. März 2026", "29. März 2026 um 01:59 Uhr", "29.03.2026, 01:59 Uhr"},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "29. März 2026", "29. März 2026 um 03:00 Uhr", "29.03.2026, 03:00 Uhr"},
		// Summer: UTC+2.
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "1. Juli 2026", "1. Juli 2026 um 14:00 Uhr", "01.07.2026, 14:00 Uhr"},
		// Autumn change (03:00 CEST → 02:00 CET): 02:30 happens twice.
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), "25. Oktober 2026", "25. Oktober 2026 um 02:30 Uhr", "25.10.2026, 02:30 Uhr"},
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "25. Oktober 2026", "25. Oktober 2026 um 02:30 Uhr", "25.10.2026, 02:30 Uhr"},
		// Late in the UTC day is the next day in Germany.
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "1. Januar 2027", "1. Januar 2027 um 00:30 Uhr", "01.01.2027, 00:30 Uhr"},
	}
	for _, tt := range tests {
		if got := Date(tt.utc); got != tt.date {
			t.Errorf("Date(%v) = %q, want %q", tt.utc, got, tt.date)
		}
		if got := DateTime(tt.utc); got != tt.dateTime {
			t.Errorf("DateTime(%v) = %q, want %q", tt.utc, got, tt.dateTime)
		}
		if got := Short(tt.utc); got != tt.short {
			t.Errorf("Short(%v) = %q, want %q", tt.utc, got, tt.short)
		}
	}
}

// TestEnglishTimesAcrossDaylightSaving: English dates and times are German
// local time too, with English words, also around the changes.
func TestEnglishTimesAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		utc                   time.Time
		date, dateTime, short string
	}{
		// Winter: UTC+1.
		{time.Date(2026, 11, 29, 13, 3, 0, 0, time.UTC), "29 November 2026", "29 November 2026 at 14:03", "29 Nov 2026, 14:03"},
		// The last minute before the spring change (02:00 CET → 03:00 CEST).
		{time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), "29 March 2026", "29 March 2026 at 01:59", "29 Mar 2026, 01:59"},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "29 March 2026", "29 March 2026 at 03:00", "29 Mar 2026, 03:00"},
		// Summer: UTC+2.
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "1 July 2026", "1 July 2026 at 14:00", "1 Jul 2026, 14:00"},
		// Autumn change (03:00 CEST → 02:00 CET): 02:30 happens twice.
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), "25 October 2026", "25 October 2026 at 02:30", "25 Oct 2026, 02:30"},
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "25 October 2026", "25 October 2026 at 02:30", "25 Oct 2026, 02:30"},
		// Late in the UTC day is the next day in Germany, whatever the
		// time's own location.
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "1 January 2027", "1 January 2027 at 00:30", "1 Jan 2027, 00:30"},
		{time.Date(2026, 12, 31, 18, 30, 0, 0, time.FixedZone("EST", -5*3600)), "1 January 2027", "1 January 2027 at 00:30", "1 Jan 2027, 00:30"},
	}
	for _, tt := range tests {
		if got := English.Date(tt.utc); got != tt.date {
			t.Errorf("Date(%v) = %q, want %q", tt.utc, got, tt.date)
		}
		if got := English.DateTime(tt.utc); got != tt.dateTime {
			t.Errorf("DateTime(%v) = %q, want %q", tt.utc, got, tt.dateTime)
		}
		if got := English.Short(tt.utc); got != tt.short {
			t.Errorf("Short(%v) = %q, want %q", tt.utc, got, tt.short)
		}
	}
}

// TestGermanMethodsAreThePackageFunctions: lang.Date and its siblings are
// German's methods.
func TestGermanMethodsAreThePackageFunctions(t *testing.T) {
	for _, at := range []time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2027, 1, 9, 23, 5, 0, 0, time.UTC)} {
		if Date(at) != German.Date(at) || DateTime(at) != German.DateTime(at) || Short(at) != German.Short(at) {
			t.Errorf("%v: package functions %q %q %q, methods %q %q %q", at, Date(at), DateTime(at), Short(at),
				German.Date(at), German.DateTime(at), German.Short(at))
		}
	}
}

func TestEndOfDay(t *testing.T) {
	tests := []struct{ in, want time.Time }{
		// Winter: the day ends at 23:00 UTC.
		{time.Date(2026, 12, 29, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 29, 22, 59, 59, 999999000, time.UTC)},
		// Late UTC evening is the next German day.
		{time.Date(2026, 12, 29, 23, 30, 0, 0, time.UTC), time.Date(2026, 12, 30, 22, 59, 59, 999999000, time.UTC)},
		// Summer: 22:00 UTC.
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 21, 59, 59, 999999000, time.UTC)},
		// The day of the spring change has 23 hours, of the autumn change 25.
		{time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 21, 59, 59, 999999000, time.UTC)},
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 22, 59, 59, 999999000, time.UTC)},
	}
	for _, tt := range tests {
		got := EndOfDay(tt.in)
		if !got.Equal(tt.want) {
			t.Errorf("EndOfDay(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if Date(got) != Date(tt.in) {
			t.Errorf("EndOfDay(%v) is on %s, want %s", tt.in, Date(got), Date(tt.in))
		}
	}
}
