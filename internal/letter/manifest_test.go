package letter

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestManifestRoundTrip(t *testing.T) {
	entries := []ManifestEntry{
		{LetterID: "B-001", KVNR: "X110411675", Kind: KindPassword, FirstPage: 1, PageCount: 1,
			AddressLines: []string{"Frau Dr. Änne Müller", "c/o Café €, \"Eck\"", "Straße 5", "80331 München"}},
		{LetterID: "B-002", KVNR: "", Kind: KindAddressChanged, FirstPage: 2, PageCount: 2,
			AddressLines: []string{"Herrn Jürgen Groß", "Postfach 12 34", "10115 Berlin"}},
	}
	var buf bytes.Buffer
	if err := WriteManifest(&buf, entries); err != nil {
		t.Fatalf("WriteManifest: %v", err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("read manifest back: %v", err)
	}
	want := [][]string{
		{"letter_id", "kvnr", "kind", "address_lines", "first_page", "page_count"},
		{"B-001", "X110411675", "password", "Frau Dr. Änne Müller | c/o Café €, \"Eck\" | Straße 5 | 80331 München", "1", "1"},
		{"B-002", "", "address_changed", "Herrn Jürgen Groß | Postfach 12 34 | 10115 Berlin", "2", "2"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("manifest rows (-want +got):\n%s", diff)
	}
	for i, row := range rows[1:] {
		if got := strings.Split(row[3], addressSep); !cmp.Equal(got, entries[i].AddressLines) {
			t.Errorf("row %d address lines = %q, want %q", i+1, got, entries[i].AddressLines)
		}
	}
}

func TestManifestFromBatch(t *testing.T) {
	var pdf bytes.Buffer
	res, err := testRenderer(t).RenderBatch(&pdf, []Letter{testLetter(KindPassword)})
	if err != nil {
		t.Fatalf("RenderBatch: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteManifest(&buf, res.Entries); err != nil {
		t.Fatalf("WriteManifest: %v", err)
	}
	want := "letter_id,kvnr,kind,address_lines,first_page,page_count\r\n" +
		"PB-2026-000123,X110411675,password,Frau Dr. Änne Müller-Lüdenscheidt | c/o Café Größenwahn € | Straße des 17. Juni 5 | 80331 München,1,1\r\n"
	if got := buf.String(); got != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestManifestWriteError(t *testing.T) {
	err := WriteManifest(failWriter{}, []ManifestEntry{{LetterID: "B-001", Kind: KindPassword}})
	if err == nil || !strings.HasPrefix(err.Error(), "letter: write manifest: ") {
		t.Fatalf("WriteManifest = %v, want a wrapped write error", err)
	}
}
