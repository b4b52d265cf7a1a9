package sim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrNotInsecure is returned by New when Config.Insecure is not set.
var ErrNotInsecure = errors.New("sim: the eID simulator is insecure and runs only when Config.Insecure is set")

// Levels of assurance as acr values.
const (
	ACRLow         = "http://eidas.europa.eu/LoA/low"
	ACRSubstantial = "http://eidas.europa.eu/LoA/substantial"
	ACRHigh        = "http://eidas.europa.eu/LoA/high"
)

// Lifetimes of what the simulator issues.
const (
	CodeLifetime  = 60 * time.Second
	TokenLifetime = 5 * time.Minute
	// pageLifetime bounds how long the choice page's forms stay valid.
	pageLifetime = 10 * time.Minute
	// maxPending bounds the codes and access tokens kept in memory.
	maxPending = 10000
)

// Config configures a Simulator.
type Config struct {
	// Insecure must be true: the caller states that it wants an identity
	// provider that hands out any identity to anyone.
	Insecure bool
	// Issuer is the simulator's own base URL, e.g. http://127.0.0.1:8081,
	// without a path: the handler serves at the root of its own port.
	Issuer string
	// Clients are the relying parties allowed to use the simulator.
	Clients []Client
	// Identities are offered on the page, in this order.
	Identities []Identity
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives one line per issued code and token and per refused
	// request; slog.DiscardHandler when nil. No personal data is logged.
	Logger *slog.Logger
}

// Client is a relying party. RedirectURIs must match exactly.
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
}

// Address is an identity's address on the simulated card.
type Address struct {
	Street     string // street and house number: "Musterstraße 12a"
	PostalCode string
	City       string
	Country    string // "DE"
}

// Identity is one simulated ID card.
type Identity struct {
	// Label is shown on the button, e.g. "Passt zum Register: Jürgen Müller".
	Label       string
	FamilyName  string
	GivenNames  string
	BirthName   string
	BirthDate   string // "1970-03-14", or partial "1970-03", "1970"
	Address     Address
	Nationality string // "DE"
	// ACR is the level the partner reports; ACRHigh when "".
	ACR string
	// UseVerifiedClaims delivers an OpenID Connect for Identity Assurance
	// verified_claims object instead of plain claims.
	UseVerifiedClaims bool
	// ClaimsOnlyInUserInfo leaves the personal claims out of the ID token, as
	// OpenID Connect Core does for scope-requested claims.
	ClaimsOnlyInUserInfo bool
	// Subject overrides the pseudonym, e.g. to simulate a new card of the
	// same person; "" derives it from identity and client.
	Subject string
	// SignWithUnpublishedKey signs the ID token with a key the JWKS lacks, so
	// the client must refuse it.
	SignWithUnpublishedKey bool
	// Groups, if not nil, go into the ID token as the claim "groups", as a
	// corporate identity provider puts them: the simulator then stands in
	// for the insurer's corporate provider of the back office.
	Groups []string
}

// Simulator is the simulated identification partner. It is safe for
// concurrent use.
type Simulator struct {
	issuer     string
	clients    map[string]Client
	identities []Identity
	now        func() time.Time
	log        *slog.Logger

	key     *ecdsa.PrivateKey // publishes in /jwks
	keyID   string
	rogue   *ecdsa.PrivateKey // never published
	formKey [32]byte          // HMAC key of the page's anti-forgery values
	handler http.Handler

	mu     sync.Mutex
	codes  map[string]*grant // by code
	tokens map[string]*grant // by access token
}

// grant is what a code or access token stands for.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	identity    int
	authTime    time.Time
	expires     time.Time
	used        bool
	accessToken string // issued for this code, revoked on a second use
	txn         string // the transaction id of the issued tokens
}

// New returns a Simulator, or an error when cfg.Insecure is false or the
// configuration is invalid (every problem is reported at once).
func New(cfg Config) (*Simulator, error) {
	if !cfg.Insecure {
		return nil, ErrNotInsecure
	}
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("sim: "+format, args...))
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		bad("issuer: want an http(s) URL without path, query or fragment")
	}
	s := &Simulator{
		issuer:  strings.TrimSuffix(cfg.Issuer, "/"),
		clients: map[string]Client{},
		now:     cfg.Now,
		log:     cfg.Logger,
		codes:   map[string]*grant{},
		tokens:  map[string]*grant{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Clients) == 0 {
		bad("no clients")
	}
	for i, c := range cfg.Clients {
		switch {
		case c.ID == "":
			bad("client %d: no id", i)
		case c.Secret == "":
			bad("client %s: no secret", c.ID)
		case len(c.RedirectURIs) == 0:
			bad("client %s: no redirect URIs", c.ID)
		}
		if _, dup := s.clients[c.ID]; dup {
			bad("client %s: listed twice", c.ID)
		}
		for _, r := range c.RedirectURIs {
			if ru, err := url.Parse(r); err != nil || !ru.IsAbs() || ru.Fragment != "" {
				bad("client %s: redirect URI %q: want an absolute URL without fragment", c.ID, r)
			}
		}
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		s.clients[c.ID] = c
	}
	if len(cfg.Identities) == 0 {
		bad("no identities")
	}
	for i, id := range cfg.Identities {
		if id.Label == "" || id.FamilyName == "" || id.BirthDate == "" {
			bad("identity %d: label, family name and birth date are required", i)
		}
		switch id.ACR {
		case "":
			id.ACR = ACRHigh
		case ACRLow, ACRSubstantial, ACRHigh:
		default:
			bad("identity %d: acr: want an eIDAS level URI", i)
		}
		s.identities = append(s.identities, id)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if s.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("sim: generate signing key: %w", err)
	}
	if s.rogue, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("sim: generate signing key: %w", err)
	}
	s.keyID = randomString(12)
	rand.Read(s.formKey[:])
	s.handler = s.routes()
	return s, nil
}

// Identities returns a copy of the configured identities, with defaults filled.
func (s *Simulator) Identities() []Identity { return slices.Clone(s.identities) }

// Issuer returns the issuer URL.
func (s *Simulator) Issuer() string { return s.issuer }

// Handler returns the simulator's HTTP handler, to be served at the root of
// the issuer URL.
func (s *Simulator) Handler() http.Handler { return s.handler }

// Serve serves the simulator on ln until ctx ends, then shuts down gracefully,
// giving open requests five seconds. It returns nil after a graceful stop.
func (s *Simulator) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sim: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("sim: shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sim: serve: %w", err)
	}
	return nil
}

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails; the runtime aborts if randomness is unavailable
	return base64.RawURLEncoding.EncodeToString(b)
}

// jwks returns the published key set.
func (s *Simulator) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &s.key.PublicKey, KeyID: s.keyID, Algorithm: string(jose.ES256), Use: "sig",
	}}}
}

// prune drops expired entries; s.mu is held.
func (s *Simulator) prune(now time.Time) {
	for k, g := range s.codes {
		// Used codes are kept until they expire so a replay is recognised.
		if now.After(g.expires) {
			delete(s.codes, k)
		}
	}
	for k, g := range s.tokens {
		if now.After(g.expires) {
			delete(s.tokens, k)
		}
	}
}
