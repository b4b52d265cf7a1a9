package nodetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// Register is a generated test register (registry.Generate) that Start
// imports before the node starts, sealed with the harness's data keys.
type Register struct {
	// Persons is how many persons it has; Seed is the generator's seed.
	// A seed gives the same persons every run (their dates are relative
	// to today), so a test can rely on what its persons are like.
	Persons int
	Seed    int64
}

// importRegister imports r into st the way `pforte registry import` does,
// recording the import in the audit trail with cfg's key, and returns its
// persons as stored, in the register's order.
func importRegister(t testing.TB, st store.Store, cfg node.Config, r Register) []store.Person {
	t.Helper()
	var csv bytes.Buffer
	if err := registry.Generate(&csv, r.Persons, r.Seed, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	importCSV(t, st, cfg.Keys, audit.New(st, cfg.AuditKey, time.Now, cfg.Logger), csv.Bytes())
	persons, err := load.FirstPersons(t.Context(), st, csv.Bytes(), r.Persons)
	if err != nil {
		t.Fatal(err)
	}
	return persons
}

// importCSV imports a register's CSV into st.
func importCSV(t testing.TB, st store.Store, keys registry.Sealer, log *audit.Log, csv []byte) {
	t.Helper()
	im := registry.NewImporter(st, keys, importAuditor{log}, time.Now)
	if _, err := im.Import(t.Context(), bytes.NewReader(csv), registry.ImportOptions{BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
}

// importAuditor records the register's events in the node's audit trail,
// as the import command does.
type importAuditor struct{ log *audit.Log }

func (a importAuditor) Record(ctx context.Context, e registry.AuditEvent) error {
	return a.log.Record(ctx, audit.Event{Actor: "import", Event: e.Event, Subject: e.Subject, Details: e.Details})
}

// PersonOf returns the person of Options.Register whom the eID identity
// id matches (the same names and birth date), as stored; it fails the
// test if there is none.
func (n *Node) PersonOf(t testing.TB, id sim.Identity) store.Person {
	t.Helper()
	for _, p := range n.Registered {
		if p.GivenNames == id.GivenNames && p.FamilyName == id.FamilyName && p.BirthDate == id.BirthDate {
			return p
		}
	}
	t.Fatalf("nodetest: no person of the register is %s", id.Label)
	return store.Person{}
}
