package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// benchNames are the family names of the benchmark's persons.
var benchNames = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann"}

// benchPerson is the i-th person: a KVNR from i, one of 20 names with a
// number (200,000 distinct names), a birth day between 1930 and 2025.
func benchPerson(i int) store.Person {
	day := time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*7919)%35000)
	return store.Person{KVNR: fmt.Sprintf("B%09d", i), FamilyName: benchNames[i%len(benchNames)] + strconv.Itoa(i%10000),
		GivenNames: "Anna", BirthDate: day.Format("2006-01-02"), Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115",
		City: "Berlin", Relation: store.RelationMember, Digest: []byte(strconv.Itoa(i)), UpdatedAt: time.Now()}
}

// BenchmarkSearch measures the back office's two searches on a register of
// PFORTE_BENCH_PERSONS persons (default 100,000; the figure in
// docs/backoffice.md is for 1,000,000) on every backend: the person by
// KVNR, and the persons born on a day whose family name matches (what
// /backoffice/suche does: the birth-date index, then the name compared
// in Go).
func BenchmarkSearch(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("PFORTE_BENCH_PERSONS")); err == nil && v > 0 {
		n = v
	}
	for _, be := range testdb.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			start := time.Now()
			const batch = 10_000
			for i := 0; i < n; i += batch {
				ps := make([]store.Person, 0, batch)
				for j := i; j < min(i+batch, n); j++ {
					ps = append(ps, benchPerson(j))
				}
				if _, err := st.UpsertPersons(b.Context(), ps); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: %d persons stored in %v", be.Name, n, time.Since(start).Round(time.Second))
			r := rand.New(rand.NewPCG(1, 2))
			b.Run("kvnr", func(b *testing.B) {
				for b.Loop() {
					p := benchPerson(r.IntN(n))
					if got, err := st.PersonByKVNR(b.Context(), p.KVNR); err != nil || got.KVNR != p.KVNR {
						b.Fatalf("%v %v", got.KVNR, err)
					}
				}
			})
			b.Run("name+birthdate", func(b *testing.B) {
				for b.Loop() {
					p := benchPerson(r.IntN(n))
					all, err := st.PersonsByBirthDate(b.Context(), p.BirthDate, 1000)
					if err != nil {
						b.Fatal(err)
					}
					found := 0
					for _, x := range all {
						if strings.EqualFold(x.FamilyName, p.FamilyName) {
							found++
						}
					}
					if found == 0 {
						b.Fatalf("%s born %s not found among %d", p.FamilyName, p.BirthDate, len(all))
					}
				}
			})
		})
	}
}
