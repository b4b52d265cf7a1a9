package sqlstore

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestRefusedWriteKeepsPingFailing: a write the database refuses for lack of
// write access (here SQLite's own SQLITE_READONLY, from query_only on the
// one writer connection) makes Ping fail for faultMemory, then Ping passes
// again by itself; a write refused for another reason (a constraint) does
// not count.
func TestRefusedWriteKeepsPingFailing(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "pforte.db"), Options{MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	s.health.now = func() time.Time { return now }
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping of a healthy database: %v", err)
	}

	constraint := s.inTx(ctx, func(tx *sql.Tx) error {
		for range 2 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO data_upgrades (name, done_at) VALUES ('twice', 0)"); err != nil {
				return err
			}
		}
		return nil
	})
	if constraint == nil {
		t.Fatal("one name was stored twice")
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("a refused constraint made ping fail: %v", err)
	}

	if _, err := s.w.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	refused := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO data_upgrades (name, done_at) VALUES ('x', 0)")
		return err
	})
	if refused == nil {
		t.Fatal("a write on a read-only connection was stored")
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("ping passes right after a refused write (%v)", refused)
	}
	now = now.Add(faultMemory - time.Millisecond)
	if err := s.Ping(ctx); err == nil {
		t.Errorf("ping passes %v after a refused write, before faultMemory", faultMemory-time.Millisecond)
	}
	now = now.Add(time.Millisecond)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping still fails faultMemory after the refused write: %v", err)
	}
}
