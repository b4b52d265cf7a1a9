package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"modernc.org/sqlite"
)

// The SQLite driver parses every statement it is given through
// database/sql's Exec and Query anew, and parsing is a tenth of a small
// request's CPU. stmtCacheConn keeps each connection's prepared statements by
// their text and runs the next statement with the same text on the prepared
// one, as database/sql does for a *sql.Stmt. Statements that are generated in
// many shapes (long IN lists, bulk upserts) and scripts are not kept, and the
// cache has a bound; a statement whose rows are still open when the same text
// comes again is run on a fresh one.

// stmtCacheSize bounds the statements one connection keeps.
const stmtCacheSize = 256

// stmtCacheMaxArgs: statements with more parameters are generated shapes.
const stmtCacheMaxArgs = 64

// sqliteConnector opens SQLite connections that keep their statements.
type sqliteConnector struct {
	dsn string
	drv *sqlite.Driver
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newStmtCacheConn(conn)
}

func (c sqliteConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what the SQLite driver's connection offers database/sql.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // its rows are open
}

type stmtCacheConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

func newStmtCacheConn(c driver.Conn) (driver.Conn, error) {
	sc, ok := c.(sqliteConn)
	if !ok {
		c.Close()
		return nil, errors.New("sqlstore: the SQLite driver's connection lacks an interface database/sql uses")
	}
	return &stmtCacheConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// cacheable reports whether a statement of this text is worth keeping.
func cacheable(query string, args int) bool {
	return args <= stmtCacheMaxArgs && !strings.Contains(query, ";")
}

// prepared returns the kept statement for query, preparing and keeping it
// when it is new; nil when it is not to be kept or is in use.
func (c *stmtCacheConn) prepared(ctx context.Context, query string, args int) (*cachedStmt, error) {
	if !cacheable(query, args) {
		return nil, nil
	}
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evict()
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		return nil, errors.Join(errors.New("sqlstore: the SQLite driver's statement lacks a context method"), ds.Close())
	}
	s := &cachedStmt{stmt: st}
	c.stmts[query] = s
	return s, nil
}

// evict closes every kept statement that is not in use.
func (c *stmtCacheConn) evict() {
	for q, s := range c.stmts {
		if !s.busy {
			_ = s.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.prepared(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	s.busy = true
	defer func() { s.busy = false }()
	return s.stmt.ExecContext(ctx, args)
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.prepared(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &releasingRows{Rows: rows, s: s}, nil
}

func (c *stmtCacheConn) Close() error {
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// releasingRows gives its statement back when closed.
type releasingRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	return err
}
