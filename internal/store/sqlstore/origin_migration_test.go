package sqlstore_test

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/pforte/pforte/internal/store/sqlstore"
)

// TestSessionOriginBackfill: migration 00008 gives sessions from before an
// origin from what they show, and never eid (a right that an eID origin grants
// is not granted by a guess).
func TestSessionOriginBackfill(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(sqlstore.MigrationsFS(), "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	rows := []struct{ hash, kind, level, amr string }{
		{"pwd", "browser", "low", "pwd"},
		{"initial", "browser", "low", "pwd"},
		{"raised", "browser", "high", "pwd hwk pin"},
		{"app", "app", "high", "hwk fpt"},
		{"eid", "browser", "high", "hwk pin"},
	}
	for _, r := range rows {
		if _, err := db.ExecContext(ctx, `INSERT INTO sessions (token_hash, person_id, kind, level, amr, must_change_password,
			created_at, last_seen_at, idle_expires_at, expires_at) VALUES (?, 1, ?, ?, ?, ?, 1000, 1000, 2000, 3000)`,
			[]byte(r.hash), r.kind, r.level, r.amr, r.hash == "initial"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	res, err := db.QueryContext(ctx, "SELECT token_hash, origin, origin_at FROM sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	for res.Next() {
		var hash []byte
		var origin string
		var at int64
		if err := res.Scan(&hash, &origin, &at); err != nil {
			t.Fatal(err)
		}
		if at != 1000 {
			t.Errorf("%s: origin_at %d, want the creation 1000", hash, at)
		}
		got[string(hash)] = origin
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pwd": "password", "initial": "letter", "raised": "device", "app": "device", "eid": "device"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("origins after 00008 (-want +got):\n%s", diff)
	}
}
