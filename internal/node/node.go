// Package node builds one Pforte node: every service wired by hand on one
// store.Store, the HTTP routes of the portal, the API and the OpenID
// provider on the server frame, and the loops every node runs beside serving
// (maintenance, notice and mail delivery, audit checkpoints). Any number of nodes may
// share one database: all state that outlives a request lives there.
//
//	Build(cfg, store) ──▶ Node (services complete, routes mounted, stored
//	                            values brought up to date)
//	Node.Serve(ctx, ln) ──▶ sweeper, notices and checkpoints run, HTTP served
//	                         until ctx ends, then a last checkpoint
//
// It owns the object graph and nothing else: configuration is parsed by the
// command (package main), rules belong to the domain packages, and HTTP
// shapes to the HTTP packages. The graph is built in one function, by
// hand, with no container: a reader sees every dependency where it is made.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/appapi"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/backoffice"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/familyapi"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/mailboxapi"
	"github.com/pforte/pforte/internal/maintenance"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/seal/reseal"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/serviceapp"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/web"
)

// Config is everything a node needs, parsed and checked by the command.
// Zero fields of the packages' own configs take their defaults.
type Config struct {
	// PublicURL is the portal's address as persons reach it: printed into
	// letters, the eID return address, the OpenID issuer's base.
	PublicURL string
	// Insurer is the sender on every letter and the name on every page.
	Insurer letter.Sender
	// Keys seal sensitive fields at rest; required.
	Keys *seal.Keyring
	// AuditKey keys the audit trail's hashes and checkpoints; required.
	AuditKey audit.Key

	// Password hashing: argon2id parameters, the optional pepper, and how
	// many hashes run at once (0: the number of CPUs).
	Password  password.Params
	Pepper    []byte
	MaxHashes int

	Accounts    account.Config
	Access      access.Config // Portal, EID and Partner are set by Build
	Letters     dispatch.Config
	Notices     notice.Config
	Devices     device.Config
	Approvals   approval.Config
	Maintenance maintenance.Config
	// Staff sets the back office's staff logins and sessions; Backoffice
	// its pages (the four-eyes rules; cookies, insurer name and clock
	// come from the portal's settings).
	Staff      staff.Config
	Backoffice backoffice.Config

	// HTTP is the server frame; Portal the pages' settings (InsurerName
	// and Phone default to Insurer's); LoginRate and LoginBurst bound
	// logins per client address on the pages and the API.
	HTTP       server.Config
	Portal     web.Config
	LoginRate  float64
	LoginBurst int
	// Assistant is what the FAQ assistant tells people, taken from the
	// settings the node enforces (package config fills it); InsurerName
	// and Phone default to Insurer's. AssistantRate and AssistantBurst
	// bound the questions of one client address, on the page and the API
	// together (defaults: 2 a second, bursts of 20).
	Assistant      assistant.Config
	AssistantRate  float64
	AssistantBurst int
	// OutboxToken is the core system's bearer token for the outbox;
	// empty: the outbox is closed.
	OutboxToken string
	// Mailbox holds the mailbox's limits; StaffToken is the staff API's
	// bearer token (empty: the staff API is closed).
	Mailbox    mailbox.Config
	StaffToken string
	// Mail is the SMTP relay for notices by e-mail; nil: e-mail notices
	// are off and the portal offers no e-mail address. MailInterval is
	// how often the queue is looked at (default 30 seconds).
	Mail         *email.SenderConfig
	MailInterval time.Duration

	// EID is the identification partner; nil: eID is not offered.
	EID *eid.Config
	// EGK is the trust in the insurer's health cards (its CA certificates
	// and the revocation sources); nil: binding with the card is off.
	EGK *egk.Config
	// OIDC turns on the OpenID provider for its clients; nil: off.
	OIDC        *oidc.Config
	SigningKeys signkey.Config

	// Checkpoints, if not nil, gets every audit checkpoint as a line of
	// JSON (put it on write-once storage); CheckpointInterval is how often
	// one is published while the chain grows (default 1 minute).
	Checkpoints        io.Writer
	CheckpointInterval time.Duration

	// LetterSink receives each letter as a PDF when it is queued (the
	// demo's folder); nil in production, where batches are exported.
	LetterSink dispatch.Sink
	// Routes are more routes to mount (the demo's relying party).
	Routes map[string]http.Handler
	// Version is reported when the node starts.
	Version string

	// Now is the clock (default time.Now); Logger the log (default none).
	Now    func() time.Time
	Logger *slog.Logger
}

