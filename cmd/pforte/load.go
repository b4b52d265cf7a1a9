package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/loadtest"
	"github.com/pforte/pforte/internal/password"
)

// `pforte load` measures what a node can take, each in a closed loop (N
// workers, each sending its next request when the answer came): password
// logins through POST /api/v1/sessions against raw argon2id hashes on the
// same machine, app logins against raw signature verifications, and
// approval round trips. Load goes to loopback only: the clients refuse any
// other server and their dialers refuse any other address. Every run is
// bounded in time and in requests. scripts/bench-login and
// scripts/bench-side-by-side run the whole measurement.

func runLoad(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "setup":
			return runLoadSetup(ctx, env, args[1:])
		case "hash":
			return runLoadHash(ctx, env, args[1:])
		case "login":
			return runLoadLogin(ctx, env, args[1:])
		case "verify":
			return runLoadVerify(ctx, env, args[1:])
		case "app":
			return runLoadClosed(ctx, env, loadtest.AppLogin, args[1:])
		case "approval":
			return runLoadClosed(ctx, env, loadtest.Approval, args[1:])
		}
	}
	return &usageError{msg: "usage: pforte load setup|hash|verify|login|app|approval … (see docs/operations.md)"}
}

func checkDuration(cmd string, d time.Duration) error {
	if d < load.MinDuration || d > load.MaxDuration {
		return &usageError{msg: fmt.Sprintf("%s: --duration must be between %v and %v", cmd, load.MinDuration, load.MaxDuration)}
	}
	return nil
}

func runLoadHash(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "load hash", "load hash [--concurrency N] [--duration D] [--memory-kib K] [--time T] [--threads P]")
	def := password.DefaultParams()
	workers := fs.Int("concurrency", 2, "goroutines hashing at once, and the hasher's slots (1-64)")
	duration := fs.Duration("duration", 10*time.Second, "how long to hash")
	memory := fs.Uint("memory-kib", uint(def.Memory), "argon2id memory in KiB")
	passes := fs.Uint("time", uint(def.Time), "argon2id passes")
	threads := fs.Uint("threads", uint(def.Threads), "argon2id lanes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("load hash: unexpected argument %q", fs.Arg(0))}
	}
	if *workers < 1 || *workers > load.MaxHashWorkers {
		return &usageError{msg: fmt.Sprintf("load hash: --concurrency must be between 1 and %d", load.MaxHashWorkers)}
	}
	if err := checkDuration("load hash", *duration); err != nil {
		return err
	}
	params := def
	params.Memory, params.Time, params.Threads = uint32(min(*memory, math.MaxUint32)), uint32(min(*passes, math.MaxUint32)), uint8(min(*threads, 255))
	if errs := params.Validate(); len(errs) > 0 {
		return &usageError{msg: "load hash: " + errors.Join(errs...).Error()}
	}
	h, err := password.NewHasher(params, nil, *workers)
	if err != nil {
		return err
	}
	n, elapsed, err := load.MeasureHashes(ctx, h, *workers, *duration)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "load hash: %d goroutines for %v, argon2id m=%d KiB t=%d p=%d\n",
		*workers, *duration, params.Memory, params.Time, params.Threads)
	fmt.Fprintf(env.stdout, "hashes: %d\n", n)
	fmt.Fprintf(env.stdout, "hashes/s: %.1f\n", float64(n)/elapsed.Seconds())
	return nil
}

