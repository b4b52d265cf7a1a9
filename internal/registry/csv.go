package registry

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/pforte/pforte/internal/store"
)

// The columns of the registry CSV format. A file may order them differently
// from Writer; its header says how.
const (
	ColKVNR              = "kvnr"
	ColFamilyName        = "family_name"
	ColGivenNames        = "given_names"
	ColTitle             = "title"
	ColBirthName         = "birth_name"
	ColBirthDate         = "birth_date"
	ColStreet            = "street"
	ColHouseNumber       = "house_number"
	ColPostalCode        = "postal_code"
	ColCity              = "city"
	ColAddressVerifiedAt = "address_verified_at"
	ColAddressVerifiedBy = "address_verified_by"
	ColIBAN              = "iban"
	ColRelation          = "relation"
	ColMemberKVNR        = "member_kvnr"
	// ColSalutation is optional: "Frau", "Herr" or empty (letters greet
	// with the name alone then).
	ColSalutation = "salutation"
)

// column indexes into columnNames.
const (
	colKVNR = iota
	colFamilyName
	colGivenNames
	colTitle
	colBirthName
	colBirthDate
	colStreet
	colHouseNumber
	colPostalCode
	colCity
	colAddressVerifiedAt
	colAddressVerifiedBy
	colIBAN
	colRelation
	colMemberKVNR
	colSalutation
	numColumns
)

// columnNames lists every column in the order Writer writes them.
var columnNames = [numColumns]string{
	ColKVNR, ColFamilyName, ColGivenNames, ColTitle, ColBirthName, ColBirthDate,
	ColStreet, ColHouseNumber, ColPostalCode, ColCity, ColAddressVerifiedAt,
	ColAddressVerifiedBy, ColIBAN, ColRelation, ColMemberKVNR, ColSalutation,
}

// requiredColumns must be in the header and must not be empty in any row.
var requiredColumns = [...]int{
	colKVNR, colFamilyName, colGivenNames, colBirthDate, colStreet, colPostalCode,
	colCity, colRelation,
}

// maxRunes bounds the length of each text column, in Unicode code points after
// normalization. The other columns are bounded by their syntax.
var maxRunes = [numColumns]int{
	colFamilyName:        100,
	colGivenNames:        100,
	colTitle:             50,
	colBirthName:         100,
	colStreet:            100,
	colHouseNumber:       20,
	colCity:              100,
	colAddressVerifiedBy: 50,
}

const (
	// maxRecordBytes bounds one record; longer records are rejected. Fifteen
	// columns of at most 100 code points of at most 4 bytes fit easily.
	maxRecordBytes = 16 << 10
	// maxRecordFields bounds the number of fields the reader keeps of one
	// record; a record with more is rejected.
	maxRecordFields = 64
	// verifiedSkew is how far in the future address_verified_at may lie, to
	// allow for clocks and time zones of the exporting system.
	verifiedSkew = 24 * time.Hour
)

// Row is one insured person as read from or written to the registry CSV format.
// Fields are trimmed of spaces; text fields have runs of spaces collapsed to one
// and are in Unicode NFC.
type Row struct {
	Line              int // line the record starts on (set by Reader)
	KVNR              string
	FamilyName        string
	GivenNames        string // several given names separated by single spaces
	Title             string
	BirthName         string
	BirthDate         BirthDate
	Street            string
	HouseNumber       string
	PostalCode        string
	City              string
	AddressVerifiedAt time.Time // zero when the address is not verified
	AddressVerifiedBy string    // e.g. "melderegister", "eid"; empty when not verified
	IBAN              string    // electronic form, or empty
	Relation          store.Relation
	MemberKVNR        string // for dependents: the member's KVNR
	Salutation        string // "Frau", "Herr" or empty
}

// RowError reports a rejected record. Reason says what is wrong in words meant
// for the person who prepared the file; it never contains a full KVNR or other
// field values.
type RowError struct {
	Line   int // line the record starts on
	Reason string
}

func (e *RowError) Error() string {
	return "registry: csv line " + strconv.Itoa(e.Line) + ": " + e.Reason
}

// ErrHeader is wrapped by the error NewReader returns for a missing or unusable
// header.
var ErrHeader = errors.New("registry: csv: bad header")

