package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// nodeConfig maps the configuration onto the node's, reading the files it
// names (keys, pepper, secrets). sink receives each queued letter as a PDF
// (the demo's folder; nil in production), routes are more routes (the
// demo's relying party), and checkpoints gets the audit checkpoints (nil:
// logged only).
func (c *Config) nodeConfig(logger *slog.Logger, sink dispatch.Sink, routes map[string]http.Handler, checkpoints io.Writer) (node.Config, error) {
	ring, err := c.keyring()
	if err != nil {
		return node.Config{}, err
	}
	params, err := c.hasherParams()
	if err != nil {
		return node.Config{}, err
	}
	pepper, err := c.pepper()
	if err != nil {
		return node.Config{}, err
	}
	auditKey, err := c.auditKey()
	if err != nil {
		return node.Config{}, err
	}
	outboxToken, err := c.outboxToken()
	if err != nil {
		return node.Config{}, err
	}
	nc := node.Config{
		PublicURL: c.PublicURL,
		Insurer: letter.Sender{Name: c.Insurer.Name, Street: c.Insurer.Street, PostalCity: c.Insurer.PostalCity,
			Phone: c.Insurer.Phone, Web: c.Insurer.Web},
		Keys: ring, AuditKey: auditKey,
		Password: params, Pepper: pepper, MaxHashes: c.Password.MaxConcurrent,
		Accounts: account.Config{Policy: password.Policy{MinLength: c.Password.MinLength},
			MaxChangesPerDay: c.Password.MaxChangesPerDay},
		Letters: dispatch.Config{PersonLimit: c.Letters.PersonLimit, DailyCap: c.Letters.DailyCap,
			NoticeDailyCap: c.Letters.NoticeDailyCap},
		Devices: device.Config{MaxDevices: c.Device.MaxDevices, PINLimit: c.Device.PINLimit,
			KDFMinTime: uint32(c.Device.KDFMinTime), KDFMinMemory: uint32(c.Device.KDFMinMemory)},
		Approvals:   c.approvalConfig(),
		Maintenance: c.maintenanceConfig(),
		HTTP:        c.serverConfig(),
		LoginRate:   c.HTTP.LoginRatePerIP, LoginBurst: c.HTTP.LoginBurstPerIP,
		OutboxToken: outboxToken,
		SigningKeys: c.signkeyConfig(),
		Checkpoints: checkpoints, CheckpointInterval: c.Audit.CheckpointInterval,
		LetterSink: sink, Routes: routes, Version: version,
		Now: time.Now, Logger: logger,
	}
	if c.EID.Issuer != "" {
		secret, err := c.eidSecret()
		if err != nil {
			return node.Config{}, err
		}
		nc.EID = &eid.Config{Issuer: c.EID.Issuer, ClientID: c.EID.ClientID, ClientSecret: eid.NewSecret(secret)}
	}
	if nc.EGK, err = c.egkConfig(); err != nil {
		return node.Config{}, err
	}
	if len(c.OIDC.Clients) > 0 {
		ocfg, err := c.oidcConfig()
		if err != nil {
			return node.Config{}, err
		}
		nc.OIDC = &ocfg
	}
	return nc, nil
}

// buildNode builds a node of cfg on st for a command that uses its services
// without serving (letters, load set-up).
func buildNode(ctx context.Context, cfg Config, logger *slog.Logger, st store.Store) (*node.Node, error) {
	nc, err := cfg.nodeConfig(logger, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return node.Build(ctx, nc, st)
}

// auditLog is the audit trail's writer for a command outside the node (the
// registry import), keyed with the configured audit key.
func auditLog(cfg Config, st *sqlstore.Store, logger *slog.Logger) (*audit.Log, error) {
	key, err := cfg.auditKey()
	if err != nil {
		return nil, err
	}
	return audit.New(st, key, time.Now, logger), nil
}

// folderSink writes each letter as DIR/<id>.pdf (the demo).
type folderSink struct{ dir string }

func (f folderSink) Deliver(_ context.Context, id string, pdf []byte) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(f.dir, id+".pdf"), pdf, 0o600)
}
