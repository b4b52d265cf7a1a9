package letter

import (
	"fmt"
	"strings"
	"time"
)

// germanMonths are the month names, January first.
var germanMonths = [12]string{
	"Januar", "Februar", "März", "April", "Mai", "Juni",
	"Juli", "August", "September", "Oktober", "November", "Dezember",
}

// germanDate formats t as "29. November 2026" in t's location.
func germanDate(t time.Time) string {
	return fmt.Sprintf("%d. %s %d", t.Day(), germanMonths[t.Month()-1], t.Year())
}

// germanDateTime formats t as "29. November 2026 um 14:03 Uhr".
func germanDateTime(t time.Time) string {
	return fmt.Sprintf("%s um %02d:%02d Uhr", germanDate(t), t.Hour(), t.Minute())
}

// groupPassword splits p into groups of four characters separated by one
// space: "ABCD EFGH JKLM".
func groupPassword(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p[i:min(i+4, len(p))])
	}
	return b.String()
}
