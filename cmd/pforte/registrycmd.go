package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/registry"
)

func runRegistry(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "generate":
			return runRegistryGenerate(env, args[1:])
		case "import":
			return runRegistryImport(ctx, env, args[1:])
		}
	}
	return &usageError{msg: "usage: pforte registry generate|import …"}
}

func runRegistryGenerate(env *environment, args []string) error {
	fs := newFlagSet(env, "registry generate", "registry generate [--count N] [--seed S] [--out FILE]")
	count := fs.Int("count", 1000, "number of persons")
	seed := fs.Int64("seed", 1, "seed: the same seed and date give the same file")
	out := fs.String("out", "-", "output `file`, - for standard output")
	date := fs.String("date", "", "reference date YYYY-MM-DD for ages (default today)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *count < 1 || *count > 50_000_000 {
		return &usageError{msg: "registry generate: --count must be between 1 and 50000000"}
	}
	now := time.Now().UTC()
	if *date != "" {
		d, err := time.Parse(time.DateOnly, *date)
		if err != nil {
			return &usageError{msg: "registry generate: --date must be YYYY-MM-DD"}
		}
		now = d
	}
	w := env.stdout
	if *out != "-" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := registry.Generate(bw, *count, *seed, now); err != nil {
		return err
	}
	return bw.Flush()
}

// importAuditor records registry events in the audit trail.
type importAuditor struct{ log *audit.Log }

func (a importAuditor) Record(ctx context.Context, e registry.AuditEvent) error {
	return a.log.Record(ctx, audit.Event{Actor: "import", Event: e.Event, Subject: e.Subject, Details: e.Details})
}

func runRegistryImport(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "registry import", "registry import [--database DSN] [--config FILE] [--allow-invalid-kvnr] FILE|-")
	cf := config.NewFlags(fs)
	cf.BoolFlag("allow-invalid-kvnr", "registry.allow_invalid_kvnr", "accept KVNRs with a wrong check digit (test data only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{msg: "registry import: name one FILE, or - for standard input"}
	}
	cfg, err := cf.Load(env.environ, config.Needs{Keys: true, Audit: true})
	if err != nil {
		return err
	}
	var in io.Reader = env.stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	ring, err := cfg.Keyring()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	aud, err := auditLog(cfg, st, cfg.Logger(env.stderr))
	if err != nil {
		return err
	}
	sum, err := importRegistry(ctx, env, registry.NewImporter(st, ring, importAuditor{aud}, time.Now), in, cfg)
	if err != nil {
		return err
	}
	if sum.Skipped > 0 {
		return errSilentFailure
	}
	return nil
}

// importRegistry runs an import, reporting rejected rows and progress on stderr
// and the summary on stdout.
func importRegistry(ctx context.Context, env *environment, im *registry.Importer, in io.Reader, cfg config.Config) (registry.Summary, error) {
	start := time.Now()
	opts := registry.ImportOptions{
		BatchSize:        cfg.Registry.BatchSize,
		AllowInvalidKVNR: cfg.Registry.AllowInvalidKVNR,
		OnRowError: func(e *registry.RowError) {
			if env.isTerminal {
				fmt.Fprint(env.stderr, "\r\033[K")
			}
			fmt.Fprintf(env.stderr, "line %d: %s\n", e.Line, e.Reason)
		},
	}
	if env.isTerminal {
		opts.OnProgress = func(n int64) {
			rate := float64(n) / max(time.Since(start).Seconds(), 1e-9)
			fmt.Fprintf(env.stderr, "\r%s rows read (%s rows/s)", strconv.FormatInt(n, 10), strconv.FormatFloat(rate, 'f', 0, 64))
		}
	}
	sum, err := im.Import(ctx, in, opts)
	if env.isTerminal {
		fmt.Fprint(env.stderr, "\r\033[K")
	}
	if err != nil {
		return sum, err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(env.stdout, "imported %d, updated %d, unchanged %d, skipped %d (%d rows in %.1fs, %.0f rows/s)\n",
		sum.Inserted, sum.Updated, sum.Unchanged, sum.Skipped, sum.Read, elapsed.Seconds(),
		float64(sum.Read)/max(elapsed.Seconds(), 1e-9))
	return sum, nil
}