// Node is one node: its services, for the commands and tests that drive
// them directly, and its server.
type Node struct {
	Store     store.Store
	Audit     *audit.Log
	Sessions  *session.Manager
	Accounts  *account.Service
	Access    *access.Service
	Letters   *dispatch.Service
	Notices   *notice.Service
	Devices   *device.Service
	Approvals *approval.Service
	Profile   *profile.Service
	Staff     *staff.Service
	Mailbox   *mailbox.Service
	// Email runs the persons' e-mail addresses; Mail sends the mail
	// queue (nil without a relay).
	Email  *email.Service
	Mail   *email.Sender
	Family *family.Service
	// Keys and OIDC are nil without OpenID clients.
	Keys *signkey.Manager
	OIDC *oidc.Provider

	Sweeper     *maintenance.Sweeper
	Checkpoints *audit.Checkpointer

	cfg      Config
	server   *server.Server
	patterns []string
	logger   *slog.Logger
}

// Build wires a node on st. It brings values stored by older versions up to
// date (sealed fields bound to their place) and makes sure signing keys
// exist, so the node can serve at once.
func Build(ctx context.Context, cfg Config, st store.Store) (*Node, error) {
	if cfg.Keys == nil {
		return nil, errors.New("node: no data keys")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxHashes <= 0 {
		cfg.MaxHashes = runtime.GOMAXPROCS(0)
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = time.Minute
	}
	now, logger, ring := cfg.Now, cfg.Logger, cfg.Keys
	hasher, err := password.NewHasher(cfg.Password, cfg.Pepper, cfg.MaxHashes)
	if err != nil {
		return nil, fmt.Errorf("node: password: %w", err)
	}
	renderer, err := letter.NewRenderer(cfg.Insurer)
	if err != nil {
		return nil, fmt.Errorf("node: letters: %w", err)
	}
	res, err := reseal.Run(ctx, st, ring, now, 0)
	if err != nil {
		return nil, fmt.Errorf("node: bind sealed fields to their place: %w", err)
	}
	if !res.AlreadyDone {
		logger.Info("sealed fields bound to their place", slog.Int("ibans", res.IBANs), slog.Int("outbox_payloads", res.Payloads))
	}

	n := &Node{Store: st, cfg: cfg, logger: logger}
	n.Audit = audit.New(st, cfg.AuditKey, now, logger)
	n.Checkpoints = audit.NewCheckpointer(st, cfg.AuditKey, cfg.Checkpoints, now, logger)
	n.Sessions = session.NewManager(st, session.Config{}, now)
	n.Letters = dispatch.New(st, ring, renderer, n.Audit, cfg.LetterSink, now, cfg.Letters, logger)
	n.Notices = notice.New(st, ring, []notice.Channel{notice.ChannelFunc(n.Letters.DeliverNotice)}, now, cfg.Notices, logger)
	notices := notice.NewMaker(ring, now, n.Notices.Kick)

	acfg := cfg.Accounts
	acfg.Policy.InsurerName = cfg.Insurer.Name
	n.Accounts = account.New(st, hasher, n.Sessions, n.Audit, notices, now, acfg, logger)
	flows := cfg.Access
	flows.Portal = cfg.PublicURL
	if cfg.EID != nil {
		ecfg := *cfg.EID
		ecfg.RedirectURL = strings.TrimRight(cfg.PublicURL, "/") + "/eid/rueckkehr"
		client, err := eid.New(ctx, ecfg, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("node: eid: %w", err)
		}
		flows.EID, flows.Partner = client, ecfg.Issuer
	}
	n.Access = access.New(st, n.Accounts, hasher, n.Letters, n.Audit, ring, flows, now, logger)

	// Each approval action that changes data is carried out by its
	// executor in the approving transaction.
	var cards device.Cards
	if cfg.EGK != nil {
		v, err := egk.New(*cfg.EGK, now, logger)
		if err != nil {
			return nil, fmt.Errorf("node: egk: %w", err)
		}
		cards = v
		logger.Info("binding with the health card (eGK) is on", slog.Int("trust_anchors", len(cfg.EGK.Anchors)),
			slog.Bool("ocsp", cfg.EGK.OCSPURL != ""), slog.Bool("crl", cfg.EGK.CRLFile != ""))
	} else {
		logger.Info("binding with the health card (eGK) is off: no egk.trust_anchors configured")
	}
	n.Devices = device.New(st, n.Accounts, notices, n.Sessions, n.Audit, cards, ring, now, cfg.Devices, logger)
	mailKick := func() {}
	if cfg.Mail != nil {
		if n.Mail, err = email.NewSender(st, ring, n.Audit, *cfg.Mail, now, logger); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		mailKick = n.Mail.Kick
	}
	executors := profile.Executors(ring, notices)
	executors[device.ActionRemove] = device.NewRemoveExecutor(notices)
	maps.Copy(executors, email.Executors(ring))
	maps.Copy(executors, family.Executors(profile.NewAddressChanger(ring, notices)))
	n.Approvals = approval.New(st, ring, n.Devices, n.Audit, now, cfg.Approvals, executors,
		func() { notices.Kick(); mailKick() }, logger)
	n.Email = email.New(st, ring, n.Approvals, n.Audit, now, mailKick)
	n.Profile = profile.New(st, n.Approvals, n.Devices, ring)
	n.Family = family.New(st, n.Approvals, n.Profile, ring, n.Audit, now, logger)
	scfg := cfg.Staff
	scfg.Keys = scfg.Keys.Derive(cfg.PublicURL)
	n.Staff = staff.New(st, hasher, ring, n.Audit, now, scfg, logger)

	n.Mailbox = mailbox.New(st, ring, mailbox.NewNoticeTexts(ring, cfg.Insurer.Phone), n.Audit, now, cfg.Mailbox, logger)

	reg := prometheus.NewRegistry()
	registerAuditMetrics(reg, n.Checkpoints)
	hcfg := cfg.HTTP
	hcfg.LargeBodies = map[string]int64{}
	for _, prefix := range mailboxapi.UploadPrefixes {
		hcfg.LargeBodies[prefix] = mailboxapi.BodyLimit(n.Mailbox.Limits())
	}
	n.server = server.New(hcfg, logger, st, reg)

	browser := web.NewBrowser(n.Sessions, cfg.Portal.InsecureCookies)
	var apps web.Applications
	provider := maintenance.NoProvider
	if cfg.OIDC != nil {
		n.Keys = signkey.New(st, ring, now, cfg.SigningKeys)
		if err := n.Keys.Ensure(ctx); err != nil {
			return nil, fmt.Errorf("node: signing keys: %w", err)
		}
		n.OIDC, err = oidc.New(*cfg.OIDC, st, n.Keys, st, n.Approvals, n.Audit, browser, now, logger)
		if err != nil {
			return nil, err
		}
		apps, provider = n.OIDC, providerUpkeep{n.OIDC, n.Keys}
	}

	pcfg := cfg.Portal
	if pcfg.InsurerName == "" {
		pcfg.InsurerName = cfg.Insurer.Name
	}
	if pcfg.Phone == "" {
		pcfg.Phone = cfg.Insurer.Phone
	}
	if cfg.EID != nil && pcfg.EIDOrigin == "" {
		pcfg.EIDOrigin = origin(cfg.EID.Issuer)
	}
	pcfg.LoginRate, pcfg.LoginBurst, pcfg.Now = cfg.LoginRate, cfg.LoginBurst, now
	help, err := newAssistant(cfg, pcfg.InsurerName, pcfg.Phone, dbConversations{store: st, sealer: ring},
		bearerAsker{n.Sessions}, cookieAsker{browser}, staffMailbox{n.Mailbox}, logger)
	if err != nil {
		return nil, err
	}
	mcfg := cfg.Maintenance
	mcfg.History = session.HistoryDays * 24 * time.Hour
	n.Sweeper = maintenance.New(st, n.Approvals, provider, help.Assistant, now, mcfg, logger)

	portal, err := web.New(pcfg, web.Services{Accounts: n.Accounts, Access: n.Access, Sessions: n.Sessions, Persons: st,
		Approvals: n.Approvals, Profile: n.Profile, Devices: n.Devices, Applications: apps, Email: n.webEmail()}, logger)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	api, err := appapi.New(appapi.Config{LoginRate: cfg.LoginRate, LoginBurst: cfg.LoginBurst, PortalURL: cfg.PublicURL,
		Policy: n.Approvals.Policy(), OutboxToken: cfg.OutboxToken, Draining: n.server.Draining()},
		appapi.Services{Accounts: n.Accounts, Access: n.Access, Sessions: n.Sessions, Persons: st, Devices: n.Devices,
			Approvals: n.Approvals, Profile: n.Profile, Cards: n.Devices.Cards(), Mailbox: n.Mailbox,
			Email: n.apiEmail()}, now, logger)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	app := serviceapp.New(serviceapp.Config{InsurerName: pcfg.InsurerName, Phone: pcfg.Phone})
	bcfg := cfg.Backoffice
	bcfg.InsecureCookies, bcfg.InsurerName, bcfg.Now = pcfg.InsecureCookies, pcfg.InsurerName, now
	back, err := backoffice.New(bcfg, backoffice.Services{Staff: n.Staff, Reads: st, Devices: device.NewDesk(n.Devices),
		Accounts: account.NewDesk(n.Accounts), Sessions: n.Sessions, Letters: backofficeLetters{n.Letters, n.Access},
		Verify: func(ctx context.Context) (audit.Result, error) { return audit.Verify(ctx, st, cfg.AuditKey, nil, nil) },
		Keys:   staffKeys(n.Staff)}, logger)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}

	boxcfg := mailboxapi.Config{InsurerName: pcfg.InsurerName, Phone: pcfg.Phone, StaffToken: cfg.StaffToken, Now: now}
	n.mount(api.Routes(), portal.Routes(), app.Routes(), back.Routes(), cfg.Routes, help.API.Routes(), help.Page.Routes(),
		mailboxapi.NewAPI(boxcfg, n.Mailbox, n.Sessions, logger).Routes(),
		mailboxapi.NewPages(boxcfg, n.Mailbox, browser, logger).Routes(),
		mailboxapi.NewStaff(boxcfg, n.Mailbox, logger).Routes(),
		familyapi.NewAPI(n.Family, n.Mailbox, n.Sessions, logger).Routes(),
		familyapi.NewPages(pcfg.InsurerName, pcfg.Phone, n.Family, n.Mailbox, browser, logger).Routes(),
		familyapi.NewStaff(cfg.StaffToken, n.Family, logger).Routes())
	n.server.HandleUnknown(portal.Unknown)
	if n.OIDC != nil {
		n.mount(n.OIDC.Routes())
	}
	return n, nil
}

