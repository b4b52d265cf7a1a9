package lang

import (
	"strconv"
	"time"
	_ "time/tzdata" // Europe/Berlin without relying on the host's zone database
)

// Berlin is German local time.
var Berlin = mustLoad("Europe/Berlin")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("lang: " + err.Error()) // the embedded database has it
	}
	return loc
}

// The month names, January first. They are the languages' data, not texts
// to translate, so they live here and not in the catalogues.
var (
	germanMonths = [12]string{
		"Januar", "Februar", "März", "April", "Mai", "Juni",
		"Juli", "August", "September", "Oktober", "November", "Dezember",
	}
	englishMonths = [12]string{
		"January", "February", "March", "April", "May", "June",
		"July", "August", "September", "October", "November", "December",
	}
)

func (l Language) month(m time.Month) string {
	if l.or(German) == English {
		return englishMonths[m-1]
	}
	return germanMonths[m-1]
}

// shortLayout is the numeric or abbreviated date of Short.
func (l Language) shortLayout() string {
	if l.or(German) == English {
		return "2 Jan 2006"
	}
	return "02.01.2006"
}

// Date is "29. November 2026" in German and "29 November 2026" in English,
// in German local time.
func (l Language) Date(t time.Time) string {
	t = t.In(Berlin)
	return l.T("time.date", strconv.Itoa(t.Day()), l.month(t.Month()), strconv.Itoa(t.Year()))
}

// DateTime is "29. November 2026 um 14:03 Uhr" in German and
// "29 November 2026 at 14:03" in English, in German local time.
func (l Language) DateTime(t time.Time) string {
	return l.T("time.date_time", l.Date(t), t.In(Berlin).Format("15:04"))
}

// Short is "29.11.2026, 14:03 Uhr" in German and "29 Nov 2026, 14:03" in
// English, in German local time (tables, lists).
func (l Language) Short(t time.Time) string {
	t = t.In(Berlin)
	return l.T("time.short", t.Format(l.shortLayout()), t.Format("15:04"))
}

// Date is German.Date: "29. November 2026".
func Date(t time.Time) string { return German.Date(t) }

// DateTime is German.DateTime: "29. November 2026 um 14:03 Uhr".
func DateTime(t time.Time) string { return German.DateTime(t) }

// Short is German.Short: "29.11.2026, 14:03 Uhr".
func Short(t time.Time) string { return German.Short(t) }

// EndOfDay is the last instant of t's day in German local time: what a
// validity ends with, so that "gültig bis 29. Dezember" holds the whole day.
func EndOfDay(t time.Time) time.Time {
	l := t.In(Berlin)
	next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, Berlin)
	return next.Add(-time.Microsecond).UTC()
}
