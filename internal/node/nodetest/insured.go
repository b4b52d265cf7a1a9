package nodetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/load"
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
	importCSV(t, n.Store, n.Cfg.Keys, n.Audit, csv.Bytes())
	all, err := load.FirstPersons(ctx, n.Store, csv.Bytes(), count)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := load.Password(n.Accounts, all[:accounts])
	if err != nil {
		t.Fatal(err)
	}
	if err := load.Prepare(ctx, n.Accounts, n.Sessions, all[:accounts], pw); err != nil {
		t.Fatal(err)
	}
	return Insured{Person: all[0], Persons: all[:accounts], Others: all[accounts:], Password: pw}
}
