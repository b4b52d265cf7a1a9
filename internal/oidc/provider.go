package oidc

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store"
)

// Store is what the provider needs of the store.
type Store interface {
	store.OIDC
	// PersonLockByID returns the staff lock of the person's access, or
	// store.ErrNotFound when there is none: a locked person's refresh
	// tokens and CIBA requests are refused.
	PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Keys hands out the key that signs now and the published keys (package
// signkey).
type Keys interface {
	SigningKey(ctx context.Context) (signkey.Key, error)
	KeySet(ctx context.Context) ([]signkey.PublicKey, error)
}

// Persons reads master data.
type Persons interface {
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
}

// Approvals asks the person's phone (package approval).
type Approvals interface {
	// CreateForClient asks the person's bound devices to approve what a
	// client shows (action client.request): approval.ErrNoDevice without one.
	CreateForClient(ctx context.Context, person store.PersonID, text string, data []byte, level, client string) (store.Approval, error)
	// Status returns the person's request, expired once past its expiry.
	Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error)
	// Redeem uses the approved request once, checking data against what
	// was approved: approval.ErrUsed, ErrNotApproved, ErrDataChanged.
	Redeem(ctx context.Context, id string, person store.PersonID, data []byte) error
}

// Auditor records security events (package audit).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Browser finds and ends the portal session of a browser request (package
// web): the login glue completes authorization requests with it, and logout
// ends it.
type Browser interface {
	// Session returns the live portal session of r's cookie.
	Session(r *http.Request) (store.Session, bool)
	// EndSession ends r's portal session, if any, and clears its cookie on
	// rw.
	EndSession(rw http.ResponseWriter, r *http.Request) error
	// Language returns the language of the portal's pages for r: the
	// person's choice, else the browser's Accept-Language.
	Language(r *http.Request) lang.Language
}

// Provider is Pforte's OpenID provider: package op serves the standard
// endpoints on storage and the clients, and Provider puts in front of them
// what op lacks, each role a type of its own that holds what it needs:
//
//	loginGlue   the portal's login completes authorization requests (login.go)
//	cibaService CIBA in poll mode: start, and redeem once (ciba.go)
//	tokenGate   the checks op makes too late at the token endpoint (token.go)
//	bearer      userinfo and introspection, on op's verifier (bearer.go)
//	storage     op.Storage, on the store (storage.go)
//	answers     the JSON answers and OAuth errors (answer.go)
//
// Provider itself mounts them (routes.go), serves discovery, decodes and
// answers the CIBA endpoints, and sweeps what expired.
type Provider struct {
	cfg     Config
	st      Store
	op      *op.Provider
	cors    *cors.Cors // op's CORS rules, for the endpoints Provider serves itself
	clients *clients
	answers answers
	login   *loginGlue
	ciba    *cibaService
	gate    *tokenGate
	bearer  *bearer
	handler http.Handler
}

// New builds the provider. cfg must have passed Validate.
func New(cfg Config, st Store, keys Keys, persons Persons, approvals Approvals, aud Auditor, browser Browser,
	now func() time.Time, logger *slog.Logger) (*Provider, error) {
	cfg = cfg.withDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("oidc: %w", errors.Join(errs...))
	}
	cs, err := newClients(cfg)
	if err != nil {
		return nil, err
	}
	cryptoKey, err := hkdf.Key(sha256.New, cfg.SubjectKey, nil, "pforte oidc crypto v1", 32)
	if err != nil {
		return nil, fmt.Errorf("oidc: derive crypto key: %w", err)
	}
	opCfg := &op.Config{
		CryptoKey:             [32]byte(cryptoKey),
		CryptoKeyId:           "pforte-1",
		CodeMethodS256:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       knownScopes,
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp",
			"at_hash", "c_hash", "name", "given_name", "family_name", ClaimKVNR, "authorization_details"},
	}
	// Browser apps may call the token, userinfo and key endpoints from any
	// origin, but never with the person's cookies: op's default would let any
	// web site read cookie-authenticated answers.
	// They may read WWW-Authenticate, which says why a token was refused.
	corsOpts := cors.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept"},
		ExposedHeaders:   []string{"WWW-Authenticate"},
		AllowCredentials: false,
	}
	opts := []op.Option{op.WithCORSOptions(&corsOpts)}
	if isHTTPLoopback(cfg.Issuer) {
		opts = append(opts, op.WithAllowInsecure())
	}
	clk, rec, ans := clock(now), recorder{aud, logger}, answers{logger}
	tc := &claims{st: st, persons: persons, issuer: cfg.Issuer, clock: clk}
	s := &storage{cfg: cfg, st: st, clients: cs, keys: keys, browser: browser, claims: tc, clock: clk, rec: rec}
	provider, err := op.NewProvider(opCfg, s, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider: %w", err)
	}
	p := &Provider{cfg: cfg, st: st, op: provider, cors: cors.New(corsOpts), clients: cs, answers: ans,
		login: &loginGlue{st: st, clients: cs, browser: browser, authorizer: provider, clock: clk, rec: rec, logger: logger},
		ciba: &cibaService{cfg: cfg, st: st, clients: cs, persons: persons, approvals: approvals, tokens: provider, clock: clk,
			rec: rec},
		bearer: &bearer{issuer: cfg.Issuer, verifier: provider, claims: tc, clients: cs, answers: ans}}
	p.gate = &tokenGate{st: st, clients: cs, ciba: http.HandlerFunc(p.cibaToken)}
	p.handler = p.routes()
	return p, nil
}

