package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/loadtest"
)

// runLoadVerify measures raw signature verifications: what an app login
// verifies (one P-256 and one Ed25519 signature), without the server.
func runLoadVerify(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "load verify", "load verify [--concurrency N] [--duration D]")
	workers := fs.Int("concurrency", 2, fmt.Sprintf("goroutines verifying at once (1-%d)", load.MaxVerifyWorkers))
	duration := fs.Duration("duration", 10*time.Second, "how long to verify")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("load verify: unexpected argument %q", fs.Arg(0))}
	}
	if *workers < 1 || *workers > load.MaxVerifyWorkers {
		return &usageError{msg: fmt.Sprintf("load verify: --concurrency must be between 1 and %d", load.MaxVerifyWorkers)}
	}
	if err := checkDuration("load verify", *duration); err != nil {
		return err
	}
	n, elapsed, err := load.MeasureVerify(ctx, *workers, *duration)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "load verify: %d goroutines for %v, one P-256 and one Ed25519 signature a pair\n", *workers, *duration)
	fmt.Fprintf(env.stdout, "pairs: %d\n", n)
	fmt.Fprintf(env.stdout, "pairs/s: %.1f\n", float64(n)/elapsed.Seconds())
	return nil
}

// runLoadClosed runs app logins or approval round trips in a closed loop
// with the phones `loadtest setup` bound.
func runLoadClosed(ctx context.Context, env *environment, scenario string, args []string) error {
	cmd := "load app"
	what := "app logins (a challenge and the login signed with the PIN key)"
	if scenario == loadtest.Approval {
		cmd = "load approval"
		what = "approval round trips (address change, pending approval read, challenge, approval signed with the PIN key)"
	}
	fs := newFlagSet(env, cmd, cmd+" --server http://127.0.0.1:PORT --state FILE [--concurrency N] [--duration D]")
	server := fs.String("server", "", "base `URL` of the node; loopback only")
	statePath := fs.String("state", "", "the `file` `loadtest setup --out` wrote; one account with a bound phone per worker")
	workers := fs.Int("concurrency", 1, fmt.Sprintf("workers, each starting its next flow when the previous one ended (1-%d): %s", loadtest.MaxClosedWorkers, what))
	duration := fs.Duration("duration", 10*time.Second, "how long to run flows")
	maxFlows := fs.Int64("max-requests", load.DefaultRequests, "stop after this many flows")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("%s: unexpected argument %q", cmd, fs.Arg(0))}
	}
	// Loopback only: no staging host may be named here.
	target, err := loadtest.ParseTarget(ctx, *server, "")
	if err != nil {
		return &usageError{msg: cmd + ": " + err.Error()}
	}
	run := loadtest.Closed{Scenario: scenario, Workers: *workers, Duration: *duration, MaxFlows: *maxFlows}
	if err := run.Validate(); err != nil {
		return &usageError{msg: cmd + ": " + err.Error()}
	}
	if *statePath == "" {
		return &usageError{msg: cmd + ": --state is required (loadtest setup --out)"}
	}
	state, err := loadtest.ReadState(*statePath)
	if err != nil {
		return err
	}
	if len(state.Accounts) < *workers {
		return &usageError{msg: fmt.Sprintf("%s: --concurrency %d needs as many phones, %s has %d (loadtest setup --accounts)", cmd, *workers, *statePath, len(state.Accounts))}
	}
	res, err := loadtest.RunClosed(ctx, target, state, run)
	if err != nil {
		return err
	}
	loadtest.PrintClosed(env.stdout, res)
	return nil
}

// stateLogins reads the accounts' KVNRs and password from a loadtest state.
func stateLogins(path string) ([]string, string, error) {
	state, err := loadtest.ReadState(path)
	if err != nil {
		return nil, "", err
	}
	var kvnrs []string
	for _, a := range state.Accounts[:min(len(state.Accounts), load.MaxLoginWorkers)] {
		kvnrs = append(kvnrs, a.KVNR)
	}
	if len(kvnrs) == 0 {
		return nil, "", &usageError{msg: "load login: " + path + " holds no accounts"}
	}
	return kvnrs, state.Password, nil
}