// headerError is a header problem: both ErrHeader and a *RowError saying where
// and what.
type headerError struct{ row *RowError }

func (e *headerError) Error() string   { return e.row.Error() }
func (e *headerError) Unwrap() []error { return []error{ErrHeader, e.row} }

// ReaderOptions configure a Reader. The zero value is the strict default.
type ReaderOptions struct {
	// AllowInvalidKVNR accepts KVNRs with a wrong check digit (only the shape
	// [A-Z][0-9]{9} is checked), for test data of core systems that do not
	// compute check digits.
	AllowInvalidKVNR bool
	// Now returns the current time; birth dates after its calendar day and
	// verification times after it (plus a day of tolerance) are rejected.
	// Defaults to time.Now. It is called once, by NewReader.
	Now func() time.Time
}

// Reader reads rows of the registry CSV format (docs/registry-csv.md) one at a
// time, with memory bounded by the size of one record.
type Reader struct {
	rec       *recordReader
	opts      ReaderOptions
	now       time.Time
	index     [numColumns]int // field index of each column in a record, -1 if absent
	numFields int             // fields per record, from the header
}

// NewReader reads the header from r and returns a Reader for the rows that
// follow. A missing header, an unknown, repeated or unnamed column, or a missing
// required column is an error wrapping ErrHeader and a *RowError.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rd := &Reader{
		rec:  newRecordReader(r, maxRecordBytes, maxRecordFields),
		opts: opts,
		now:  now(),
	}
	start, problem, err := rd.rec.next()
	if errors.Is(err, io.EOF) {
		return nil, &headerError{&RowError{Line: 1, Reason: "the file is empty; a header line is required"}}
	}
	if err != nil {
		return nil, fmt.Errorf("registry: csv: read header: %w", err)
	}
	if problem == "" {
		problem = rd.parseHeader()
	}
	if problem != "" {
		return nil, &headerError{&RowError{Line: start, Reason: "header: " + problem}}
	}
	return rd, nil
}

// parseHeader sets r.index from the record just read, or says what is wrong.
func (r *Reader) parseHeader() string {
	for i := range r.index {
		r.index[i] = -1
	}
	r.numFields = len(r.rec.ends)
	prev := 0
	for i, end := range r.rec.ends {
		name := string(r.rec.buf[prev:end])
		prev = end
		c := columnIndex(name)
		switch {
		case c < 0 && name == "":
			return fmt.Sprintf("column %d has no name", i+1)
		case c < 0 && isColumnLike(name):
			return fmt.Sprintf("unknown column %q (column %d)", name, i+1)
		case c < 0:
			// Not echoed: a header line that is really a data line would
			// otherwise put personal data into the message.
			return fmt.Sprintf("unknown column %d; is the header line missing?", i+1)
		case r.index[c] >= 0:
			return fmt.Sprintf("column %q appears twice", name)
		}
		r.index[c] = i
	}
	var missing []string
	for _, c := range requiredColumns {
		if r.index[c] < 0 {
			missing = append(missing, columnNames[c])
		}
	}
	if len(missing) > 0 {
		return "missing required columns: " + strings.Join(missing, ", ")
	}
	return ""
}

// Columns returns the names of all columns in the order Writer writes them.
func Columns() []string { return append([]string(nil), columnNames[:]...) }

func columnIndex(name string) int {
	for i, c := range columnNames {
		if c == name {
			return i
		}
	}
	return -1
}

// isColumnLike reports whether name looks like a column name rather than data.
func isColumnLike(name string) bool {
	if len(name) == 0 || len(name) > 40 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || c >= 'A' && c <= 'Z' && i > 0) {
			return false
		}
	}
	return true
}

