package audit

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkRecordParallel records from 8 goroutines (more if GOMAXPROCS does
// not divide 8) against the in-memory chain, once as is and once with a delay
// per append standing for the fsync of a real commit. entries/append shows how
// well group commit batches.
func BenchmarkRecordParallel(b *testing.B) {
	const writers = 8
	for _, bc := range []struct {
		name  string
		delay time.Duration
	}{
		{"memory", 0},
		{"fsync=100us", 100 * time.Microsecond},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := &memChain{commitDelay: bc.delay}
			l := New(c, testKey, time.Now, nil)
			ev := Event{Actor: "person:42", Event: "account.login", Subject: "account:42", ClientIP: "192.0.2.1", Details: map[string]any{"level": "substantial"}}
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((writers + procs - 1) / procs)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := l.Record(b.Context(), ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if n := c.appends.Load(); n > 0 {
				b.ReportMetric(float64(c.head.Seq)/float64(n), "entries/append")
			}
		})
	}
}
