package audit_test

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
	"github.com/pforte/pforte/internal/store/testdb"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var storeKey, _ = audit.ParseKey(audit.GenerateKeyText())

// TestManyNodesKeepOneChain appends from several goroutines on each of three
// "nodes" (separate connection pools on one database) and verifies one chain.
func TestManyNodesKeepOneChain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, first store.Store) {
		const nodes, writers, each = 3, 4, 25
		stores := []store.Store{first, testdb.Reopen(t, first), testdb.Reopen(t, first)}
		var wg sync.WaitGroup
		for n := range nodes {
			log := audit.New(stores[n], storeKey, time.Now, quiet())
			for range writers {
				wg.Go(func() {
					for i := range each {
						ev := audit.Event{Actor: "system", Event: "test.append", Subject: "node", Details: map[string]any{"i": i}}
						if err := log.Record(t.Context(), ev); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
		}
		wg.Wait()
		res, err := audit.Verify(t.Context(), stores[0], storeKey, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries != nodes*writers*each {
			t.Errorf("verified %d entries, want %d", res.Entries, nodes*writers*each)
		}
	})
}

// BenchmarkRecord8Writers measures audit appends per second with 8 concurrent
// writers on each database (group commit included).
func BenchmarkRecord8Writers(b *testing.B) {
	run := func(b *testing.B, st store.Store) {
		log := audit.New(st, storeKey, time.Now, quiet())
		ev := audit.Event{Actor: "system", Event: "bench.append", Subject: "node", Details: map[string]any{"n": 1}}
		const writers = 8
		b.ResetTimer()
		var wg sync.WaitGroup
		per := b.N/writers + 1
		start := time.Now()
		for range writers {
			wg.Go(func() {
				for range per {
					if err := log.Record(b.Context(), ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(per*writers)/time.Since(start).Seconds(), "appends/s")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, sqltest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { run(b, sqltest.Postgres(b)) })
}
