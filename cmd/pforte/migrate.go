package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/seal/reseal"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// openStore opens the configured database and brings its schema up to date when
// migrate is set; otherwise it refuses a schema older than this binary.
func openStore(ctx context.Context, cfg config.Config, migrate bool) (*sqlstore.Store, error) {
	dialect, source, err := sqlstore.ParseDSN(cfg.Database)
	if err != nil {
		return nil, err
	}
	if dialect == sqlstore.SQLite {
		if err := os.MkdirAll(filepath.Dir(source), 0o700); err != nil {
			return nil, fmt.Errorf("database folder: %w", err)
		}
	}
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Options{SQLiteSynchronous: cfg.SQLite.Synchronous,
		MinFreeBytes: cfg.SQLite.MinFreeMB << 20})
	if err != nil {
		return nil, err
	}
	if dialect == sqlstore.SQLite {
		// The database holds personal data: only its owner may read it.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Chmod(source+suffix, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
				st.Close()
				return nil, fmt.Errorf("database file: %w", err)
			}
		}
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}
	current, latest, err := st.SchemaVersion(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if current != latest {
		st.Close()
		return nil, fmt.Errorf("database schema is at version %d, this binary config.Needs %d: run 'pforte migrate' first", current, latest)
	}
	return st, nil
}

func runMigrate(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "migrate", "migrate [--database DSN] [--config FILE]")
	cf := config.NewFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.Load(env.environ, config.Needs{})
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()
	current, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "schema version %d\n", current)
	if cfg.DataKeys == "" && cfg.DataKeysFile == "" {
		done, err := st.UpgradeDone(ctx, reseal.Name)
		if err != nil {
			return err
		}
		if !done {
			fmt.Fprintln(env.stdout, "sealed fields not yet bound to their place: run 'pforte migrate' with the data keys, or 'pforte serve' does it at start")
		}
		return nil
	}
	ring, err := cfg.Keyring()
	if err != nil {
		return &config.Error{Problems: []string{err.Error()}}
	}
	res, err := resealAtRest(ctx, st, ring)
	if err != nil {
		return err
	}
	if !res.AlreadyDone {
		fmt.Fprintf(env.stdout, "sealed fields bound to their place: %d IBANs and %d outbox payloads re-sealed\n", res.IBANs, res.Payloads)
	}
	return nil
}

// resealAtRest runs the data upgrade that binds sealed fields to their place
// (package reseal), once per database; later calls cost one read.
func resealAtRest(ctx context.Context, st *sqlstore.Store, ring *seal.Keyring) (reseal.Result, error) {
	res, err := reseal.Run(ctx, st, ring, time.Now, 0)
	if err != nil {
		return res, fmt.Errorf("bind sealed fields to their place: %w", err)
	}
	return res, nil
}

func runVersion(_ context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "version", "version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	fmt.Fprintf(env.stdout, "pforte %s (%s)\n", version, goVersion)
	return nil
}

func runKeygen(_ context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "keygen", "keygen [--id ID] [--subject | --audit]")
	id := fs.String("id", "k1", "key `id` (a-z, 0-9, -)")
	subject := fs.Bool("subject", false, "print a subject key for oidc.subject_key instead (base64, 32 bytes)")
	auditKey := fs.Bool("audit", false, "print an audit key for audit.key_file instead (base64, 32 bytes)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *subject && *auditKey {
		return &usageError{msg: "keygen: --subject and --audit exclude each other"}
	}
	if *auditKey {
		fmt.Fprintln(env.stdout, audit.GenerateKeyText())
		return nil
	}
	if *subject {
		fmt.Fprintln(env.stdout, newSubjectKey())
		return nil
	}
	k, err := seal.GenerateKey(*id)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	fmt.Fprintln(env.stdout, k.Encode())
	return nil
}

// newSubjectKey returns 32 random bytes in base64: a key for
// oidc.subject_key.
func newSubjectKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
