package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/audit"
)

func runAudit(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return &usageError{msg: "usage: pforte audit verify [--database DSN] [--config FILE]"}
	}
	fs := newFlagSet(env, "audit verify", "audit verify [--database DSN] [--config FILE]")
	cf := newConfigFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := cf.load(env.environ, needs{})
	if err != nil {
		return err
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
	res, err := audit.Verify(ctx, st, progress)
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
	fmt.Fprintf(env.stdout, "audit trail intact: %d entries, head %s\n", res.Entries, res.Head)
	return nil
}