// Next returns the next row. A rejected record gives a *RowError, after which
// Next continues with the following record; io.EOF follows the last record.
// Any other error is a read error and ends the input.
func (r *Reader) Next() (Row, error) {
	start, problem, err := r.rec.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Row{}, io.EOF
		}
		return Row{}, fmt.Errorf("registry: csv: read: %w", err)
	}
	if problem != "" {
		return Row{}, &RowError{Line: start, Reason: problem}
	}
	if n := len(r.rec.ends); n != r.numFields {
		return Row{}, &RowError{Line: start, Reason: fmt.Sprintf("wrong number of columns: %d, the header has %d", n, r.numFields)}
	}
	if !utf8.Valid(r.rec.buf) {
		return Row{}, &RowError{Line: start, Reason: "not valid UTF-8 (the file must be UTF-8 encoded)"}
	}
	// One string for the whole record; the fields are slices of it.
	all := string(r.rec.buf)
	var f [numColumns]string
	for c, i := range r.index {
		if i < 0 {
			continue
		}
		from := 0
		if i > 0 {
			from = r.rec.ends[i-1]
		}
		f[c] = strings.Trim(all[from:r.rec.ends[i]], " ")
	}
	row, reason := r.parseRow(&f)
	if reason != "" {
		return Row{}, &RowError{Line: start, Reason: reason}
	}
	row.Line = start
	return row, nil
}

// parseRow checks the trimmed fields of one record and builds the Row, or says
// what is wrong.
func (r *Reader) parseRow(f *[numColumns]string) (Row, string) {
	for _, c := range requiredColumns {
		if f[c] == "" {
			return Row{}, columnNames[c] + ": required"
		}
	}
	var row Row
	var p string

	row.KVNR = f[colKVNR]
	if p = r.kvnrProblem(row.KVNR); p != "" {
		return Row{}, ColKVNR + ": " + p + " (" + MaskKVNR(row.KVNR) + ")"
	}

	texts := [...]struct {
		col int
		dst *string
	}{
		{colFamilyName, &row.FamilyName},
		{colGivenNames, &row.GivenNames},
		{colTitle, &row.Title},
		{colBirthName, &row.BirthName},
		{colStreet, &row.Street},
		{colHouseNumber, &row.HouseNumber},
		{colCity, &row.City},
	}
	for _, t := range texts {
		if *t.dst, p = cleanText(f[t.col], maxRunes[t.col]); p != "" {
			return Row{}, columnNames[t.col] + ": " + p
		}
	}

	if row.BirthDate, p = parseBirthDate(f[colBirthDate], r.now); p != "" {
		return Row{}, ColBirthDate + ": " + p
	}

	row.PostalCode = f[colPostalCode]
	if len(row.PostalCode) != 5 || !allDigits(row.PostalCode) {
		return Row{}, ColPostalCode + ": want exactly 5 digits"
	}

	if at := f[colAddressVerifiedAt]; at != "" {
		t, p := r.parseVerifiedAt(at)
		if p != "" {
			return Row{}, ColAddressVerifiedAt + ": " + p
		}
		row.AddressVerifiedAt = t
		by := f[colAddressVerifiedBy]
		if by == "" {
			return Row{}, ColAddressVerifiedBy + ": required when " + ColAddressVerifiedAt + " is set"
		}
		if !isToken(by, maxRunes[colAddressVerifiedBy]) {
			return Row{}, ColAddressVerifiedBy + ": want a lower-case word such as melderegister or eid"
		}
		row.AddressVerifiedBy = by
	} else if f[colAddressVerifiedBy] != "" {
		return Row{}, ColAddressVerifiedBy + ": must be empty when " + ColAddressVerifiedAt + " is empty"
	}

	switch row.Salutation = f[colSalutation]; row.Salutation {
	case "", "Frau", "Herr":
	default:
		return Row{}, ColSalutation + ": want Frau, Herr or nothing"
	}

	if s := f[colIBAN]; s != "" {
		if row.IBAN, p = checkIBAN(s); p != "" {
			return Row{}, ColIBAN + ": " + p
		}
	}

	switch store.Relation(f[colRelation]) {
	case store.RelationMember:
		row.Relation = store.RelationMember
		if f[colMemberKVNR] != "" {
			return Row{}, ColMemberKVNR + ": must be empty for a member"
		}
	case store.RelationDependent:
		row.Relation = store.RelationDependent
		m := f[colMemberKVNR]
		if m == "" {
			return Row{}, ColMemberKVNR + ": required for a dependent"
		}
		if p = r.kvnrProblem(m); p != "" {
			return Row{}, ColMemberKVNR + ": " + p + " (" + MaskKVNR(m) + ")"
		}
		if m == row.KVNR {
			return Row{}, ColMemberKVNR + ": a dependent cannot be their own member"
		}
		row.MemberKVNR = m
	default:
		return Row{}, ColRelation + ": want member or dependent"
	}
	return row, ""
}