func runLoadLogin(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "load login",
		"load login --server http://127.0.0.1:PORT ((--kvnr K[,K…] | --kvnr-file FILE) (--password P | --password-file FILE) | --state FILE) [--concurrency N] [--duration D] [--pid PID]")
	server := fs.String("server", "", "base `URL` of the node; loopback only")
	kvnrList := fs.String("kvnr", "", "KVNR(s) to log in as, comma-separated")
	kvnrFile := fs.String("kvnr-file", "", "`file` of KVNRs, one a line (as `load setup --out` writes)")
	pw := fs.String("password", "", "the accounts' password")
	pwFile := fs.String("password-file", "", "`file` holding the accounts' password")
	statePath := fs.String("state", "", "instead of the four flags above: the `file` `loadtest setup --out` wrote (its accounts and password)")
	workers := fs.Int("concurrency", 1, fmt.Sprintf("workers, each sending its next request when the answer came (1-%d); worker i logs in as account i mod accounts", load.MaxLoginWorkers))
	duration := fs.Duration("duration", 10*time.Second, "how long to send requests")
	maxRequests := fs.Int64("max-requests", load.DefaultRequests, "stop after this many requests")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one request")
	retryAfter := fs.Bool("retry-after", false, "after a 429 or 503, wait as long as its Retry-After asks (as a well-behaved app does)")
	pid := fs.Int("pid", 0, "server process `id`: reset its peak RSS at the start and print VmHWM and VmRSS from /proc/PID/status at the end")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("load login: unexpected argument %q", fs.Arg(0))}
	}
	base, err := load.LoopbackServer(*server)
	if err != nil {
		return &usageError{msg: "load login: " + err.Error()}
	}
	if *workers < 1 || *workers > load.MaxLoginWorkers {
		return &usageError{msg: fmt.Sprintf("load login: --concurrency must be between 1 and %d", load.MaxLoginWorkers)}
	}
	if err := checkDuration("load login", *duration); err != nil {
		return err
	}
	if *maxRequests < 1 || *timeout <= 0 || *pid < 0 {
		return &usageError{msg: "load login: --max-requests and --timeout must be positive, --pid not negative"}
	}
	var kvnrs []string
	var secret string
	if *statePath != "" {
		if *kvnrList != "" || *kvnrFile != "" || *pw != "" || *pwFile != "" {
			return &usageError{msg: "load login: give either --state or the KVNR and password flags"}
		}
		if kvnrs, secret, err = stateLogins(*statePath); err != nil {
			return err
		}
	} else {
		if kvnrs, err = loadKVNRs(*kvnrList, *kvnrFile); err != nil {
			return err
		}
		if secret, err = loadSecret(*pw, *pwFile); err != nil {
			return err
		}
	}
	bodies := make([][]byte, len(kvnrs))
	for i, k := range kvnrs {
		bodies[i], _ = json.Marshal(map[string]string{"kvnr": k, "password": secret})
	}
	l := &load.Login{
		Endpoint:    base.Scheme + "://" + base.Host + "/api/v1/sessions",
		Bodies:      bodies,
		Workers:     *workers,
		Duration:    *duration,
		MaxRequests: *maxRequests,
		RetryAfter:  *retryAfter,
		Client:      load.LoopbackClient(*workers, *timeout),
	}
	peakReset := *pid > 0 && load.ResetPeakRSS(*pid) == nil
	res := l.Run(ctx)
	l.Client.CloseIdleConnections()
	load.PrintLogin(env.stdout, l, res)
	if *pid > 0 {
		load.PrintProcMemory(env.stdout, *pid, peakReset)
	}
	return nil
}

// loadKVNRs reads the accounts from --kvnr or --kvnr-file (exactly one).
func loadKVNRs(list, file string) ([]string, error) {
	if (list == "") == (file == "") {
		return nil, &usageError{msg: "load login: give exactly one of --kvnr and --kvnr-file"}
	}
	var raw []string
	if list != "" {
		raw = strings.Split(list, ",")
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("load login: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() && len(raw) <= load.MaxLoginWorkers {
			raw = append(raw, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("load login: %s: %w", file, err)
		}
	}
	var out []string
	for _, k := range raw {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	if len(out) == 0 || len(out) > load.MaxLoginWorkers {
		return nil, &usageError{msg: fmt.Sprintf("load login: give between 1 and %d KVNRs", load.MaxLoginWorkers)}
	}
	return out, nil
}

// loadSecret reads the password from --password or --password-file (exactly
// one).
func loadSecret(pw, file string) (string, error) {
	if (pw == "") == (file == "") {
		return "", &usageError{msg: "load login: give exactly one of --password and --password-file"}
	}
	if pw != "" {
		return pw, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("load login: %w", err)
	}
	s := strings.TrimRight(string(raw), "\r\n")
	if s == "" {
		return "", &usageError{msg: "load login: " + file + " is empty"}
	}
	return s, nil
}
