package letter

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ManifestEntry is one letter of a batch as the print service sees it.
type ManifestEntry struct {
	LetterID     string
	KVNR         string // what the print service's system matches; may be empty
	Kind         Kind
	AddressLines []string
	FirstPage    int // 1-based page of the batch PDF where the letter starts
	PageCount    int
}

// manifestHeader is the first row of every manifest.
var manifestHeader = []string{"letter_id", "kvnr", "kind", "address_lines", "first_page", "page_count"}

// addressSep joins the address lines in one column. Address lines never
// contain it in practice; a line that does stays readable, only splitting the
// column back into lines becomes ambiguous.
const addressSep = " | "

// WriteManifest writes entries as CSV (UTF-8, comma separated, CRLF line ends
// as RFC 4180 asks, one header row) with the columns
//
//	letter_id,kvnr,kind,address_lines,first_page,page_count
//
// kind is Kind.String and address_lines are joined with " | ". The manifest
// holds personal data (KVNR, names, addresses): store it, transfer it and
// delete it like the letters themselves, and never log it.
func WriteManifest(w io.Writer, entries []ManifestEntry) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(manifestHeader); err != nil {
		return fmt.Errorf("letter: write manifest: %w", err)
	}
	for _, e := range entries {
		row := []string{
			e.LetterID,
			e.KVNR,
			e.Kind.String(),
			strings.Join(e.AddressLines, addressSep),
			strconv.Itoa(e.FirstPage),
			strconv.Itoa(e.PageCount),
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("letter: write manifest: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("letter: write manifest: %w", err)
	}
	return nil
}
