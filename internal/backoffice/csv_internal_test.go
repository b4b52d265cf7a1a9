package backoffice

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// TestCSVSafe: no cell of the export starts with a character a spreadsheet
// reads as the start of a formula.
func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1+1":                     "'+1+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"\rx":                      "'\rx",
		"staff:1":                  "staff:1",
		"":                         "",
		`{"reason":"=1"}`:          `{"reason":"=1"}`,
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
	row := csvRow(store.AuditEntry{Seq: 7, Time: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), Actor: "=cmd", Event: "staff.x",
		Subject: "-1", ClientIP: "@home", Details: []byte(`{}`)})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(row); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	cells, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		if c != "" && (c[0] == '=' || c[0] == '+' || c[0] == '-' || c[0] == '@') {
			t.Errorf("cell %q starts a formula", c)
		}
	}
}
