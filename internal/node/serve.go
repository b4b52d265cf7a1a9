package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/signkey"
)

// noticeEvery is how often a node looks for notices no Kick announced (one
// queued on another node, or one whose delivery failed and waits for its
// retry).
const noticeEvery = 30 * time.Second

// intakeEvery is how often a node looks for reset requests in the intake
// that no request on this node announced (taken in on another node, or left by a node that
// died during its lease).
const intakeEvery = 5 * time.Second

// Run runs what every node runs beside serving, until ctx ends: the
// sweeper, the delivery of notices and mails, the intake's worker and the
// audit checkpoints, with a last checkpoint when ctx ends. It returns only
// after every loop has stopped, so that the caller may close the store.
// Serve runs it; a test that serves Handler on a server of its own runs it
// itself.
func (n *Node) Run(ctx context.Context) error {
	if err := n.Audit.Record(ctx, audit.Event{Actor: "system", Event: "node.start", Subject: "node"}); err != nil {
		return err
	}
	var loops sync.WaitGroup
	defer loops.Wait()
	loops.Go(func() { n.Sweeper.Run(ctx) })
	loops.Go(func() { n.Notices.Run(ctx, noticeEvery) })
	loops.Go(func() { n.Access.RunIntake(ctx, intakeEvery) })
	if n.Mail != nil {
		every := n.cfg.MailInterval
		if every <= 0 {
			every = 30 * time.Second
		}
		loops.Go(func() { n.Mail.Run(ctx, every) })
	}
	n.Checkpoints.Publish(ctx, false)
	n.Checkpoints.Run(ctx, n.cfg.CheckpointInterval)
	return nil
}

// Serve runs the node on ln until ctx ends: Run beside the HTTP server.
// Requests in flight may finish within the server's shutdown timeout; the
// loops of Run stop after them, so the last checkpoint covers their audit
// entries. It closes ln.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	n.logger.Info("pforte serving", slog.String("addr", ln.Addr().String()), slog.String("version", n.cfg.Version))
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- n.Run(bg) }()
	err := n.server.Serve(ctx, ln)
	stop()
	if rerr := <-ran; rerr != nil && err == nil {
		err = rerr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	n.logger.Info("pforte stopped")
	return nil
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
