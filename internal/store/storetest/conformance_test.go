package storetest_test

import (
	"testing"

	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/storetest"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestConformance runs the suite on every backend testdb knows: a new
// backend is its package plus its line in testdb.
func TestConformance(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Open(t) // skips a backend that is not available here
			storetest.Run(t, func(t *testing.T) store.Store { return b.Open(t) })
		})
	}
}
