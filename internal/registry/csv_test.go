package registry

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// testHeader is a header without the optional salutation column, as files
// written before it existed have; writerHeader is what Writer writes.
const (
	testHeader   = "kvnr,family_name,given_names,title,birth_name,birth_date,street,house_number,postal_code,city,address_verified_at,address_verified_by,iban,relation,member_kvnr\n"
	writerHeader = "kvnr,family_name,given_names,title,birth_name,birth_date,street,house_number,postal_code,city,address_verified_at,address_verified_by,iban,relation,member_kvnr,salutation\n"
)

// kvnrN returns a valid KVNR whose digits are n.
func kvnrN(t testing.TB, letter byte, n int) string {
	t.Helper()
	p := string(letter) + strings.Repeat("0", 8-len(itoa(n))) + itoa(n)
	d, err := KVNRCheckDigit(p)
	if err != nil {
		t.Fatal(err)
	}
	return p + string(d)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// memberLine is a valid member record for kvnr.
func memberLine(kvnr string) string {
	return kvnr + ",Müller,Hans Jürgen,Dr.,,1970-04-01,Hauptstraße,12a,10115,Berlin,2025-06-01,melderegister,DE89370400440532013000,member,\n"
}

func readAll(t *testing.T, in string, opts ReaderOptions) (rows []Row, rowErrs []*RowError) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testToday }
	}
	r, err := NewReader(strings.NewReader(in), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, rowErrs
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			rowErrs = append(rowErrs, re)
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			rows = append(rows, row)
		}
	}
}

func TestReaderGoodRow(t *testing.T) {
	k := kvnrN(t, 'X', 11041167)
	in := testHeader + memberLine(k) +
		kvnrN(t, 'B', 2) + `,"Schäfer", Käthe  Marie ,,Weiß,1975-09,"Am Mühlbach",,01067,Dresden,2025-01-02T10:00:00+01:00,eid,de89 3704 0044 0532 0130 00,dependent,` + k + "\r\n"
	rows, errs := readAll(t, in, ReaderOptions{})
	if len(errs) != 0 {
		t.Fatalf("row errors: %v", errs)
	}
	want := []Row{
		{
			Line: 2, KVNR: k, FamilyName: "Müller", GivenNames: "Hans Jürgen", Title: "Dr.",
			BirthDate: NewBirthDate(1970, time.April, 1), Street: "Hauptstraße", HouseNumber: "12a",
			PostalCode: "10115", City: "Berlin", AddressVerifiedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
			AddressVerifiedBy: "melderegister", IBAN: "DE89370400440532013000", Relation: store.RelationMember,
		},
		{
			Line: 3, KVNR: kvnrN(t, 'B', 2), FamilyName: "Schäfer", GivenNames: "Käthe Marie", BirthName: "Weiß",
			BirthDate: BirthDate{year: 1975, month: 9}, Street: "Am Mühlbach", PostalCode: "01067", City: "Dresden",
			AddressVerifiedAt: time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC), AddressVerifiedBy: "eid",
			IBAN: "DE89370400440532013000", Relation: store.RelationDependent, MemberKVNR: k,
		},
	}
	if diff := cmp.Diff(want, rows, cmp.AllowUnexported(BirthDate{})); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestReaderNormalizesNFC(t *testing.T) {
	in := testHeader + kvnrN(t, 'A', 1) + ",Mu\u0308ller,Jo\u0308rg,,,1970,Hauptstraße,1,10115,Berlin,,,,member,\n"
	rows, errs := readAll(t, in, ReaderOptions{})
	if len(errs) != 0 || len(rows) != 1 {
		t.Fatalf("got %d rows, errors %v", len(rows), errs)
	}
	if rows[0].FamilyName != "Müller" || rows[0].GivenNames != "Jörg" {
		t.Errorf("got %q %q, want NFC Müller Jörg", rows[0].FamilyName, rows[0].GivenNames)
	}
}

