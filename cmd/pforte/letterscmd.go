package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pforte/pforte/internal/letter"
)

func runLetters(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "export":
			return runLettersExport(ctx, env, args[1:])
		case "returned":
			return runLettersReturned(ctx, env, args[1:])
		}
	}
	return &usageError{msg: "usage: pforte letters export --out DIR | pforte letters returned LETTER-ID"}
}

func runLettersExport(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "letters export", "letters export --out DIR [--max N] [--database DSN] [--config FILE]")
	cf := newConfigFlags(fs)
	out := fs.String("out", "", "folder for the batch PDF and its manifest")
	maxLetters := fs.Int("max", letter.MaxBatchLetters, "most letters in the batch")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || *maxLetters < 1 {
		return &usageError{msg: "letters export: --out DIR is required and --max must be positive"}
	}
	cfg, err := cf.load(env.environ, needs{keys: true, audit: true})
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := buildNode(ctx, cfg, cfg.logger(env.stderr), st)
	if err != nil {
		return err
	}
	// Notices waiting for delivery become letters of this batch.
	if _, err := a.Notices.Deliver(ctx); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	// Write into temporary names and rename only after the letters are
	// marked handed over, so a half-written batch never looks complete.
	pdfTmp, err := os.CreateTemp(*out, ".batch-*.pdf")
	if err != nil {
		return err
	}
	defer os.Remove(pdfTmp.Name())
	csvTmp, err := os.CreateTemp(*out, ".batch-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(csvTmp.Name())
	batch, err := a.Letters.Export(ctx, pdfTmp, csvTmp, *maxLetters)
	if cerr := pdfTmp.Close(); err == nil {
		err = cerr
	}
	if cerr := csvTmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if batch.Letters == 0 {
		fmt.Fprintln(env.stdout, "no queued letters")
		return nil
	}
	pdfPath, csvPath := filepath.Join(*out, batch.ID+".pdf"), filepath.Join(*out, batch.ID+".csv")
	if err := os.Rename(pdfTmp.Name(), pdfPath); err != nil {
		return err
	}
	if err := os.Rename(csvTmp.Name(), csvPath); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "batch %s: %d letters, %d pages\n  %s\n  %s\n", batch.ID, batch.Letters, batch.Pages, pdfPath, csvPath)
	return nil
}

func runLettersReturned(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "letters returned", "letters returned [--database DSN] [--config FILE] LETTER-ID")
	cf := newConfigFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{msg: "letters returned: name one letter id"}
	}
	cfg, err := cf.load(env.environ, needs{keys: true, audit: true})
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := buildNode(ctx, cfg, cfg.logger(env.stderr), st)
	if err != nil {
		return err
	}
	if err := a.Letters.Returned(ctx, fs.Arg(0), a.Access); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "letter %s marked returned; its codes are void\n", fs.Arg(0))
	return nil
}
