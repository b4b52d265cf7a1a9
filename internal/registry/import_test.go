package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// newGCMSealer returns a keyring with a fresh key: the importer seals with real
// cryptographic costs and binds each IBAN to its row.
func newGCMSealer(t testing.TB) *seal.Keyring {
	t.Helper()
	k, err := seal.GenerateKey("test-1")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// memPersons keeps persons in a map with the digest rule of store.Persons.
type memPersons struct {
	mu      sync.Mutex
	byKVNR  map[string]store.Person
	batches int
	failAt  int // fail the failAt-th batch (1-based); 0 never
}

func newMemPersons() *memPersons { return &memPersons{byKVNR: map[string]store.Person{}} }

func (m *memPersons) UpsertPersons(ctx context.Context, batch []store.Person) (store.UpsertResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches++
	if m.batches == m.failAt {
		return store.UpsertResult{}, errors.New("disk full")
	}
	var res store.UpsertResult
	seen := map[string]bool{}
	for _, p := range batch {
		if seen[p.KVNR] {
			return store.UpsertResult{}, fmt.Errorf("KVNR %s twice in one batch: %w", MaskKVNR(p.KVNR), store.ErrConflict)
		}
		seen[p.KVNR] = true
		old, ok := m.byKVNR[p.KVNR]
		switch {
		case !ok:
			res.Inserted++
			p.Version = 1
			p.CreatedAt = p.UpdatedAt
		case bytes.Equal(old.Digest, p.Digest):
			res.Unchanged++
			continue
		default:
			res.Updated++
			p.Version = old.Version + 1
			p.CreatedAt = old.CreatedAt
		}
		m.byKVNR[p.KVNR] = p
	}
	return res, nil
}

type memAuditor struct{ events []AuditEvent }

func (a *memAuditor) Record(ctx context.Context, e AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.events = append(a.events, e)
	return nil
}

var testNow = time.Date(2026, time.March, 15, 10, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

func TestImport(t *testing.T) {
	sealer := newGCMSealer(t)
	persons := newMemPersons()
	audit := &memAuditor{}
	im := NewImporter(persons, sealer, audit, fixedClock)

	m := kvnrN(t, 'M', 1)
	in := testHeader +
		memberLine(m) +
		kvnrN(t, 'D', 1) + ",Müller,Käthe,,Weiß,2015-06,Hauptstraße,12a,10115,Berlin,2025-06-01,melderegister,,dependent," + m + "\n" +
		"A123456789,Müller,Hans,,,1970-04-01,Hauptstraße,1,10115,Berlin,,,,member,\n" +
		kvnrN(t, 'M', 2) + ",Schäfer,Björn,,,1980,Am Mühlbach,3,80331,München,,,,member,\n" +
		// the same KVNR again in the same batch: the later row wins
		kvnrN(t, 'M', 2) + ",Schäfer,Björn Sören,,,1980,Am Mühlbach,3,80331,München,,,,member,\n"

	var rowErrs []*RowError
	var progress []int64
	sum, err := im.Import(t.Context(), strings.NewReader(in), ImportOptions{
		BatchSize:     2,
		ProgressEvery: 2,
		OnRowError:    func(e *RowError) { rowErrs = append(rowErrs, e) },
		OnProgress:    func(n int64) { progress = append(progress, n) },
	})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if diff := cmp.Diff(Summary{Read: 5, Inserted: 3, Updated: 1, Skipped: 1}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*RowError{{Line: 4, Reason: "kvnr: wrong check digit (A12******9)"}}, rowErrs); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{2, 4, 5}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	wantEvents := []AuditEvent{{
		Event:   EventImport,
		Subject: "registry",
		Details: map[string]any{
			"status": "completed", "read": int64(5), "inserted": int64(3), "updated": int64(1),
			"unchanged": int64(0), "skipped": int64(1), "allow_invalid_kvnr": false, "duration_ms": int64(0),
		},
	}}
	if diff := cmp.Diff(wantEvents, audit.events); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}

	got := persons.byKVNR[m]
	iban, err := sealer.OpenFor(got.IBAN, seal.Place("persons", "iban", m))
	if err != nil || string(iban) != "DE89370400440532013000" {
		t.Errorf("sealed IBAN opens to %q, %v", iban, err)
	}
	// Bound to its row: the same ciphertext in another person's row does not
	// open, nor without a place.
	other := kvnrN(t, 'D', 1)
	if _, err := sealer.OpenFor(got.IBAN, seal.Place("persons", "iban", other)); !errors.Is(err, seal.ErrDecrypt) {
		t.Errorf("IBAN opens in another person's row: %v", err)
	}
	wantPerson := store.Person{
		KVNR: m, FamilyName: "Müller", GivenNames: "Hans Jürgen", Title: "Dr.", BirthDate: "1970-04-01",
		Street: "Hauptstraße", HouseNumber: "12a", PostalCode: "10115", City: "Berlin",
		AddressVerifiedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), AddressVerifiedBy: "melderegister",
		Relation: store.RelationMember, Version: 1, CreatedAt: testNow, UpdatedAt: testNow,
	}
	ignore := cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return s == "IBAN" || s == "Digest"
	}, cmp.Ignore())
	if diff := cmp.Diff(wantPerson, got, ignore); diff != "" {
		t.Errorf("stored person (-want +got):\n%s", diff)
	}
	if want := sealer.Fingerprint(appendDigestInput(nil, &got, "DE89370400440532013000")); !bytes.Equal(got.Digest, want) {
		t.Errorf("Digest = %x, want %x", got.Digest, want)
	}
	if dep := persons.byKVNR[kvnrN(t, 'D', 1)]; dep.BirthDate != "2015-06" || !dep.IBAN.IsZero() || dep.MemberKVNR != m {
		t.Errorf("dependent stored as %+v", dep)
	}
	if p := persons.byKVNR[kvnrN(t, 'M', 2)]; p.GivenNames != "Björn Sören" || p.Version != 2 {
		t.Errorf("repeated KVNR stored as %q version %d, want the later row, version 2", p.GivenNames, p.Version)
	}
}

