package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/appapi"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/serviceapp"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/web"
)

// app is the object graph of one node, built by hand.
type app struct {
	ring     *seal.Keyring
	auditKey audit.Key
	audit    *audit.Log
	letters  *dispatch.Service
	accounts *account.Service
	access   *account.Access
	sessions *session.Manager
	api      *appapi.API
	web      *web.Web
	svcApp   *serviceapp.App // the service app at /app/
	devices  *device.Service
	remover  *device.Remover
	notices  *notice.Service
	approval *approval.Service
	profile  *profile.Service
	keys     *signkey.Manager // nil without OpenID clients
	oidc     *oidc.Provider   // nil without OpenID clients
}

// buildApp wires the services on st. sink receives each queued letter as a PDF
// (the demo's folder); nil in production.
func buildApp(ctx context.Context, cfg Config, logger *slog.Logger, st *sqlstore.Store, sink dispatch.Sink) (*app, error) {
	ring, err := cfg.keyring()
	if err != nil {
		return nil, err
	}
	params, err := cfg.hasherParams()
	if err != nil {
		return nil, err
	}
	pepper, err := cfg.pepper()
	if err != nil {
		return nil, err
	}
	maxHashes := cfg.Password.MaxConcurrent
	if maxHashes <= 0 {
		maxHashes = runtime.GOMAXPROCS(0)
	}
	hasher, err := password.NewHasher(params, pepper, maxHashes)
	if err != nil {
		return nil, fmt.Errorf("password: %w", err)
	}
	renderer, err := letter.NewRenderer(letter.Sender{Name: cfg.Insurer.Name, Street: cfg.Insurer.Street,
		PostalCity: cfg.Insurer.PostalCity, Phone: cfg.Insurer.Phone, Web: cfg.Insurer.Web})
	if err != nil {
		return nil, fmt.Errorf("letters: %w", err)
	}
	auditKey, err := cfg.auditKey()
	if err != nil {
		return nil, err
	}
	a := &app{ring: ring, auditKey: auditKey, audit: audit.New(st, auditKey, time.Now, logger)}
	a.sessions = session.NewManager(st, session.Config{}, time.Now)
	a.letters = dispatch.New(st, ring, renderer, a.audit, sink, time.Now,
		dispatch.Config{PersonLimit: cfg.Letters.PersonLimit, DailyCap: cfg.Letters.DailyCap,
			NoticeDailyCap: cfg.Letters.NoticeDailyCap}, logger)
	a.notices = notice.New(st, ring, []notice.Channel{notice.ChannelFunc(a.letters.DeliverNotice)}, time.Now, notice.Config{}, logger)
	notices := notice.NewMaker(ring, time.Now, a.notices.Kick)
	a.accounts = account.New(st, hasher, a.sessions, a.audit, notices, time.Now,
		account.Config{Policy: password.Policy{MinLength: cfg.Password.MinLength, InsurerName: cfg.Insurer.Name},
			MaxChangesPerDay: cfg.Password.MaxChangesPerDay}, logger)
	a.access = account.NewAccess(a.accounts, st, st, a.letters, cfg.PublicURL, 0)
	if cfg.EID.Issuer != "" {
		secret, err := cfg.eidSecret()
		if err != nil {
			return nil, err
		}
		client, err := eid.New(ctx, eid.Config{Issuer: cfg.EID.Issuer, ClientID: cfg.EID.ClientID,
			ClientSecret: eid.NewSecret(secret), RedirectURL: strings.TrimRight(cfg.PublicURL, "/") + "/eid/rueckkehr"},
			&http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("eid: %w", err)
		}
		a.access.EnableEID(account.EIDConfig{Client: client, Partner: cfg.EID.Issuer, Store: st, Sealer: ring})
	}
	acfg := cfg.approvalConfig()
	policy := acfg.Policy
	if policy == nil {
		policy = approval.DefaultPolicy()
	}
	a.api = appapi.New(a.accounts, a.access, a.sessions, st, appapi.Config{PortalURL: cfg.PublicURL,
		LoginRate: cfg.HTTP.LoginRatePerIP, LoginBurst: cfg.HTTP.LoginBurstPerIP, Policy: policy}, time.Now, logger)
	a.devices = device.New(st, a.accounts, notices, a.sessions, a.audit, time.Now,
		device.Config{MaxDevices: cfg.Device.MaxDevices, PINLimit: cfg.Device.PINLimit,
			KDFMinTime: uint32(cfg.Device.KDFMinTime), KDFMinMemory: uint32(cfg.Device.KDFMinMemory)}, logger)
	a.api.EnableDevices(a.devices)
	// Each approval action that changes data is carried out by its
	// executor in the approving transaction.
	executors := profile.Executors(ring, notices)
	executors[device.ActionRemove] = device.NewRemoveExecutor(notices)
	a.approval = approval.New(st, ring, a.devices, a.audit, time.Now, acfg, executors, notices.Kick, logger)
	a.remover = device.NewRemover(st, a.approval, notices, a.audit, time.Now, logger)
	a.profile = profile.New(st, a.approval, ring)
	outboxToken, err := cfg.outboxToken()
	if err != nil {
		return nil, err
	}
	a.api.EnableApprovals(a.approval, a.approval, a.profile, a.remover, outboxToken)
	eidOrigin := ""
	if u, err := url.Parse(cfg.EID.Issuer); err == nil && cfg.EID.Issuer != "" {
		eidOrigin = u.Scheme + "://" + u.Host
	}
	a.web = web.New(web.Config{InsurerName: cfg.Insurer.Name, Phone: cfg.Insurer.Phone, EIDOrigin: eidOrigin,
		LoginRate: cfg.HTTP.LoginRatePerIP, LoginBurst: cfg.HTTP.LoginBurstPerIP}, a.accounts, a.access, a.sessions, st, logger)
	a.web.EnableApprovals(a.approval, a.profile, a.devices)
	a.svcApp = serviceapp.New(serviceapp.Config{InsurerName: cfg.Insurer.Name, Phone: cfg.Insurer.Phone})
	if len(cfg.OIDC.Clients) > 0 {
		ocfg, err := cfg.oidcConfig()
		if err != nil {
			return nil, err
		}
		a.keys = signkey.New(st, ring, time.Now, cfg.signkeyConfig())
		if err := a.keys.Ensure(ctx); err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		a.oidc, err = oidc.New(ocfg, st, a.keys, st, a.approval, a.audit, a.web, time.Now, logger)
		if err != nil {
			return nil, err
		}
		a.web.EnableApplications(a.oidc)
	}
	return a, nil
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