// Routes lists the provider's routes, for mounting on the server: each
// endpoint by its own pattern (so metrics tell them apart), and /oidc/ for
// the rest (answered 404 or 405).
func (p *Provider) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{prefix + "/": p.handler}
	for _, path := range []string{discoveryPath, prefix + "/keys", prefix + "/authorize", callbackPath, loginPath, cancelPath,
		tokenPath, prefix + "/oauth/introspect", prefix + "/userinfo", prefix + "/revoke", endPath, backchannel} {
		routes[path] = p.handler
	}
	return routes
}

// clock is the provider's time source.
type clock func() time.Time

// now is the time in UTC, truncated to what the store keeps.
func (c clock) now() time.Time { return c().UTC().Truncate(time.Microsecond) }

// recorder writes the provider's audit events.
type recorder struct {
	audit  Auditor
	logger *slog.Logger
}

// record writes an audit event; a failure is logged, never shown.
func (r recorder) record(ctx context.Context, ev audit.Event) {
	if err := r.audit.Record(ctx, ev); err != nil {
		r.logger.ErrorContext(ctx, "audit", slog.String("event", ev.Event), slog.Any("error", err))
	}
}

func personRef(id store.PersonID) string { return "person:" + strconv.FormatInt(int64(id), 10) }

// randomID returns 16 random bytes, base64url.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomSecret returns 32 random bytes, base64url: refresh tokens and CIBA
// request ids.
func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func isHTTPLoopback(issuer string) bool {
	for _, h := range []string{"http://127.0.0.1", "http://localhost", "http://[::1]"} {
		if len(issuer) >= len(h) && issuer[:len(h)] == h && (len(issuer) == len(h) || issuer[len(h)] == ':' || issuer[len(h)] == '/') {
			return true
		}
	}
	return false
}

// Continue returns where the portal continues with the "weiter" key next,
// and false if next is not one of ours.
func (p *Provider) Continue(next string) (string, bool) { return p.login.Continue(next) }

// Cancel returns where a person abandons the sign-in of the "weiter" key
// next: the application is told access_denied.
func (p *Provider) Cancel(next string) (string, bool) { return p.login.Cancel(next) }

// Client returns the id and name of the client whose pending request the
// "weiter" key next names: the phone's login confirmation shows the name.
func (p *Provider) Client(ctx context.Context, next string) (string, string, bool) {
	return p.login.Client(ctx, next)
}

// Sweep removes authorization requests, tokens and CIBA requests that expired
// before cutoff. Every node may run it.
func (p *Provider) Sweep(ctx context.Context, cutoff time.Time) error {
	if _, err := p.st.DeleteAuthRequestsBefore(ctx, cutoff); err != nil {
		return fmt.Errorf("oidc: sweep auth requests: %w", err)
	}
	if _, err := p.st.DeleteTokensBefore(ctx, cutoff); err != nil {
		return fmt.Errorf("oidc: sweep tokens: %w", err)
	}
	if _, err := p.st.DeleteCIBARequestsBefore(ctx, cutoff); err != nil {
		return fmt.Errorf("oidc: sweep CIBA requests: %w", err)
	}
	return nil
}

// locked reports whether staff locked the person's access
// (store.PersonLock).
func locked(ctx context.Context, st Store, id store.PersonID) (bool, error) {
	_, err := st.PersonLockByID(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("oidc: access lock: %w", err)
}