func (r *Reader) kvnrProblem(s string) string {
	if r.opts.AllowInvalidKVNR {
		return kvnrShapeProblem(s)
	}
	return kvnrProblem(s)
}

// parseVerifiedAt parses an RFC 3339 time or a date (midnight UTC).
func (r *Reader) parseVerifiedAt(s string) (time.Time, string) {
	var t time.Time
	var err error
	if len(s) == len(time.DateOnly) {
		t, err = time.Parse(time.DateOnly, s)
	} else {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil {
		return time.Time{}, "want an RFC 3339 time or YYYY-MM-DD"
	}
	if t.After(r.now.Add(verifiedSkew)) {
		return time.Time{}, "in the future"
	}
	if t.Year() < 1900 {
		return time.Time{}, "before 1900"
	}
	return t.UTC(), ""
}

// cleanText trims s, collapses runs of spaces, converts it to NFC, and checks
// that it has at most max code points and no control, format or separator
// characters other than the space. It allocates only when s changes.
func cleanText(s string, max int) (string, string) {
	if s == "" {
		return "", ""
	}
	if strings.Contains(s, "  ") {
		s = collapseSpaces(s)
	}
	// QuickSpanString does not allocate (IsNormalString does); a string it
	// cannot confirm is normalized (which leaves normal strings unchanged).
	if norm.NFC.QuickSpanString(s) != len(s) {
		s = norm.NFC.String(s)
	}
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return "", "control characters are not allowed"
			}
			i++
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError:
			return "", "contains the replacement character U+FFFD (wrong encoding upstream?)"
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
			return "", "control characters are not allowed"
		case unicode.IsSpace(r):
			return "", "only the ordinary space is allowed as white space"
		}
		i += size
		n++
	}
	if n > max {
		return "", "too long (at most " + strconv.Itoa(max) + " characters)"
	}
	return s, ""
}

// collapseSpaces replaces every run of spaces in s by one space.
func collapseSpaces(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isToken reports whether s is a lower-case word of ASCII letters, digits, '-'
// and '_' starting with a letter, at most max bytes long.
func isToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Writer writes rows in the registry CSV format, header first, columns in the
// order of Columns(). It does not validate rows.
type Writer struct {
	w           *csv.Writer
	rec         []string
	wroteHeader bool
}

// NewWriter returns a Writer writing to w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: csv.NewWriter(w), rec: make([]string, numColumns)}
}

// WriteHeader writes the header line unless it was written already. Write and
// Flush call it.
func (w *Writer) WriteHeader() error {
	if w.wroteHeader {
		return nil
	}
	w.wroteHeader = true
	if err := w.w.Write(columnNames[:]); err != nil {
		return fmt.Errorf("registry: csv: write header: %w", err)
	}
	return nil
}

// Write writes one row. address_verified_at is written as a date when it is
// midnight UTC and as an RFC 3339 time otherwise.
func (w *Writer) Write(row Row) error {
	if err := w.WriteHeader(); err != nil {
		return err
	}
	rec := w.rec
	rec[colKVNR] = row.KVNR
	rec[colFamilyName] = row.FamilyName
	rec[colGivenNames] = row.GivenNames
	rec[colTitle] = row.Title
	rec[colBirthName] = row.BirthName
	rec[colBirthDate] = row.BirthDate.String()
	rec[colStreet] = row.Street
	rec[colHouseNumber] = row.HouseNumber
	rec[colPostalCode] = row.PostalCode
	rec[colCity] = row.City
	rec[colAddressVerifiedAt] = formatVerifiedAt(row.AddressVerifiedAt)
	rec[colAddressVerifiedBy] = row.AddressVerifiedBy
	rec[colIBAN] = row.IBAN
	rec[colRelation] = string(row.Relation)
	rec[colMemberKVNR] = row.MemberKVNR
	rec[colSalutation] = row.Salutation
	if err := w.w.Write(rec); err != nil {
		return fmt.Errorf("registry: csv: write: %w", err)
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.WriteHeader(); err != nil {
		return err
	}
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("registry: csv: flush: %w", err)
	}
	return nil
}

func formatVerifiedAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}
