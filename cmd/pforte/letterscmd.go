package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
)

func runLetters(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "export":
			return runLettersExport(ctx, env, args[1:])
		case "returned":
			return runLettersReturned(ctx, env, args[1:])
		case "review":
			return runLettersReview(ctx, env, args[1:])
		}
	}
	return &usageError{msg: "usage: pforte letters export --out DIR | pforte letters returned LETTER-ID | " +
		"pforte letters review list | pforte letters review release|reject LETTER-ID --by NAME --reason TEXT"}
}

func runLettersExport(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "letters export", "letters export --out DIR [--max N] [--database DSN] [--config FILE]")
	cf := config.NewFlags(fs)
	out := fs.String("out", "", "folder for the batch PDF and its manifest")
	maxLetters := fs.Int("max", letter.MaxBatchLetters, "most letters in the batch")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || *maxLetters < 1 {
		return &usageError{msg: "letters export: --out DIR is required and --max must be positive"}
	}
	a, done, err := openNode(ctx, env, cf)
	if err != nil {
		return err
	}
	defer done()
	// Notices waiting for delivery become letters of this batch.
	if _, err := a.Notices.Deliver(ctx); err != nil {
		return err
	}
	// A batch is written under unfinished names, handed over, then named:
	// a run stopped at any moment (kill -9 included) loses and doubles no
	// letter; the next run on the same folder completes or removes what it
	// left (dispatch.ExportToDir).
	res, err := a.Letters.ExportToDir(ctx, *out, *maxLetters)
	for _, id := range res.Completed {
		fmt.Fprintf(env.stdout, "batch %s: completed (an earlier run was interrupted after handing it over)\n", id)
	}
	if res.Discarded > 0 {
		fmt.Fprintf(env.stdout, "removed the unfinished files of %d interrupted run(s) that handed nothing over\n", res.Discarded)
	}
	if errors.Is(err, dispatch.ErrExportRunning) {
		return fmt.Errorf("letters export: another export is running in %s; wait for it to finish", *out)
	}
	if err != nil {
		return err
	}
	if res.Batch.Letters == 0 {
		fmt.Fprintln(env.stdout, "no queued letters")
		return nil
	}
	fmt.Fprintf(env.stdout, "batch %s: %d letters, %d pages\n  %s\n  %s (SHA-256 %s)\n", res.Batch.ID, res.Batch.Letters, res.Batch.Pages,
		res.PDF, res.Manifest, res.Batch.ManifestSHA256)
	return nil
}

func runLettersReturned(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "letters returned", "letters returned [--database DSN] [--config FILE] LETTER-ID")
	cf := config.NewFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{msg: "letters returned: name one letter id"}
	}
	a, done, err := openNode(ctx, env, cf)
	if err != nil {
		return err
	}
	defer done()
	if err := a.Letters.Returned(ctx, fs.Arg(0), a.Access); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "letter %s marked returned; its codes are void\n", fs.Arg(0))
	return nil
}

// runLettersReview lists the letters waiting for staff review (addresses not
// verified) and releases or rejects one, recording who and why.
func runLettersReview(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "release" && args[0] != "reject") {
		return &usageError{msg: "usage: pforte letters review list | pforte letters review release|reject LETTER-ID --by NAME --reason TEXT"}
	}
	action := args[0]
	fs := newFlagSet(env, "letters review "+action, "letters review "+action+" [--database DSN] [--config FILE] [LETTER-ID --by NAME --reason TEXT]")
	cf := config.NewFlags(fs)
	by := fs.String("by", "", "who decides (staff member); recorded in the audit trail")
	reason := fs.String("reason", "", "why (recorded in the audit trail)")
	// The letter id may come before the flags or after them.
	rest, id := args[1:], ""
	if action != "list" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if id == "" && action != "list" {
		id = fs.Arg(0)
		rest = fs.Args()[min(1, fs.NArg()):]
	} else {
		rest = fs.Args()
	}
	if len(rest) > 0 || action != "list" && id == "" {
		return &usageError{msg: "letters review: list takes no letter id; release and reject take one"}
	}
	if action != "list" && (strings.TrimSpace(*by) == "" || strings.TrimSpace(*reason) == "") {
		return &usageError{msg: "letters review " + action + ": --by and --reason are required"}
	}
	a, done, err := openNode(ctx, env, cf)
	if err != nil {
		return err
	}
	defer done()
	switch action {
	case "release":
		if err := a.Letters.Release(ctx, id, *by, *reason); err != nil {
			return reviewError(id, err)
		}
		fmt.Fprintf(env.stdout, "letter %s released: it goes out with the next print batch\n", id)
		return nil
	case "reject":
		if err := a.Letters.Reject(ctx, id, *by, *reason, a.Access); err != nil {
			return reviewError(id, err)
		}
		fmt.Fprintf(env.stdout, "letter %s rejected; its codes are void\n", id)
		return nil
	}
	waiting, err := a.Letters.InReview(ctx, 1000)
	if err != nil {
		return err
	}
	if len(waiting) == 0 {
		fmt.Fprintln(env.stdout, "no letters wait for review")
		return nil
	}
	for _, w := range waiting {
		verified := "never verified"
		if !w.Person.AddressVerifiedAt.IsZero() {
			verified = "verified " + lang.Date(w.Person.AddressVerifiedAt) + " (" + w.Person.AddressVerifiedBy + ")"
		}
		fmt.Fprintf(env.stdout, "%s  %s  queued %s  valid until %s\n  KVNR %s, address %s:\n", w.Letter.ID, w.Letter.Kind,
			lang.Short(w.Letter.CreatedAt), lang.Date(w.Letter.ExpiresAt), w.Person.KVNR, verified)
		for _, line := range strings.Split(w.Letter.Address, "\n") {
			fmt.Fprintf(env.stdout, "    %s\n", line)
		}
	}
	return nil
}

// reviewError says what an operator can do about a refused decision.
func reviewError(id string, err error) error {
	switch {
	case errors.Is(err, dispatch.ErrNotInReview):
		return fmt.Errorf("letter %s does not wait for review (see `pforte letters review list`)", id)
	case errors.Is(err, dispatch.ErrExpired):
		return fmt.Errorf("letter %s expired while it waited; reject it, and the person can order a new one", id)
	}
	return err
}
