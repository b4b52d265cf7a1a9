package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/maintenance"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "serve", "serve [--config FILE] [--database DSN] [--listen HOST:PORT]")
	cf := newConfigFlags(fs)
	cf.flag("listen", "http.listen", "listen `address` (default 127.0.0.1:8080)")
	simInsecure := fs.Bool("eid-simulator-insecure", false,
		"INSECURE, development only: start the eID simulator and use it as the identification partner")
	simListen := fs.String("eid-simulator-listen", "127.0.0.1:8081", "listen `address` of the eID simulator (loopback only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := cf.load(env.environ, needs{keys: true, audit: true, http: true})
	if err != nil {
		return err
	}
	logger := cfg.logger(env.stderr)
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
		if err != nil || !isLoopback(host) {
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

// serve wires the node's HTTP graph on st and serves on ln until ctx ends.
// extra are further routes (the demo's relying party).
func serve(ctx context.Context, cfg Config, logger *slog.Logger, st *sqlstore.Store, ln net.Listener, sink dispatch.Sink,
	extra map[string]http.Handler) error {
	a, err := buildApp(ctx, cfg, logger, st, sink)
	if err != nil {
		ln.Close()
		return err
	}
	if res, err := resealAtRest(ctx, st, a.ring); err != nil {
		ln.Close()
		return err
	} else if !res.AlreadyDone {
		logger.Info("sealed fields bound to their place", slog.Int("ibans", res.IBANs), slog.Int("outbox_payloads", res.Payloads))
	}
	auditLog := a.audit
	var cpFile *os.File
	if cfg.Audit.CheckpointFile != "" {
		cpFile, err = os.OpenFile(cfg.Audit.CheckpointFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			ln.Close()
			return fmt.Errorf("audit.checkpoint_file: %w", err)
		}
		defer cpFile.Close()
	}
	checkpoints := newCheckpointer(st, a.auditKey, cpFile, logger)
	reg := prometheus.NewRegistry()
	registerAuditMetrics(reg, checkpoints)
	srv := server.New(cfg.serverConfig(), logger, st, reg)
	a.api.SetDraining(srv.Draining())
	a.mount(srv)
	for pattern, h := range extra {
		srv.Handle(pattern, h)
	}
	logger.Info("pforte serving", slog.String("addr", ln.Addr().String()),
		slog.String("database", string(st.Dialect())), slog.String("version", version))
	if err := auditLog.Record(ctx, audit.Event{Actor: "system", Event: "node.start", Subject: "node"}); err != nil {
		ln.Close()
		return fmt.Errorf("audit: %w", err)
	}
	var provider maintenance.Provider = maintenance.NoProvider
	if a.oidc != nil {
		provider = providerUpkeep{a.oidc, a.keys}
	}
	go maintenance.New(st, a.approval, provider, time.Now, cfg.maintenanceConfig(), logger).Run(ctx)
	// Checkpoints: one now, one per interval while the chain grows, and a
	// last one after the server has drained (its requests' entries included).
	checkpoints.Publish(ctx, false)
	cpCtx, cpStop := context.WithCancel(context.WithoutCancel(ctx))
	cpDone := make(chan struct{})
	go func() {
		defer close(cpDone)
		checkpoints.Run(cpCtx, cfg.Audit.CheckpointInterval)
	}()
	go a.notices.Run(ctx, 30*time.Second)
	err = srv.Serve(ctx, ln)
	cpStop()
	<-cpDone
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("pforte stopped")
	return nil
}

// newCheckpointer publishes the audit chain's checkpoints to the log and, when
// not nil, to file.
func newCheckpointer(st *sqlstore.Store, key audit.Key, file *os.File, logger *slog.Logger) *audit.Checkpointer {
	if file == nil {
		return audit.NewCheckpointer(st, key, nil, time.Now, logger)
	}
	return audit.NewCheckpointer(st, key, file, time.Now, logger)
}

// registerAuditMetrics exposes the head of the last published checkpoint
// and the failed checkpoints: an alert on a head that stops growing or on
// any failure catches a rewound chain early.
func registerAuditMetrics(reg *prometheus.Registry, c *audit.Checkpointer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pforte_audit_head_seq",
			Help: "Sequence number of the audit chain head in the last checkpoint this node published."},
			func() float64 { return float64(c.Last().Seq) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pforte_audit_checkpoint_failures_total",
			Help: "Checkpoints this node could not publish (the chain did not extend the last one, or the store failed)."},
			func() float64 { return float64(c.Failures()) }),
	)
}

// mount puts every route of the node on srv: the app API, the portal, the
// service app (/app/) and, with clients configured, the OpenID provider
// below /oidc/.
func (a *app) mount(srv *server.Server) {
	for pattern, h := range a.api.Routes() {
		srv.Handle(pattern, h)
	}
	for pattern, h := range a.web.Routes() {
		srv.Handle(pattern, h)
	}
	for pattern, h := range a.svcApp.Routes() {
		srv.Handle(pattern, h)
	}
	if a.oidc != nil {
		for pattern, h := range a.oidc.Routes() {
			srv.Handle(pattern, h)
		}
	}
}

// providerUpkeep is the OpenID provider's part of the maintenance: its
// requests and tokens, and the signing keys.
type providerUpkeep struct {
	oidc *oidc.Provider
	keys *signkey.Manager
}

func (p providerUpkeep) Sweep(ctx context.Context, cutoff time.Time) error {
	return p.oidc.Sweep(ctx, cutoff)
}
func (p providerUpkeep) Ensure(ctx context.Context) error { return p.keys.Ensure(ctx) }