// webEmail is the e-mail address for the portal: nil without a relay, so
// the portal offers no address that could never be mailed.
func (n *Node) webEmail() web.Email {
	if n.Mail == nil {
		return nil
	}
	return n.Email
}

// apiEmail is webEmail for the API.
func (n *Node) apiEmail() appapi.Email {
	if n.Mail == nil {
		return nil
	}
	return n.Email
}

// backofficeLetters are the letters the back office reviews and orders:
// the review queue of dispatch, whose rejection voids the codes through
// access, and access's activation letter.
type backofficeLetters struct {
	*dispatch.Service
	access *access.Service
}

func (l backofficeLetters) Reject(ctx context.Context, id, by, reason string) error {
	return l.Service.Reject(ctx, id, by, reason, l.access)
}

// Returned records a returned letter; access voids its codes.
func (l backofficeLetters) Returned(ctx context.Context, id string) error {
	return l.Service.Returned(ctx, id, l.access)
}

func (l backofficeLetters) OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string, requested lang.Language) (bool, error) {
	return l.access.OrderActivationLetter(ctx, id, clientIP, requested)
}

func (n *Node) mount(routes ...map[string]http.Handler) {
	for _, m := range routes {
		for pattern, h := range m {
			n.server.Handle(pattern, h)
			n.patterns = append(n.patterns, pattern)
		}
	}
	slices.Sort(n.patterns)
}

// Patterns are the route patterns the node serves beside the server
// frame's own (health, readiness, metrics), sorted.
func (n *Node) Patterns() []string { return slices.Clone(n.patterns) }

// origin is the scheme and host of u ("" if it has none).
func origin(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || rest == "" {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// Handler is the node's whole HTTP handler (with the middleware), for
// serving it on a server of one's own.
func (n *Node) Handler() http.Handler { return n.server.Handler() }

// staffKeys are the staff's security keys for the back office, or nil (no
// interface holding a nil pointer) when they are off.
func staffKeys(s *staff.Service) backoffice.Keys {
	if k := s.Keys(); k != nil {
		return k
	}
	return nil
}
