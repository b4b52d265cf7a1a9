package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// BenchmarkRegistryImport imports b.N generated rows into a fresh database and
// reports rows/s. The 1,000,000-row figure in docs/operations.md comes from
// the command itself (see there); this benchmark tracks the same path.
func BenchmarkRegistryImport(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var st *sqlstore.Store
			if backend == "sqlite" {
				st = sqltest.SQLite(b)
			} else {
				st = sqltest.Postgres(b)
			}
			var csv bytes.Buffer
			if err := registry.Generate(&csv, b.N, 42, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)); err != nil {
				b.Fatal(err)
			}
			k, err := seal.GenerateKey("b1")
			if err != nil {
				b.Fatal(err)
			}
			ring, err := seal.NewKeyring(k)
			if err != nil {
				b.Fatal(err)
			}
			im := registry.NewImporter(st, ring, importAuditor{auditLogFor(st)}, time.Now)
			b.ResetTimer()
			start := time.Now()
			sum, err := im.Import(b.Context(), &csv, registry.ImportOptions{BatchSize: 1000})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(sum.Inserted)/time.Since(start).Seconds(), "rows/s")
		})
	}
}
