package config

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/password"
)

// NodeConfig maps the configuration onto the node's (all but the
// Version, which the binary sets), reading the files it
// names (keys, pepper, secrets). sink receives each queued letter as a PDF
// (the demo's folder; nil in production), routes are more routes (the
// demo's relying party), and checkpoints gets the audit checkpoints (nil:
// logged only).
func (c *Config) NodeConfig(logger *slog.Logger, sink dispatch.Sink, routes map[string]http.Handler, checkpoints io.Writer) (node.Config, error) {
	ring, err := c.Keyring()
	if err != nil {
		return node.Config{}, err
	}
	params, err := c.HasherParams()
	if err != nil {
		return node.Config{}, err
	}
	pepper, err := c.Pepper()
	if err != nil {
		return node.Config{}, err
	}
	auditKey, err := c.AuditKey()
	if err != nil {
		return node.Config{}, err
	}
	outboxToken, err := c.OutboxToken()
	if err != nil {
		return node.Config{}, err
	}
	staffToken, err := c.StaffToken()
	if err != nil {
		return node.Config{}, err
	}
	mailCfg, err := c.Mail.Sender(c.PublicURL, c.Insurer.Name, c.Insurer.Phone)
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
		Access: access.Config{IntakeLimit: c.Letters.IntakeLimit},
		Devices: device.Config{MaxDevices: c.Device.MaxDevices, PINLimit: c.Device.PINLimit,
			KDFMinTime: uint32(c.Device.KDFMinTime), KDFMinMemory: uint32(c.Device.KDFMinMemory)},
		Approvals:   c.ApprovalConfig(),
		Maintenance: c.MaintenanceConfig(),
		Staff:       c.StaffConfig(),
		Backoffice:  c.BackofficeConfig(),
		HTTP:        c.ServerConfig(),
		LoginRate:   c.HTTP.LoginRatePerIP, LoginBurst: c.HTTP.LoginBurstPerIP,
		Assistant: c.AssistantConfig(), AssistantRate: c.Assistant.RatePerIP, AssistantBurst: c.Assistant.BurstPerIP,
		OutboxToken: outboxToken,
		Mailbox:     c.MailboxConfig(), StaffToken: staffToken,
		Mail: mailCfg, MailInterval: c.Mail.Interval,
		SigningKeys: c.SigningKeyConfig(),
		Checkpoints: checkpoints, CheckpointInterval: c.Audit.CheckpointInterval,
		LetterSink: sink, Routes: routes,
		Now: time.Now, Logger: logger,
	}
	if c.EID.Issuer != "" {
		secret, err := c.EIDSecret()
		if err != nil {
			return node.Config{}, err
		}
		nc.EID = &eid.Config{Issuer: c.EID.Issuer, ClientID: c.EID.ClientID, ClientSecret: eid.NewSecret(secret)}
	}
	if nc.Backoffice.Corporate, err = c.Backoffice.OIDC.Corporate(c.PublicURL); err != nil {
		return node.Config{}, err
	}
	if nc.EGK, err = c.EGKConfig(); err != nil {
		return node.Config{}, err
	}
	if len(c.OIDC.Clients) > 0 {
		ocfg, err := c.OIDCConfig()
		if err != nil {
			return node.Config{}, err
		}
		nc.OIDC = &ocfg
	}
	return nc, nil
}
