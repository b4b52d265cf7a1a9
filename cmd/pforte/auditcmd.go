package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/config"
)

// fileList is a flag that may be given more than once.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

var _ flag.Value = (*fileList)(nil)

func runAudit(ctx context.Context, env *environment, args []string) error {
	const synopsis = "audit verify [--database DSN] [--config FILE] [--checkpoints FILE]…"
	if len(args) == 0 || args[0] != "verify" {
		return &usageError{msg: "usage: pforte " + synopsis}
	}
	fs := newFlagSet(env, "audit verify", synopsis)
	cf := config.NewFlags(fs)
	var files fileList
	fs.Var(&files, "checkpoints", "checkpoint `file` (audit.checkpoint_file) to check the chain against; may be repeated")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := cf.Load(env.environ, config.Needs{Audit: true})
	if err != nil {
		return err
	}
	key, err := cfg.AuditKey()
	if err != nil {
		return &config.Error{Problems: []string{err.Error()}}
	}
	var checkpoints []audit.Checkpoint
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		cps, err := audit.ParseCheckpoints(f, key)
		f.Close()
		if err != nil {
			fmt.Fprintf(env.stdout, "checkpoint file %s REJECTED: %v\n", name, err)
			return errSilentFailure
		}
		checkpoints = append(checkpoints, cps...)
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	progress := func(int64) {}
	if env.isTerminal {
		progress = func(n int64) { fmt.Fprintf(env.stderr, "\rverified %d entries", n) }
	}
	res, err := audit.Verify(ctx, st, key, checkpoints, progress)
	if env.isTerminal {
		fmt.Fprint(env.stderr, "\r\033[K")
	}
	var broken *audit.BrokenError
	if errors.As(err, &broken) {
		fmt.Fprintf(env.stdout, "audit trail BROKEN at entry %d: %s\n", broken.Seq, broken.Reason)
		return errSilentFailure
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "audit trail intact: %d entries, keyed from entry %d, head %s\n", res.Entries, res.KeyedFrom, res.Head)
	if len(files) > 0 {
		last := "none"
		if res.Checkpoints > 0 {
			last = fmt.Sprintf("entry %d of %s (%s)", res.LastCheckpoint.Seq, res.LastCheckpoint.Time.Format(time.RFC3339),
				hex.EncodeToString(res.LastCheckpoint.Head))
		}
		fmt.Fprintf(env.stdout, "checkpoints matched: %d, last %s; entries after it are covered by the key only\n", res.Checkpoints, last)
	}
	return nil
}
