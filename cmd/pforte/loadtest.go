package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/loadtest"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// `pforte loadtest` drives mixed load (logins, app logins, access requests,
// approvals) at a fixed rate for a bounded time, to loopback or to one
// staging host named exactly; `pforte loadtest setup` prepares the accounts
// and phones in a database that holds no persons yet.

func runLoadtest(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "setup":
			return runLoadtestSetup(ctx, env, args[1:])
		case "run":
			return runLoadtestRun(ctx, env, args[1:])
		}
	}
	return &usageError{msg: "usage: pforte loadtest setup|run … (see docs/operations.md)"}
}

// maxLoadtestPersons bounds `loadtest setup --accounts` plus `--register`.
const maxLoadtestPersons = 100_000

func runLoadtestSetup(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "loadtest setup",
		"loadtest setup --database URL --out FILE [--accounts N] [--register M] [--seed S]")
	cf := config.NewFlags(fs)
	accounts := fs.Int("accounts", 50, "persons given a chosen password and a bound phone")
	register := fs.Int("register", 200, "persons without an account, for access requests")
	seed := fs.Int64("seed", 1, "seed of the synthetic persons")
	out := fs.String("out", "", "write the state (accounts, phones' keys, password, PIN) to this `file` (mode 0600)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("loadtest setup: unexpected argument %q", fs.Arg(0))}
	}
	if *out == "" || *accounts < 1 || *register < 0 || *accounts+*register > maxLoadtestPersons {
		return &usageError{msg: fmt.Sprintf("loadtest setup: --out is required; --accounts at least 1, --register not negative, together at most %d", maxLoadtestPersons)}
	}
	cfg, err := cf.Load(env.environ, config.Needs{Keys: true, Audit: true})
	if err != nil {
		return err
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
	// Synthetic persons go into a database with none: never into a register
	// of real persons.
	if n, err := st.CountPersons(ctx); err != nil {
		return err
	} else if n > 0 {
		return &usageError{msg: fmt.Sprintf("loadtest setup: the database holds %d persons; setup fills a database without persons only", n)}
	}
	// Some synthetic persons have an incomplete birth date (as real
	// registers do); an access request needs a complete one, so a few more
	// are generated and those are left out of the register entries.
	count := *accounts + *register + *register/5 + 10
	var csv bytes.Buffer
	if err := registry.Generate(&csv, count, *seed, time.Now().UTC()); err != nil {
		return err
	}
	aud, err := auditLog(cfg, st, logger)
	if err != nil {
		return err
	}
	quiet := *env
	quiet.isTerminal, quiet.stdout = false, env.stderr
	if _, err := importRegistry(ctx, &quiet, registry.NewImporter(st, ring, importAuditor{aud}, time.Now), bytes.NewReader(csv.Bytes()), cfg); err != nil {
		return err
	}
	persons, err := load.FirstPersons(ctx, st, csv.Bytes(), count)
	if err != nil {
		return err
	}
	// Binding many phones from one address must not meet the per-IP limit.
	cfg.HTTP.LoginRatePerIP, cfg.HTTP.LoginBurstPerIP = 1e6, 1_000_000
	a, err := buildNode(ctx, cfg, logger, st)
	if err != nil {
		return err
	}
	holders := persons[:*accounts]
	pw, err := load.Password(a.Accounts, holders)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := load.Prepare(ctx, a.Accounts, a.Sessions, holders, pw); err != nil {
		return err
	}
	bindings := make([]loadtest.Binding, len(holders))
	for i, p := range holders {
		code, err := proofing.NewActivationCode()
		if err != nil {
			return err
		}
		if err := st.PutOneTime(ctx, store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
			Subject: "person:" + strconv.FormatInt(int64(p.ID), 10), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		bindings[i] = loadtest.Binding{KVNR: p.KVNR, Password: pw, Code: code}
	}
	pin, err := loadtest.NewPIN()
	if err != nil {
		return err
	}
	bound, err := bindThroughNode(ctx, a.Handler(), bindings, pin)
	if err != nil {
		return err
	}
	state := &loadtest.State{Password: pw, PIN: pin, Accounts: bound}
	for _, p := range persons[*accounts:] {
		if d, err := registry.ParseBirthDate(p.BirthDate, time.Now()); err != nil || len(d.String()) != len("2006-01-02") || len(state.Register) == *register {
			continue
		}
		state.Register = append(state.Register, loadtest.Entry{KVNR: p.KVNR, PostalCode: p.PostalCode, BirthDate: p.BirthDate})
	}
	if len(state.Register) < *register {
		return fmt.Errorf("loadtest setup: only %d synthetic persons without an account have a complete birth date, %d asked for", len(state.Register), *register)
	}
	if err := loadtest.WriteState(*out, state); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "loadtest setup: %d accounts with a bound phone, %d register entries in %.1fs; state in %s\n",
		len(bound), len(state.Register), time.Since(start).Seconds(), *out)
	return nil
}

// bindThroughNode serves h on a loopback port for as long as the phones take
// to bind through it.
func bindThroughNode(ctx context.Context, h http.Handler, bindings []loadtest.Binding, pin string) ([]loadtest.Account, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	target, err := loadtest.ParseTarget(ctx, "http://"+ln.Addr().String(), "")
	if err != nil {
		return nil, err
	}
	return loadtest.BindPhones(ctx, target.URL(""), target.Client(8), bindings, pin)
}

func runLoadtestRun(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "loadtest run",
		"loadtest run --server URL --state FILE --rates NAME=RATE[,…] [--duration D] [--allow-remote HOST] [--json FILE]")
	server := fs.String("server", "", "base `URL` of the system (its load balancer); loopback unless --allow-remote names its host")
	allowRemote := fs.String("allow-remote", "", "the one `host` other than loopback that may be loaded (your staging system), exactly as in --server; https only")
	statePath := fs.String("state", "", "the `file` `loadtest setup` wrote")
	rates := fs.String("rates", "", "flows per second per scenario, e.g. password-login=2,app-login=2,access-request=1,approval=1,wrong-password=1,wrong-pin=1")
	duration := fs.Duration("duration", 30*time.Second, "how long to send flows")
	jsonOut := fs.String("json", "", "also write the result as JSON to this `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("loadtest run: unexpected argument %q", fs.Arg(0))}
	}
	target, err := loadtest.ParseTarget(ctx, *server, *allowRemote)
	if err != nil {
		return &usageError{msg: "loadtest run: " + err.Error()}
	}
	r, err := loadtest.ParseRates(*rates)
	if err != nil {
		return &usageError{msg: "loadtest run: " + err.Error()}
	}
	plan := loadtest.Plan{Rates: r, Duration: *duration}
	if err := plan.Validate(); err != nil {
		return &usageError{msg: "loadtest run: " + err.Error()}
	}
	if *statePath == "" {
		return &usageError{msg: "loadtest run: --state is required (loadtest setup --out)"}
	}
	state, err := loadtest.ReadState(*statePath)
	if err != nil {
		return err
	}
	res, err := loadtest.Run(ctx, target, state, plan, loadtest.NewLedger())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "loadtest run: %v against %s\n", plan.Duration, target.URL(""))
	loadtest.Print(env.stdout, res)
	if *jsonOut != "" {
		f, err := os.OpenFile(*jsonOut, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		if err := loadtest.WriteJSON(f, res); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if t := res.Totals(); t.Server > 0 || t.BusyBare > 0 {
		return errors.New("loadtest run: the server answered 5xx other than 503, or 503 without Retry-After")
	}
	return nil
}
