package main

import (
	"context"
	"strconv"

	"github.com/pforte/pforte/internal/phone"
)

// runApp is `pforte app`, the phone on the command line (package phone).
func runApp(ctx context.Context, env *environment, args []string) error {
	code := phone.Run(ctx, phone.Env{Stdin: env.stdin, Stdout: env.stdout, Stderr: env.stderr}, args)
	if code == 0 {
		return nil
	}
	return &exitError{code: code}
}

// exitError ends the command with code after the command said why.
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit code " + strconv.Itoa(e.code) }
