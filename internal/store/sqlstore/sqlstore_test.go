package sqlstore_test

import (
	"io/fs"
	"path"
	"slices"
	"testing"

	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// TestMigrationsMatch checks that both dialects have the same migration numbers.
func TestMigrationsMatch(t *testing.T) {
	versions := func(dir string) []string {
		entries, err := fs.ReadDir(sqlstore.MigrationsFS(), dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if path.Ext(e.Name()) != ".sql" {
				t.Errorf("%s/%s: not a .sql migration", dir, e.Name())
			}
			out = append(out, e.Name()[:5])
		}
		return out
	}
	sqlite, pg := versions("migrations/sqlite"), versions("migrations/postgres")
	if len(sqlite) == 0 || !slices.Equal(sqlite, pg) {
		t.Errorf("migration numbers differ: sqlite %v, postgres %v", sqlite, pg)
	}
}

// TestMigrateFromEmptyReachesLatest runs every migration on an empty database of
// each dialect, twice (the second run must be a no-op).
func TestMigrateFromEmptyReachesLatest(t *testing.T) {
	sqltest.Backends(t, func(t *testing.T, s *sqlstore.Store) {
		current, latest, err := s.SchemaVersion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if current != latest || latest == 0 {
			t.Errorf("schema version %d, latest %d", current, latest)
		}
		applied, err := s.Migrate(t.Context())
		if err != nil || len(applied) != 0 {
			t.Errorf("second Migrate applied %v, %v; want nothing", applied, err)
		}
	})
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		dialect sqlstore.Dialect
		source  string
		wantErr bool
	}{
		{"sqlite:./pforte-data/pforte.db", sqlstore.SQLite, "./pforte-data/pforte.db", false},
		{"postgres://localhost/test", sqlstore.Postgres, "postgres://localhost/test", false},
		{"postgresql://u@h:5432/db?sslmode=disable", sqlstore.Postgres, "postgresql://u@h:5432/db?sslmode=disable", false},
		{"sqlite:", "", "", true},
		{"sqlite:x.db?mode=memory", "", "", true},
		{"mysql://x", "", "", true},
		{"", "", "", true},
		{"./pforte.db", "", "", true},
	}
	for _, tt := range tests {
		d, src, err := sqlstore.ParseDSN(tt.dsn)
		if (err != nil) != tt.wantErr || d != tt.dialect || src != tt.source {
			t.Errorf("ParseDSN(%q) = %q, %q, %v; want %q, %q, error %v", tt.dsn, d, src, err, tt.dialect, tt.source, tt.wantErr)
		}
	}
}

func TestSQLiteSynchronousOption(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []string{"", "full", "normal"} {
		st, err := sqlstore.Open(t.Context(), "sqlite:"+dir+"/"+mode+"x.db", sqlstore.Options{SQLiteSynchronous: mode})
		if err != nil {
			t.Fatalf("%q: %v", mode, err)
		}
		var got int
		if err := st.DB().QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"": 2, "full": 2, "normal": 1}[mode]
		if got != want {
			t.Errorf("%q: synchronous = %d, want %d", mode, got, want)
		}
		st.Close()
	}
	if _, err := sqlstore.Open(t.Context(), "sqlite:"+dir+"/y.db", sqlstore.Options{SQLiteSynchronous: "off"}); err == nil {
		t.Error("synchronous off accepted")
	}
}
