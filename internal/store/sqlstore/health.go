package sqlstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A database that answers a ping may still refuse every write: its disk is
// full, its file system was remounted read-only, PostgreSQL ran out of
// space. Ping reports such a state as not ready, so that /readyz takes the
// node out of the balancer and the HTTP frame answers the failed requests
// 503 with Retry-After instead of 500 (package server). Two signals:
//
//   - a write refused for lack of space or write access (noteFault) makes
//     Ping fail for faultMemory afterwards;
//   - on SQLite, Ping also looks at the file system holding the database:
//     mounted read-only, or less than Options.MinFreeBytes free.
//
// Neither changes data; both clear by themselves once space or write
// access returns.

// faultMemory is how long a refused write keeps Ping failing.
const faultMemory = 5 * time.Second

// DefaultMinFreeBytes is the free space SQLite's file system must keep for
// the node to report ready.
const DefaultMinFreeBytes = 16 << 20

// health is the part of db that remembers refused writes.
type health struct {
	path      string // the SQLite file; "" on PostgreSQL
	minFree   uint64
	lastFault atomic.Int64 // unix nanoseconds of the last refused write
	now       func() time.Time
}

// noteFault records err when it says the database cannot write at all.
func (h *health) noteFault(err error) {
	if err != nil && storageFault(err) {
		h.lastFault.Store(h.now().UnixNano())
	}
}

// writable reports why the database cannot take writes now, or nil.
func (h *health) writable() error {
	if at := h.lastFault.Load(); at != 0 && h.now().Sub(time.Unix(0, at)) < faultMemory {
		return errors.New("sqlstore: the database refused a write moments ago (no space or no write access)")
	}
	if h.path == "" {
		return nil
	}
	free, readOnly, err := diskState(filepath.Dir(h.path))
	if err != nil {
		return fmt.Errorf("sqlstore: the database's file system: %w", err)
	}
	if readOnly {
		return errors.New("sqlstore: the database's file system is mounted read-only")
	}
	if free < h.minFree {
		return fmt.Errorf("sqlstore: %d bytes free on the database's file system, fewer than the %d it must keep", free, h.minFree)
	}
	return nil
}

// storageFault reports whether err is the database refusing writes for
// lack of space or write access (not a conflict, not a bad statement).
func storageFault(err error) bool {
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// class 53: insufficient resources (disk_full, out_of_memory, …);
		// 25006: read_only_sql_transaction (a standby).
		return len(pgErr.Code) == 5 && pgErr.Code[:2] == "53" || pgErr.Code == "25006"
	}
	return false
}
