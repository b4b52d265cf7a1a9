package password

import (
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkHash measures one hash at a time with the default parameters.
func BenchmarkHash(b *testing.B) {
	h := newTestHasher(b, Params{}, nil)
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "Kx7!mehrWald92"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkHashParallel2 measures two goroutines hashing at once with the
// default parameters and two slots: the raw rate logins are compared against.
func BenchmarkHashParallel2(b *testing.B) {
	h, err := NewHasher(Params{}, nil, 2)
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 2 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := h.Hash(b.Context(), "Kx7!mehrWald92"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkVerify measures one verification with the default parameters.
func BenchmarkVerify(b *testing.B) {
	h := newTestHasher(b, Params{}, testPepper)
	stored, err := h.Hash(b.Context(), "Kx7!mehrWald92")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(b.Context(), "Kx7!mehrWald92", stored); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCheck measures the policy check of a typical 14-character
// password, strength estimate included.
func BenchmarkCheck(b *testing.B) {
	p := Policy{InsurerName: "Techniker Krankenkasse"}
	blocklist() // built once per process; not part of a check
	for b.Loop() {
		if r := p.Check("Kx7!mehrWald92", person); len(r) != 0 {
			b.Fatal(r)
		}
	}
}

// BenchmarkCheckLong measures the check of a 128-character password, where
// the estimator sees only the first 64.
func BenchmarkCheckLong(b *testing.B) {
	pw := "Zitronenfalter im Gewächshaus, Regen über Köln und dem Rhein 🌧 " +
		"Tannenzapfen fallen leise auf den Waldweg hinter dem Bahnhof 7!!"
	blocklist()
	for b.Loop() {
		if r := (Policy{}).Check(pw, person); len(r) != 0 {
			b.Fatal(r)
		}
	}
}
