// Package sqltest opens migrated, isolated sqlstore databases for tests: SQLite in
// the test's temporary directory always, PostgreSQL in a fresh schema when the
// environment variable PFORTE_TEST_POSTGRES holds a postgres:// URL. Each database
// is removed when the test ends. Only tests import this package.
package sqltest

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/pforte/pforte/internal/store/sqlstore"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL for tests.
const EnvPostgres = "PFORTE_TEST_POSTGRES"

// SQLite returns a migrated store on a new SQLite file in t.TempDir().
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "pforte.db"))
}

// PostgresURL returns a URL of a new, empty schema in the database named by
// PFORTE_TEST_POSTGRES, dropped when the test ends; it skips the test when the
// variable is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip(EnvPostgres + " is not set; skipping PostgreSQL")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "pforte_test_" + hex.EncodeToString(b[:])
	admin, err := sqlstore.Open(t.Context(), base, sqlstore.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("sqltest: connect to %s: %v", EnvPostgres, err)
	}
	if _, err := admin.DB().ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("sqltest: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("sqltest: drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("sqltest: %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres returns a migrated store in a new schema (see PostgresURL).
func Postgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, PostgresURL(t))
}

// Open returns a migrated store on the named database, closed when the test
// ends. Stores opened on one URL share their data (a second "node").
func Open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	return open(t, dsn)
}

// OpenWith is Open with options (benchmarks compare SQLite settings).
func OpenWith(t testing.TB, dsn string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	return openWith(t, dsn, opts)
}

func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	return openWith(t, dsn, sqlstore.Options{})
}

func openWith(t testing.TB, dsn string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn, opts)
	if err != nil {
		t.Fatalf("sqltest: open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("sqltest: migrate: %v", err)
	}
	return s
}

// Backends runs fn once per available backend as a subtest named "sqlite" or
// "postgres", each with a fresh store.
func Backends(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