// TestReaderBadRows feeds one record of every rejected kind between good
// records and checks that each is reported with the line it starts on while
// the good records arrive.
func TestReaderBadRows(t *testing.T) {
	m := kvnrN(t, 'M', 1)
	good := func(n int) string { return memberLine(kvnrN(t, 'G', n)) }
	lines := []struct {
		text   string
		reason string // "" for a good record
	}{
		{good(1), ""},
		{"A123456789,Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "kvnr: wrong check digit (A12******9)"},
		{good(2), ""},
		{m + ",Müller,Hans,,,1970-02-30,Hauptstraße,1,10115,Berlin,,,,member,\n", "birth_date: day out of range"},
		{good(3), ""},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,DE88370400440532013000,member,\n", "iban: wrong check digits"},
		{good(4), ""},
		{m + ",,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "family_name: required"},
		{good(5), ""},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member\n", "wrong number of columns: 14, the header has 15"},
		{good(6), ""},
		{m + ",M\xfcller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "not valid UTF-8 (the file must be UTF-8 encoded)"},
		{good(7), ""},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,1011,Berlin,,,,member,\n", "postal_code: want exactly 5 digits"},
		{good(8), ""},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,spouse,\n", "relation: want member or dependent"},
		{good(9), ""},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,dependent,\n", "member_kvnr: required for a dependent"},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,dependent," + m + "\n", "member_kvnr: a dependent cannot be their own member"},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member," + kvnrN(t, 'G', 1) + "\n", "member_kvnr: must be empty for a member"},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,2025-01-01,,,member,\n", "address_verified_by: required when address_verified_at is set"},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,01.01.2025,x,,member,\n", "address_verified_at: want an RFC 3339 time or YYYY-MM-DD"},
		{m + ",Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,eid,,member,\n", "address_verified_by: must be empty when address_verified_at is empty"},
		{m + ",\"Mül\nler\",Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "family_name: control characters are not allowed"},
		{good(10), ""},
		{m + ",Mül\"ler,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "stray quote in an unquoted field"},
		{m + ",\"Müller\"x,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "unexpected character after a closing quote"},
		{m + "," + strings.Repeat("ä", 101) + ",Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "family_name: too long (at most 100 characters)"},
		{m + ",Müller,Hans\u202e,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "given_names: control characters are not allowed"},
		{m + ",Müller,\"Hans\n  Peter\",,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "given_names: control characters are not allowed"},
		{m + ",Müller,Hans\tPeter ,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "given_names: control characters are not allowed"},
		{m + ",Müller,Hans\u00a0Peter,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n", "given_names: only the ordinary space is allowed as white space"},
		{m + ",Müller,Hans,,,2030,Hauptstraße,1,10115,Berlin,,,,member,\n", "birth_date: in the future"},
		{"\n", ""}, // blank lines are skipped
		{good(11), ""},
	}
	var in strings.Builder
	in.WriteString(testHeader)
	line := 2
	var wantErrs []*RowError
	var wantLines []int
	for _, l := range lines {
		in.WriteString(l.text)
		switch {
		case l.reason != "":
			wantErrs = append(wantErrs, &RowError{Line: line, Reason: l.reason})
		case l.text != "\n":
			wantLines = append(wantLines, line)
		}
		line += strings.Count(l.text, "\n")
	}
	rows, errs := readAll(t, in.String(), ReaderOptions{})
	if diff := cmp.Diff(wantErrs, errs); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
	var gotLines []int
	for _, r := range rows {
		gotLines = append(gotLines, r.Line)
	}
	if diff := cmp.Diff(wantLines, gotLines); diff != "" {
		t.Errorf("lines of good rows (-want +got):\n%s", diff)
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), m) || strings.Contains(e.Error(), "A123456789") {
			t.Errorf("row error %q contains a full KVNR", e)
		}
	}
}

func TestReaderAllowInvalidKVNR(t *testing.T) {
	in := testHeader +
		"A123456789,Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n" +
		"B123456789,Müller,Eva,,,1972-04-01,Hauptstraße,1,10115,Berlin,,,,dependent,A123456789\n" +
		"a123456789,Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n"
	rows, errs := readAll(t, in, ReaderOptions{AllowInvalidKVNR: true})
	if len(rows) != 2 {
		t.Errorf("got %d rows, want 2", len(rows))
	}
	want := []*RowError{{Line: 4, Reason: "kvnr: must start with a capital letter A-Z (a12******9)"}}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
}

func TestReaderMultiLineRecordLine(t *testing.T) {
	// A quoted field spanning lines: the error names the line the record
	// starts on, and the following record's line number is right.
	in := testHeader +
		kvnrN(t, 'A', 1) + ",\"Mül\r\nler\",Hans,,,1970,Hauptstraße,1,10115,Berlin,,,,member,\n" +
		memberLine(kvnrN(t, 'A', 2)) +
		kvnrN(t, 'A', 3) + ",\"never closed,Hans\n\n" + memberLine(kvnrN(t, 'A', 4))
	rows, errs := readAll(t, in, ReaderOptions{})
	want := []*RowError{
		{Line: 2, Reason: "family_name: control characters are not allowed"},
		{Line: 5, Reason: "quoted field not closed at the end of the file"},
	}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
	if len(rows) != 1 || rows[0].Line != 4 {
		t.Errorf("got rows %+v, want one at line 4", rows)
	}
}

func TestReaderHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *RowError
	}{
		{"empty file", "", &RowError{Line: 1, Reason: "the file is empty; a header line is required"}},
		{"unknown column", strings.TrimSuffix(testHeader, "\n") + ",email\n", &RowError{Line: 1, Reason: "header: unknown column \"email\" (column 16)"}},
		{"data instead of header", memberLine("X110411675"), &RowError{Line: 1, Reason: "header: unknown column 1; is the header line missing?"}},
		{"missing required", "kvnr,family_name\n", &RowError{Line: 1, Reason: "header: missing required columns: given_names, birth_date, street, postal_code, city, relation"}},
		{"repeated column", "kvnr,kvnr\n", &RowError{Line: 1, Reason: "header: column \"kvnr\" appears twice"}},
		{"unnamed column", "kvnr,,city\n", &RowError{Line: 1, Reason: "header: column 2 has no name"}},
		{"broken quote", "kvnr,\"city\n", &RowError{Line: 1, Reason: "header: quoted field not closed at the end of the file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), ReaderOptions{})
			if !errors.Is(err, ErrHeader) {
				t.Fatalf("NewReader error = %v, want ErrHeader", err)
			}
			var got *RowError
			if !errors.As(err, &got) {
				t.Fatalf("NewReader error = %v, want a *RowError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("header error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "X110411675") {
				t.Errorf("error %q contains a KVNR", err)
			}
		})
	}
}

func TestReaderColumnOrderAndOptionalColumns(t *testing.T) {
	in := "\xef\xbb\xbfrelation,city,postal_code,street,birth_date,given_names,family_name,kvnr\n" +
		"member,Köln,50667,Domkloster,1950-01-01,Maria,Schmitz," + kvnrN(t, 'K', 4711) + "\n"
	rows, errs := readAll(t, in, ReaderOptions{})
	if len(errs) != 0 || len(rows) != 1 {
		t.Fatalf("got rows %v errors %v", rows, errs)
	}
	if got := rows[0]; got.City != "Köln" || got.HouseNumber != "" || got.KVNR != kvnrN(t, 'K', 4711) {
		t.Errorf("got %+v", got)
	}
}

func TestReaderRecordTooLong(t *testing.T) {
	in := testHeader + kvnrN(t, 'A', 1) + "," + strings.Repeat("x", 100_000) + ",Hans,,,1970,Hauptstraße,1,10115,Berlin,,,,member,\n" +
		memberLine(kvnrN(t, 'A', 2))
	rows, errs := readAll(t, in, ReaderOptions{})
	want := []*RowError{{Line: 2, Reason: "record too long"}}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
	if len(rows) != 1 || rows[0].Line != 3 {
		t.Errorf("got rows %+v, want one at line 3", rows)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	want := []Row{
		{
			Line: 2, KVNR: "X110411675", FamilyName: "Groß, von", GivenNames: "Sören \"Sö\"", Title: "Prof. Dr.",
			BirthName: "Weiß", BirthDate: BirthDate{year: 1960}, Street: "Lindenallee", HouseNumber: "3",
			PostalCode: "80331", City: "München", AddressVerifiedAt: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC),
			AddressVerifiedBy: "melderegister", IBAN: "DE89370400440532013000", Relation: store.RelationMember,
		},
		{
			Line: 3, KVNR: "T555558879", FamilyName: "Groß", GivenNames: "Björn", BirthDate: NewBirthDate(2015, 1, 2),
			Street: "Lindenallee", PostalCode: "80331", City: "München",
			AddressVerifiedAt: time.Date(2025, 5, 6, 0, 0, 0, 0, time.UTC), AddressVerifiedBy: "eid",
			Relation: store.RelationDependent, MemberKVNR: "X110411675",
		},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range want {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, errs := readAll(t, buf.String(), ReaderOptions{})
	if len(errs) != 0 {
		t.Fatalf("row errors: %v", errs)
	}
	if diff := cmp.Diff(want, rows, cmp.AllowUnexported(BirthDate{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := NewWriter(&buf).Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != writerHeader {
		t.Errorf("empty output = %q, want the header", got)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(testHeader + memberLine("X110411675"))
	f.Add(testHeader + "X110411675,\"a\"\"b\",c\r\n\n\"x\ny\",\"")
	f.Add("kvnr,family_name,given_names,birth_date,street,postal_code,city,relation\nA,B,C,1980,E,12345,G,member\n")
	f.Add(testHeader + "T555558879,Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,dependent,X110411675\n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := NewReader(strings.NewReader(in), ReaderOptions{Now: func() time.Time { return testToday }})
		if err != nil {
			if !errors.Is(err, ErrHeader) {
				t.Fatalf("NewReader error %v does not wrap ErrHeader", err)
			}
			return
		}
		lines := strings.Count(in, "\n") + 1
		last := 0
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("more records than bytes")
			}
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				if re.Line <= last || re.Line > lines {
					t.Fatalf("row error at line %d after line %d of %d", re.Line, last, lines)
				}
				last = re.Line
				continue
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if row.Line <= last || row.Line > lines {
				t.Fatalf("row at line %d after line %d of %d", row.Line, last, lines)
			}
			last = row.Line
			if !ValidKVNR(row.KVNR) {
				t.Fatalf("invalid KVNR accepted")
			}
			if row.Relation == store.RelationDependent && (!ValidKVNR(row.MemberKVNR) || row.MemberKVNR == row.KVNR) {
				t.Fatalf("bad member KVNR accepted")
			}
			if row.IBAN != "" {
				if n, err := CheckIBAN(row.IBAN); err != nil || n != row.IBAN {
					t.Fatalf("IBAN not normalized or invalid")
				}
			}
			if _, err := ParseBirthDate(row.BirthDate.String(), testToday); err != nil {
				t.Fatalf("birth date does not round trip: %v", err)
			}
			// What is read can be written and read back unchanged.
			var buf bytes.Buffer
			w := NewWriter(&buf)
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			back, errs := readAllFuzz(buf.String())
			if len(errs) != 0 || len(back) != 1 {
				t.Fatalf("written row does not read back: %v", errs)
			}
			back[0].Line = row.Line
			if diff := cmp.Diff(row, back[0], cmp.AllowUnexported(BirthDate{})); diff != "" {
				t.Fatalf("round trip (-read +reread):\n%s", diff)
			}
		}
	})
}

func readAllFuzz(in string) ([]Row, []error) {
	r, err := NewReader(strings.NewReader(in), ReaderOptions{Now: func() time.Time { return testToday }})
	if err != nil {
		return nil, []error{err}
	}
	var rows []Row
	var errs []error
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, errs
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rows = append(rows, row)
	}
}

// TestDocExamples keeps the examples in docs/registry-csv.md valid.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/registry-csv.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```csv\n")[1:]
	if len(blocks) == 0 {
		t.Fatal("no csv examples found")
	}
	for i, b := range blocks {
		example, _, _ := strings.Cut(b, "```")
		rows, errs := readAll(t, example, ReaderOptions{})
		if len(errs) != 0 || len(rows) == 0 {
			t.Errorf("example %d: %d rows, errors %v", i+1, len(rows), errs)
		}
	}
}

// TestReaderSalutation: the optional salutation column takes Frau, Herr or
// nothing; files without it read as before.
func TestReaderSalutation(t *testing.T) {
	head := strings.TrimSuffix(testHeader, "\n") + ",salutation\n"
	line := strings.TrimSuffix(memberLine("X110411675"), "\n")
	for value, want := range map[string]string{"Frau": "", "Herr": "", "": "", "Divers": "salutation: want Frau, Herr or nothing"} {
		r, err := NewReader(strings.NewReader(head+line+","+value+"\n"), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		row, err := r.Next()
		var re *RowError
		switch {
		case want == "" && (err != nil || row.Salutation != value):
			t.Errorf("salutation %q: %+v, %v", value, row.Salutation, err)
		case want != "" && (!errors.As(err, &re) || re.Reason != want):
			t.Errorf("salutation %q: %v, want %q", value, err, want)
		}
	}
}
