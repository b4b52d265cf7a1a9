// Package lang holds how Pforte speaks to persons: German local time for
// every date and time a person reads (letters, pages, notices, the command
// line), in the words of their language.
//
// Every time a person reads is German local time, Europe/Berlin with its
// daylight saving, from the zone database embedded in the binary (a
// container without one prints the same). Times are stored and compared in
// UTC; only what is shown is local.
package lang

import (
	"fmt"
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

// germanMonths are the month names, January first.
var germanMonths = [12]string{
	"Januar", "Februar", "März", "April", "Mai", "Juni",
	"Juli", "August", "September", "Oktober", "November", "Dezember",
}

// Date is "29. November 2026", in German local time.
func Date(t time.Time) string {
	t = t.In(Berlin)
	return fmt.Sprintf("%d. %s %d", t.Day(), germanMonths[t.Month()-1], t.Year())
}

// DateTime is "29. November 2026 um 14:03 Uhr", in German local time.
func DateTime(t time.Time) string {
	l := t.In(Berlin)
	return fmt.Sprintf("%s um %02d:%02d Uhr", Date(t), l.Hour(), l.Minute())
}

// Short is "29.11.2026, 14:03 Uhr", in German local time (tables, lists).
func Short(t time.Time) string {
	return t.In(Berlin).Format("02.01.2006, 15:04") + " Uhr"
}

// EndOfDay is the last instant of t's day in German local time: what a
// validity ends with, so that "gültig bis 29. Dezember" holds the whole day.
func EndOfDay(t time.Time) time.Time {
	l := t.In(Berlin)
	next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, Berlin)
	return next.Add(-time.Microsecond).UTC()
}
