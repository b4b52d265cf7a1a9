// Package sqlstore is Pforte's one implementation of the store contract, on
// database/sql for two dialects: SQLite (modernc.org/sqlite, the embedded default)
// and PostgreSQL (pgx). Both run the same SQL text; what differs lives in the
// dialect value (row locks, error codes) and in the per-dialect migration folders,
// which carry the same numbers.
//
// Concurrency model:
//
//   - SQLite: one writer connection with every transaction begun IMMEDIATE,
//     driven by a group committer (groupcommit.go) that runs the write
//     transactions waiting at the same moment in one commit, each in its own
//     savepoint, so nobody spins on SQLITE_BUSY and many share one fsync; plus
//     a pool of reader connections that WAL lets run beside the writer.
//   - PostgreSQL: one pool; read-modify-write transactions lock their row with
//     SELECT … FOR UPDATE, so updates from any number of nodes serialise on the
//     row and none is lost.
//
// Composition: Store has one part per role of the store contract (persons,
// accounts, sessions, letters, identifications, devices, approvals, notices,
// counters, oneTimes, auditChain, signingKeys, oidc, upgrades, loginEvents,
// staffAccounts, staffSessions, staffRequests, staffKeys, search, mailbox,
// assistantTurns, emails, representations, passwordLogins, intakes), each a small type in its role's file (persons.go,
// approvals.go, …) and embedded in Store, so *Store is a store.Store while no
// type carries more than one role. Store itself adds only the life cycle: Open, Migrate, SchemaVersion, Ping, Close,
// Dialect and DB. All parts share one db (db.go): the dialect, the writer and
// reader handles, and what every part needs of them: transactions with their
// retries, row locks, placeholders, error codes, the time encoding.
// Writes that belong to another role but must commit in the same transaction go
// through functions that take the *sql.Tx: every role queues its notices with
// queueNotices, every message to a person queues its e-mail with
// queueMessageMail, a letter's codes (the earlier ones voided, the new ones
// stored, the initial password set) commit with the letter through
// voidOneTimes, putOneTime and updateAccountTx (QueueLetter), and approvals
// holds persons and devices because an approval's executor updates both
// through the approving transaction (approvalTx).
//
// Only package main imports sqlstore; everything else sees the store interfaces.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"

	"github.com/pforte/pforte/internal/store"
)

//go:embed migrations
var migrations embed.FS

// Dialect names a supported database engine.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options tunes a store. The zero value gives the documented defaults.
type Options struct {
	// MaxOpenConns bounds PostgreSQL connections and SQLite reader
	// connections. Default 16 for PostgreSQL, 4 for SQLite readers.
	MaxOpenConns int
	// BusyTimeout is how long SQLite waits for a lock held by another
	// process. Default 10 s.
	BusyTimeout time.Duration
	// SQLiteSynchronous is SQLite's synchronous setting: "full" (the
	// default: every commit is on disk before it returns) or "normal" (in WAL
	// mode commits are not synced one by one; a power loss or OS crash may
	// roll back the last commits, an application crash loses nothing, and the
	// database is never corrupted). See docs/operations.md for the trade-off.
	SQLiteSynchronous string
	// MinFreeBytes is the free space SQLite's file system must keep for
	// Ping to report ready (DefaultMinFreeBytes when 0; see health.go).
	MinFreeBytes int64
}

// Store implements store.Store on a SQL database by embedding one part per role
// of the contract (see the package documentation), all on one shared db.
type Store struct {
	*db
	*persons
	*accounts
	*sessions
	*letters
	*identifications
	*devices
	*approvals
	*notices
	*counters
	*oneTimes
	*auditChain
	*signingKeys
	*oidc
	*upgrades
	*loginEvents
	*staffAccounts
	*staffSessions
	*staffRequests
	*staffKeys
	*personLocks
	*search
	*mailbox
	*assistantTurns
	*emails
	*representations
	*passwordLogins
	*intakes
}

var _ store.Store = (*Store)(nil)

// newStore composes a Store of its roles on d.
func newStore(d *db) *Store {
	p, dev := &persons{db: d}, &devices{db: d}
	return &Store{
		db:              d,
		persons:         p,
		accounts:        &accounts{db: d},
		sessions:        &sessions{db: d},
		letters:         &letters{db: d},
		identifications: &identifications{db: d},
		devices:         dev,
		approvals:       &approvals{db: d, persons: p, devices: dev},
		notices:         &notices{db: d},
		counters:        &counters{db: d},
		oneTimes:        &oneTimes{db: d},
		auditChain:      &auditChain{db: d},
		signingKeys:     &signingKeys{db: d},
		oidc:            &oidc{db: d},
		upgrades:        &upgrades{db: d},
		loginEvents:     &loginEvents{db: d},
		staffAccounts:   &staffAccounts{db: d},
		staffSessions:   &staffSessions{db: d},
		staffRequests:   &staffRequests{db: d},
		staffKeys:       &staffKeys{db: d},
		personLocks:     &personLocks{db: d},
		search:          &search{db: d},
		mailbox:         &mailbox{db: d},
		assistantTurns:  &assistantTurns{db: d},
		emails:          &emails{db: d},
		representations: &representations{db: d},
		passwordLogins:  &passwordLogins{db: d},
		intakes:         &intakes{db: d},
	}
}