func TestImportReimportChangesNothing(t *testing.T) {
	var csv bytes.Buffer
	if err := Generate(&csv, 2500, 7, testNow); err != nil {
		t.Fatal(err)
	}
	persons := newMemPersons()
	im := NewImporter(persons, newGCMSealer(t), &memAuditor{}, fixedClock)
	first, err := im.Import(t.Context(), bytes.NewReader(csv.Bytes()), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Read: 2500, Inserted: 2500}, first); diff != "" {
		t.Errorf("first import (-want +got):\n%s", diff)
	}
	second, err := im.Import(t.Context(), bytes.NewReader(csv.Bytes()), ImportOptions{BatchSize: 333})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Read: 2500, Unchanged: 2500}, second); diff != "" {
		t.Errorf("second import (-want +got):\n%s", diff)
	}

	// The same IBAN spelt with a space is the same content.
	changed := bytes.Replace(csv.Bytes(), []byte(",DE"), []byte(", DE"), 1)
	third, err := im.Import(t.Context(), bytes.NewReader(changed), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Read: 2500, Unchanged: 2500}, third); diff != "" {
		t.Errorf("import with IBAN respaced (-want +got):\n%s", diff)
	}
	// Removing one row's IBAN changes that row only: the digest covers the
	// IBAN's plaintext.
	i := bytes.Index(csv.Bytes(), []byte(",DE")) + 1
	changed = append(bytes.Clone(csv.Bytes()[:i]), csv.Bytes()[i+22:]...)
	fourth, err := im.Import(t.Context(), bytes.NewReader(changed), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Read: 2500, Updated: 1, Unchanged: 2499}, fourth); diff != "" {
		t.Errorf("import with one IBAN removed (-want +got):\n%s", diff)
	}
}

func TestImportFailures(t *testing.T) {
	good := testHeader + memberLine(kvnrN(t, 'A', 1)) + memberLine(kvnrN(t, 'A', 2)) + memberLine(kvnrN(t, 'A', 3))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		in      string
		failAt  int
		wantErr error
		wantSum Summary
	}{
		{"bad header", t.Context(), "kvnr\n", 0, ErrHeader, Summary{}},
		{"writer fails", t.Context(), good, 2, nil, Summary{Read: 3, Inserted: 1}},
		{"canceled", canceled, good, 0, context.Canceled, Summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			persons := newMemPersons()
			persons.failAt = tt.failAt
			audit := &memAuditor{}
			im := NewImporter(persons, newGCMSealer(t), audit, fixedClock)
			sum, err := im.Import(tt.ctx, strings.NewReader(tt.in), ImportOptions{BatchSize: 1})
			if err == nil {
				t.Fatal("Import succeeded, want error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Import error = %v, want %v", err, tt.wantErr)
			}
			if tt.name == "writer fails" && !strings.Contains(err.Error(), "disk full") {
				t.Errorf("Import error = %v, want the writer's cause", err)
			}
			if diff := cmp.Diff(tt.wantSum, sum); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if len(audit.events) != 1 || audit.events[0].Details["status"] != "failed" {
				t.Errorf("audit events = %+v, want one failed import", audit.events)
			}
		})
	}
}

func TestDigestInputUnambiguous(t *testing.T) {
	a := store.Person{FamilyName: "ab", GivenNames: "c"}
	b := store.Person{FamilyName: "a", GivenNames: "bc"}
	if bytes.Equal(appendDigestInput(nil, &a, ""), appendDigestInput(nil, &b, "")) {
		t.Error("different persons encode alike")
	}
	c := store.Person{FamilyName: "ab"}
	if bytes.Equal(appendDigestInput(nil, &c, "X"), appendDigestInput(nil, &c, "")) {
		t.Error("the IBAN is not part of the digest input")
	}
}

type discardPersons struct{}

func (discardPersons) UpsertPersons(_ context.Context, batch []store.Person) (store.UpsertResult, error) {
	return store.UpsertResult{Inserted: len(batch)}, nil
}

func BenchmarkImport(b *testing.B) {
	const rows = 100_000
	var csv bytes.Buffer
	if err := Generate(&csv, rows, 1, testNow); err != nil {
		b.Fatal(err)
	}
	im := NewImporter(discardPersons{}, newGCMSealer(b), &memAuditor{}, fixedClock)
	b.SetBytes(int64(csv.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sum, err := im.Import(context.Background(), bytes.NewReader(csv.Bytes()), ImportOptions{})
		if err != nil || sum.Inserted != rows {
			b.Fatalf("Import = %+v, %v", sum, err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
