package nodetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// registerSeed is the seed of the generated register Insure imports.
const registerSeed = 7

// Insured are persons of the generated test register on a node, as Insure
// left them.
type Insured struct {
	// Person is Persons[0].
	Person store.Person
	// Persons have an account, all with Password.
	Persons  []store.Person
	Password string
	// Others are in the register without an account.
	Others []store.Person
}

// Insure imports max(accounts, 3) persons of the generated test register
// (registry.Generate, seed 7) the way `pforte registry import` does, and
// gives the first max(accounts, 1) of them one random password the policy
// accepts for each, the way a person gets one (GivePassword). Names,
// addresses and birth dates are the register's.
func (n *Node) Insure(t testing.TB, accounts int) Insured {
	t.Helper()
	ctx := t.Context()
	accounts = max(accounts, 1)
	count := max(accounts, 3)
	var csv bytes.Buffer
	if err := registry.Generate(&csv, count, registerSeed, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	im := registry.NewImporter(n.Store, n.Cfg.Keys, importAuditor{n.Audit}, time.Now)
	if _, err := im.Import(ctx, bytes.NewReader(csv.Bytes()), registry.ImportOptions{BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	r, err := registry.NewReader(bytes.NewReader(csv.Bytes()), registry.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var all []store.Person
	for len(all) < count {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("nodetest: the register has %d persons, want %d", len(all), count)
		}
		if err != nil {
			continue
		}
		p, err := n.Store.PersonByKVNR(ctx, row.KVNR)
		if err != nil {
			t.Fatalf("nodetest: person %d of the register: %v", len(all)+1, err)
		}
		all = append(all, p)
	}
	in := Insured{Person: all[0], Persons: all[:accounts], Others: all[accounts:], Password: n.acceptedPassword(t, all[:accounts])}
	for _, p := range in.Persons {
		n.GivePassword(t, p, in.Password)
	}
	return in
}

// acceptedPassword returns a random password the policy accepts for every
// one of persons.
func (n *Node) acceptedPassword(t testing.TB, persons []store.Person) string {
	t.Helper()
	for range 10 {
		pw := "Last " + strings.ToLower(rand.Text())
		ok := true
		for _, p := range persons {
			if len(n.Accounts.CheckNew(p, pw)) > 0 {
				ok = false
				break
			}
		}
		if ok {
			return pw
		}
	}
	t.Fatal("nodetest: no random password passed the policy for every account")
	return ""
}

// importAuditor records the register's events in the node's audit trail,
// as the import command does.
type importAuditor struct{ log *audit.Log }

func (a importAuditor) Record(ctx context.Context, e registry.AuditEvent) error {
	return a.log.Record(ctx, audit.Event{Actor: "import", Event: e.Event, Subject: e.Subject, Details: e.Details})
}
