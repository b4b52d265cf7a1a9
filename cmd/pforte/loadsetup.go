package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// maxSetupAccounts bounds `load setup --accounts`.
const maxSetupAccounts = load.MaxLoginWorkers

// runLoadSetup fills a new SQLite database for a load run: synthetic insured
// persons, and for the first of them an account whose password was chosen
// through the account flows (initial password, first login, change).
func runLoadSetup(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "load setup",
		"load setup --database sqlite:PATH [--count N] [--accounts M] [--out FILE] [--password-out FILE]")
	cf := config.NewFlags(fs)
	count := fs.Int("count", 1000, "synthetic insured persons to generate and import")
	accounts := fs.Int("accounts", 1, fmt.Sprintf("persons given the password (1-%d, at most --count); one per load worker keeps their failure counters apart", maxSetupAccounts))
	seed := fs.Int64("seed", 1, "seed of the synthetic data")
	out := fs.String("out", "", "write the accounts' KVNRs to this `file`, one a line (default: standard output)")
	pwOut := fs.String("password-out", "", "write the password to this `file` (mode 0600) instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("load setup: unexpected argument %q", fs.Arg(0))}
	}
	if *count < 1 || *count > 1_000_000 {
		return &usageError{msg: "load setup: --count must be between 1 and 1000000"}
	}
	if *accounts < 1 || *accounts > min(*count, maxSetupAccounts) {
		return &usageError{msg: fmt.Sprintf("load setup: --accounts must be between 1 and %d and at most --count", maxSetupAccounts)}
	}
	cfg, err := cf.Load(env.environ, config.Needs{Keys: true, Audit: true})
	if err != nil {
		return err
	}
	dialect, path, _ := sqlstore.ParseDSN(cfg.Database)
	if dialect != sqlstore.SQLite {
		return &usageError{msg: "load setup: --database must be sqlite:PATH (setup fills a new, throwaway database only)"}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return &usageError{msg: fmt.Sprintf("load setup: %s exists; setup fills a new, throwaway database only", path)}
	}
	ring, err := cfg.Keyring()
	if err != nil {
		return err
	}
	logger := cfg.Logger(env.stderr)
	st, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()

	var csv bytes.Buffer
	if err := registry.Generate(&csv, *count, *seed, time.Now().UTC()); err != nil {
		return err
	}
	aud, err := auditLog(cfg, st, logger)
	if err != nil {
		return err
	}
	im := registry.NewImporter(st, ring, importAuditor{aud}, time.Now)
	quiet := *env
	quiet.isTerminal = false
	quiet.stdout = env.stderr
	if _, err := importRegistry(ctx, &quiet, im, bytes.NewReader(csv.Bytes()), cfg); err != nil {
		return err
	}
	persons, err := load.FirstPersons(ctx, st, csv.Bytes(), *accounts)
	if err != nil {
		return err
	}
	a, err := buildNode(ctx, cfg, logger, st)
	if err != nil {
		return err
	}
	pw, err := load.Password(a.Accounts, persons)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := load.Prepare(ctx, a.Accounts, a.Sessions, persons, pw); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "load setup: %d accounts with a chosen password in %.1fs\n", len(persons), time.Since(start).Seconds())

	var kvnrs strings.Builder
	for _, p := range persons {
		kvnrs.WriteString(p.KVNR + "\n")
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(kvnrs.String()), 0o600); err != nil {
			return err
		}
	} else {
		io.WriteString(env.stdout, kvnrs.String())
	}
	if *pwOut != "" {
		return os.WriteFile(*pwOut, []byte(pw+"\n"), 0o600)
	}
	fmt.Fprintf(env.stdout, "password: %s\n", pw)
	return nil
}
