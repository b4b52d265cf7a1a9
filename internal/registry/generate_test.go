package registry

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func TestGenerateDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	for _, w := range []*bytes.Buffer{&a, &b} {
		if err := Generate(w, 500, 42, testNow); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same count, seed and now give different output")
	}
	if err := Generate(&c, 500, 43, testNow); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds give the same output")
	}
	var short bytes.Buffer
	if err := Generate(&short, 100, 42, testNow); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(a.Bytes(), short.Bytes()) {
		t.Error("a shorter run is not a prefix of a longer one with the same seed")
	}
}

func TestGenerateZero(t *testing.T) {
	var buf bytes.Buffer
	if err := Generate(&buf, 0, 1, testNow); err != nil {
		t.Fatal(err)
	}
	if buf.String() != writerHeader {
		t.Errorf("Generate(0) = %q, want only the header", buf.String())
	}
	if err := Generate(&buf, -1, 1, testNow); err == nil {
		t.Error("Generate(-1) succeeded")
	}
}

func TestGenerateImportsWithoutRejects(t *testing.T) {
	const n = 20_000
	var csv bytes.Buffer
	if err := Generate(&csv, n, 3, testNow); err != nil {
		t.Fatal(err)
	}
	var rowErrs []*RowError
	persons := newMemPersons()
	im := NewImporter(persons, newGCMSealer(t), &memAuditor{}, fixedClock)
	sum, err := im.Import(t.Context(), bytes.NewReader(csv.Bytes()), ImportOptions{
		OnRowError: func(e *RowError) { rowErrs = append(rowErrs, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rowErrs) > 0 {
		t.Fatalf("%d rejected rows, first: %v", len(rowErrs), rowErrs[0])
	}
	if diff := cmp.Diff(Summary{Read: n, Inserted: n}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestGenerateDistribution(t *testing.T) {
	const n = 20_000
	var csv bytes.Buffer
	if err := Generate(&csv, n, 11, testNow); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(csv.Bytes()), ReaderOptions{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	var (
		rows                                                 []Row
		partial, verified, withIBAN, under15, titles, births int
		doubleGiven, umlauts                                 int
	)
	byKVNR := map[string]Row{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := byKVNR[row.KVNR]; dup {
			t.Fatalf("KVNR %s twice", MaskKVNR(row.KVNR))
		}
		byKVNR[row.KVNR] = row
		rows = append(rows, row)
		if row.BirthDate.Precision() != PrecisionDay {
			partial++
		}
		if !row.AddressVerifiedAt.IsZero() {
			verified++
		}
		if row.IBAN != "" {
			withIBAN++
		}
		if age, ok := row.BirthDate.AgeAt(testNow); ok && age < 15 {
			under15++
		}
		if row.Title != "" {
			titles++
		}
		if row.BirthName != "" {
			births++
		}
		if bytes.ContainsRune([]byte(row.GivenNames), ' ') {
			doubleGiven++
		}
		if bytes.ContainsAny([]byte(row.FamilyName+row.GivenNames), "äöüßÄÖÜ") {
			umlauts++
		}
	}
	for _, row := range rows {
		if row.Relation != store.RelationDependent {
			continue
		}
		m, ok := byKVNR[row.MemberKVNR]
		if !ok || m.Relation != store.RelationMember {
			t.Fatalf("dependent at line %d without its member", row.Line)
		}
		if m.Street != row.Street || m.PostalCode != row.PostalCode || m.HouseNumber != row.HouseNumber {
			t.Errorf("dependent at line %d does not share the member's address", row.Line)
		}
	}
	share := func(k int) float64 { return float64(k) / n }
	checks := []struct {
		name   string
		got    float64
		lo, hi float64
	}{
		{"partial birth dates", share(partial), 0.03, 0.07},
		{"verified addresses", share(verified), 0.80, 0.90},
		{"with IBAN", share(withIBAN), 0.62, 0.78},
		{"children under 15", share(under15), 0.05, 0.40},
		{"titles", share(titles), 0.01, 0.06},
		{"birth names", share(births), 0.02, 0.30},
		{"double given names", share(doubleGiven), 0.08, 0.25},
		{"umlauts or ß", share(umlauts), 0.10, 0.70},
	}
	for _, c := range checks {
		t.Logf("%s: %.3f", c.name, c.got)
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s: %.3f, want %.2f..%.2f", c.name, c.got, c.lo, c.hi)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	const rows = 10_000
	b.ReportAllocs()
	for b.Loop() {
		if err := Generate(io.Discard, rows, 1, testNow); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
