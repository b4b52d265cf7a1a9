package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/store"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "serve", "serve [--config FILE] [--database DSN] [--listen HOST:PORT]")
	cf := config.NewFlags(fs)
	cf.Flag("listen", "http.listen", "listen `address` (default 127.0.0.1:8080)")
	simInsecure := fs.Bool("eid-simulator-insecure", false,
		"INSECURE, development only: start the eID simulator and use it as the identification partner")
	simListen := fs.String("eid-simulator-listen", "127.0.0.1:8081", "listen `address` of the eID simulator (loopback only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := cf.Load(env.environ, config.Needs{Keys: true, Audit: true, HTTP: true})
	if err != nil {
		return err
	}
	logger := cfg.Logger(env.stderr)
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if *simInsecure {
		if cfg.EID.Issuer != "" {
			return &usageError{msg: "serve: --eid-simulator-insecure and eid.issuer exclude each other"}
		}
		host, _, err := net.SplitHostPort(*simListen)
		if err != nil || !config.IsLoopback(host) {
			return &usageError{msg: "serve: --eid-simulator-listen must be a loopback host:port"}
		}
		simLn, err := net.Listen("tcp", *simListen)
		if err != nil {
			return fmt.Errorf("eid simulator: %w", err)
		}
		simCfg, _, err := startSimulator(ctx, st, simLn, cfg.PublicURL, logger)
		if err != nil {
			simLn.Close()
			return err
		}
		cfg.EID = simCfg.EID
		logger.Warn("INSECURE: the eID simulator is the identification partner; never use this in production",
			slog.String("simulator", simCfg.EID.Issuer))
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	env.useLogger(logger)
	return serve(ctx, cfg, logger, st, ln, nil, nil)
}

// serve builds the node of cfg on st and serves it on ln until ctx ends.
// sink receives each queued letter (the demo's folder; nil in production);
// extra are further routes (the demo's relying party).
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, st store.Store, ln net.Listener, sink dispatch.Sink,
	extra map[string]http.Handler) error {
	var checkpoints io.Writer
	if cfg.Audit.CheckpointFile != "" {
		f, err := os.OpenFile(cfg.Audit.CheckpointFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			ln.Close()
			return fmt.Errorf("audit.checkpoint_file: %w", err)
		}
		defer f.Close()
		checkpoints = f
	}
	nc, err := cfg.NodeConfig(logger, sink, extra, checkpoints)
	if err != nil {
		ln.Close()
		return err
	}
	nc.Version = version
	n, err := node.Build(ctx, nc, st)
	if err != nil {
		ln.Close()
		return err
	}
	return n.Serve(ctx, ln)
}
