// Package testdb gives tests fresh, migrated stores on every storage backend
// Pforte has: SQLite in the test's temporary folder always, PostgreSQL in a
// fresh schema when PFORTE_TEST_POSTGRES names a database. Domain tests and
// whole-node tests take their store from here as a store.Store, so they run
// on any backend; a new backend is its package plus one line in backends.
// Only tests import this package.
package testdb

import (
	"os"
	"sync"
	"testing"

	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// EnvBackend names the environment variable that picks the backend Open
// uses: "sqlite" (the default) or "postgres" (which needs
// PFORTE_TEST_POSTGRES).
const EnvBackend = "PFORTE_TEST_BACKEND"

// Backend is one storage engine for tests.
type Backend struct {
	Name string
	// Open returns a fresh, empty, migrated store, closed when t ends. It
	// skips t when the backend is not available here.
	Open func(t testing.TB) store.Store
	// Reopen returns a second handle on the database of a store Open
	// returned: what another node on the same database sees.
	Reopen func(t testing.TB, st store.Store) store.Store
}

// backends are the engines, the default first.
var backends = []Backend{
	{Name: "sqlite", Open: sqliteOpen, Reopen: reopen},
	{Name: "postgres", Open: postgresOpen, Reopen: reopen},
}

// Backends returns every backend.
func Backends() []Backend { return append([]Backend(nil), backends...) }

// Open returns a fresh store of the backend PFORTE_TEST_BACKEND names
// (SQLite by default).
func Open(t testing.TB) store.Store {
	t.Helper()
	name := os.Getenv(EnvBackend)
	if name == "" {
		name = backends[0].Name
	}
	for _, b := range backends {
		if b.Name == name {
			return b.Open(t)
		}
	}
	t.Fatalf("testdb: %s=%q names no backend", EnvBackend, name)
	return nil
}

// Each runs fn once per backend as a subtest named after it, each with a
// fresh store; a backend not available here is skipped.
func Each(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open(t)) })
	}
}

// Reopen returns a second handle on st's database: another node's view.
func Reopen(t testing.TB, st store.Store) store.Store {
	t.Helper()
	return reopen(t, st)
}

// dsns remembers where each store opened here lives, for Reopen.
var dsns sync.Map // store.Store -> string

func sqliteOpen(t testing.TB) store.Store {
	t.Helper()
	dsn := "sqlite:" + t.TempDir() + "/pforte.db"
	st := sqltest.Open(t, dsn)
	dsns.Store(store.Store(st), dsn)
	return st
}

func postgresOpen(t testing.TB) store.Store {
	t.Helper()
	dsn := sqltest.PostgresURL(t)
	st := sqltest.Open(t, dsn)
	dsns.Store(store.Store(st), dsn)
	return st
}

func reopen(t testing.TB, st store.Store) store.Store {
	t.Helper()
	dsn, ok := dsns.Load(st)
	if !ok {
		t.Fatal("testdb: Reopen of a store testdb did not open")
	}
	other := sqltest.Open(t, dsn.(string))
	dsns.Store(store.Store(other), dsn)
	return other
}

// SQL returns the SQL store behind st, for the few tests that tamper with
// rows directly (what an attacker with database access could do); it skips
// t for a backend that is not SQL.
func SQL(t testing.TB, st store.Store) *sqlstore.Store {
	t.Helper()
	s, ok := st.(*sqlstore.Store)
	if !ok {
		t.Skipf("testdb: %T is no SQL store", st)
	}
	return s
}
