package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// db is what every part of the store holds: the dialect and the two handles,
// with the helpers that depend on them (row locks, placeholders, transactions
// and their retries). One Store shares one db among all its parts.
type db struct {
	dialect Dialect
	w       *sql.DB         // writes and read-modify-write transactions
	r       *sql.DB         // plain reads (the same pool as w on PostgreSQL)
	group   *groupCommitter // SQLite: the writer's transactions (groupcommit.go); nil on PostgreSQL
	health
}

// forUpdate is appended to a SELECT inside a read-modify-write transaction. SQLite
// has no row locks; its IMMEDIATE transactions already hold the write lock.
func (d *db) forUpdate() string {
	if d.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// placeholder returns the n-th positional parameter of a generated statement.
// Queries with few parameters use $n on both engines; statements generated with
// thousands of parameters use plain ? on SQLite, because SQLite keeps $n and ?n in
// a list the driver searches once per bound parameter (quadratic in the count).
// Plain ? parameters are numbered in order, so n must count up from 1.
func (d *db) placeholder(n int) string {
	if d.dialect == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// inTx runs fn in a write transaction and commits it, retrying (with fn run
// again) on transient serialisation failures. On SQLite the transaction may
// share its commit with others waiting at the same moment (groupcommit.go);
// fn then runs in a savepoint of that transaction, and a group SQLite rolled
// back under it runs fn again without counting as an attempt.
func (d *db) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	const attempts, regroups = 5, 50
	var err error
	for i, j := 0, 0; i < attempts; {
		if d.group != nil {
			err = d.group.do(ctx, fn)
		} else {
			err = d.tryTx(ctx, fn)
		}
		if errors.Is(err, errGroupAborted) && j < regroups && ctx.Err() == nil {
			j++
			continue
		}
		if err == nil || !d.retryable(err) || ctx.Err() != nil {
			return err
		}
		i++
		time.Sleep(time.Duration(i) * 5 * time.Millisecond)
	}
	return err
}

func (d *db) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		d.noteFault(err)
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		d.noteFault(err)
		return err
	}
	if err := tx.Commit(); err != nil {
		d.noteFault(err)
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

func (d *db) retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// serialization_failure, deadlock_detected
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// execCount runs one write statement and returns the rows it affected. On
// SQLite it runs in a transaction of its own that may share its commit
// (groupcommit.go); on PostgreSQL, where commits need no sharing, it runs
// alone without one (a BEGIN and a COMMIT would be two more round trips).
func (d *db) execCount(ctx context.Context, what, query string, args ...any) (int64, error) {
	res, err := d.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return n, nil
}

// exec runs one write statement, as execCount.
func (d *db) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.group == nil {
		res, err := d.w.ExecContext(ctx, query, args...)
		d.noteFault(err)
		return res, err
	}
	var res sql.Result
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// writeRow runs one write statement that returns a row (RETURNING), as
// execCount, and hands the row to scan.
func (d *db) writeRow(ctx context.Context, scan func(rowScanner) error, query string, args ...any) error {
	if d.group == nil {
		err := scan(d.w.QueryRowContext(ctx, query, args...))
		d.noteFault(err)
		return err
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		return scan(tx.QueryRowContext(ctx, query, args...))
	})
}

// isUniqueViolation reports whether err is a duplicate-key error.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// micros converts a time to the stored representation: microseconds since the
// epoch, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts the stored representation back to a UTC time.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// nonNil keeps empty byte slices from being stored as NULL in NOT NULL columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}