// ParseDSN splits a --database value into its dialect and the driver's data
// source: "sqlite:PATH" or a "postgres://" / "postgresql://" URL.
func ParseDSN(dsn string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return "", "", errors.New("sqlstore: sqlite: needs a file path, e.g. sqlite:./pforte-data/pforte.db")
		}
		if strings.ContainsAny(path, "?#") {
			return "", "", errors.New("sqlstore: sqlite path must not contain '?' or '#'")
		}
		return SQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return "", "", errors.New("sqlstore: postgres URL does not parse")
		}
		return Postgres, dsn, nil
	default:
		return "", "", errors.New("sqlstore: database must be sqlite:PATH or a postgres:// URL")
	}
}

// Open connects to the database named by dsn (see ParseDSN). It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	dialect, source, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	s := newStore(&db{dialect: dialect, health: health{now: time.Now}})
	switch dialect {
	case SQLite:
		if opts.MaxOpenConns <= 0 {
			opts.MaxOpenConns = 4
		}
		s.health.path = source
		s.health.minFree = DefaultMinFreeBytes
		if opts.MinFreeBytes > 0 {
			s.health.minFree = uint64(opts.MinFreeBytes)
		}
		syncMode := "FULL"
		switch opts.SQLiteSynchronous {
		case "", "full":
		case "normal":
			syncMode = "NORMAL"
		default:
			return nil, fmt.Errorf("sqlstore: sqlite synchronous %q is not full or normal", opts.SQLiteSynchronous)
		}
		pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(%s)",
			opts.BusyTimeout.Milliseconds(), syncMode)
		// The writer gets a larger page cache and keeps statement journals
		// in memory: large upserts then touch the disk only at commit.
		// Both keep their prepared statements (stmtcache.go).
		drv := &sqlite.Driver{}
		w := sql.OpenDB(sqliteConnector{drv: drv, dsn: "file:" + source + "?" + pragmas +
			"&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(8192)&_txlock=immediate"})
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		r := sql.OpenDB(sqliteConnector{drv: drv, dsn: "file:" + source + "?" + pragmas + "&_pragma=query_only(1)"})
		r.SetMaxOpenConns(opts.MaxOpenConns)
		r.SetMaxIdleConns(opts.MaxOpenConns)
		s.w, s.r = w, r
		s.group = newGroupCommitter(w, &s.health)
		// The writer creates the file and switches it to WAL before any reader.
		if err := s.w.PingContext(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
	case Postgres:
		if opts.MaxOpenConns <= 0 {
			opts.MaxOpenConns = 16
		}
		pool, err := sql.Open("pgx", source)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
		}
		pool.SetMaxOpenConns(opts.MaxOpenConns)
		pool.SetMaxIdleConns(opts.MaxOpenConns)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		s.w, s.r = pool, pool
	}
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect reports the engine behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers and can take writes (health.go):
// not while its disk is full or read-only, or moments after it refused a
// write for either reason. It changes nothing.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.ping(ctx); err != nil {
		return err
	}
	return s.writable()
}

// ping checks that the database answers.
func (s *Store) ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
	}
	return nil
}

// Close closes all connections.
func (s *Store) Close() error {
	errs := []error{s.persons.close()}
	if s.group != nil {
		s.group.close()
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// DB returns the writer pool, for tests and tools that must reach below the
// contract (the audit tamper tests do).
func (s *Store) DB() *sql.DB { return s.w }

func (s *Store) migrationFS() (fs.FS, goose.Dialect, error) {
	switch s.dialect {
	case SQLite:
		sub, err := fs.Sub(migrations, "migrations/sqlite")
		return sub, goose.DialectSQLite3, err
	default:
		sub, err := fs.Sub(migrations, "migrations/postgres")
		return sub, goose.DialectPostgres, err
	}
}

func (s *Store) provider() (*goose.Provider, error) {
	fsys, dialect, err := s.migrationFS()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	var opts []goose.ProviderOption
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	if s.dialect == Postgres {
		// Several nodes may start at once; one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.w, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return p, nil
}

// Migrate brings the schema to the latest version and returns the versions it
// applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// SchemaVersion returns the applied schema version and the latest one this
// binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	return current, latest, nil
}

// MigrationsFS returns the embedded migrations, one folder per dialect under
// "migrations/".
func MigrationsFS() fs.FS { return migrations }
