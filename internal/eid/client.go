package eid

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/proofing"
)

// The errors Finish and ParseCallback return; test with errors.Is.
var (
	// ErrStateMismatch: the answer does not belong to the request this browser
	// started (state or nonce differ). A forged or replayed callback.
	ErrStateMismatch = errors.New("eid: answer does not belong to this request")
	// ErrDenied: the person cancelled at the partner (error=access_denied).
	ErrDenied = errors.New("eid: identification cancelled")
	// ErrInsufficientLevel: the partner proved a lower level than required.
	ErrInsufficientLevel = errors.New("eid: level of assurance too low")
	// ErrPartner: the partner answered with an error or something invalid; the
	// wrapped cause is for the log only.
	ErrPartner = errors.New("eid: identification partner failed")
)

// The eIDAS levels of assurance as acr values.
const (
	ACRLow         = "http://eidas.europa.eu/LoA/low"
	ACRSubstantial = "http://eidas.europa.eu/LoA/substantial"
	ACRHigh        = "http://eidas.europa.eu/LoA/high"
)

// acrRank orders the acr values the client understands; others rank 0.
var acrRank = map[string]int{ACRLow: 1, ACRSubstantial: 2, ACRHigh: 3}

// levelACR maps the level names of RequireACR to acr values.
var levelACR = map[string]string{"low": ACRLow, "substantial": ACRSubstantial, "high": ACRHigh}

// signingAlgs are the ID token signature algorithms accepted.
var signingAlgs = []string{oidc.RS256, oidc.ES256, oidc.PS256}

// Defaults of Config.
const (
	DefaultACRValues   = ACRHigh
	DefaultRequireACR  = "high"
	DefaultHTTPTimeout = 10 * time.Second
)

// DefaultScopes are the scopes asked for when Config.Scopes is empty.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "birthdate", "address"}

// Config configures the client. Zero fields take the documented defaults.
type Config struct {
	// Issuer is the partner's issuer URL: https, or http on a loopback
	// address (the simulator).
	Issuer       string
	ClientID     string
	ClientSecret Secret
	// RedirectURL is Pforte's callback, registered with the partner.
	RedirectURL string
	// Scopes default to DefaultScopes; openid is always included.
	Scopes []string
	// ACRValues is sent as acr_values; default DefaultACRValues.
	ACRValues string
	// RequireACR is the lowest level accepted: "low", "substantial" or
	// "high" (default).
	RequireACR string
	// HTTPTimeout bounds every request to the partner; default 10 s.
	HTTPTimeout time.Duration
	// Now is the clock ID tokens are checked with; time.Now when nil.
	Now func() time.Time
}

// withDefaults returns cfg with zero fields defaulted.
func (cfg Config) withDefaults() Config {
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = slices.Clone(DefaultScopes)
	} else if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.ACRValues == "" {
		cfg.ACRValues = DefaultACRValues
	}
	if cfg.RequireACR == "" {
		cfg.RequireACR = DefaultRequireACR
	}
	if cfg.HTTPTimeout == 0 {
		cfg.HTTPTimeout = DefaultHTTPTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Validate reports every problem of cfg (after defaults) at once.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("eid: config: "+format, args...))
	}
	if !secureURL(cfg.Issuer) {
		bad("issuer: want an https URL, or http on a loopback address")
	}
	if cfg.ClientID == "" {
		bad("client id missing")
	}
	if cfg.ClientSecret.IsZero() {
		bad("client secret missing")
	}
	if !secureURL(cfg.RedirectURL) {
		bad("redirect URL: want an https URL, or http on a loopback address")
	}
	if _, ok := levelACR[cfg.RequireACR]; !ok {
		bad("require acr: want low, substantial or high")
	}
	if cfg.HTTPTimeout < 0 {
		bad("HTTP timeout: want a positive duration")
	}
	return errors.Join(problems...)
}

// secureURL reports whether s is an absolute https URL, or http on loopback.
func secureURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		return host == "localhost" || ip != nil && ip.IsLoopback()
	}
	return false
}

// Client speaks to the identification partner. It is safe for concurrent use.
type Client struct {
	cfg      Config
	http     *http.Client
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	minRank  int
}

// New validates cfg and discovers the partner's endpoints and keys through
// httpClient (http.DefaultTransport when nil); every request made with it is
// bounded by cfg.HTTPTimeout.
func New(ctx context.Context, cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	hc := &http.Client{}
	if httpClient != nil {
		copied := *httpClient
		hc = &copied
	}
	hc.Timeout = cfg.HTTPTimeout
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("eid: discovery: %w: %w", ErrPartner, err)
	}
	return &Client{
		cfg:      cfg,
		http:     hc,
		provider: provider,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret.Reveal(),
			RedirectURL:  cfg.RedirectURL,
			Endpoint:     provider.Endpoint(),
			Scopes:       cfg.Scopes,
		},
		verifier: provider.Verifier(&oidc.Config{
			ClientID:             cfg.ClientID,
			SupportedSigningAlgs: signingAlgs,
			Now:                  cfg.Now,
		}),
		minRank: acrRank[levelACR[cfg.RequireACR]],
	}, nil
}

// AuthRequest is one started identification: the URL to send the browser to,
// and the secrets the caller must keep server-side, bound to that browser,
// until Finish. It prints and logs without its secrets.
type AuthRequest struct {
	URL      string
	State    Secret
	Nonce    Secret
	Verifier Secret // the PKCE code verifier
}

// String hides the secrets (the URL holds state and nonce too).
func (AuthRequest) String() string { return "eid.AuthRequest{" + redacted + "}" }

// GoString hides the secrets.
func (a AuthRequest) GoString() string { return a.String() }

// LogValue hides the secrets.
func (AuthRequest) LogValue() slog.Value { return slog.StringValue(redacted) }

// random returns 32 bytes (256 bits) from crypto/rand in base64url.
func random() string {
	var b [32]byte
	rand.Read(b[:]) // never fails; the runtime aborts if randomness is unavailable
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Start begins an identification: fresh state and nonce (256 bits each), a
// PKCE verifier with its S256 challenge, and acr_values in the URL.
func (c *Client) Start() (AuthRequest, error) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	u := c.oauth.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oidc.Nonce(nonce),
		oauth2.SetAuthURLParam("acr_values", c.cfg.ACRValues),
	)
	return AuthRequest{URL: u, State: NewSecret(state), Nonce: NewSecret(nonce), Verifier: NewSecret(verifier)}, nil
}

// errorCodeRE is the shape of an OAuth error code safe to put in an error.
var errorCodeRE = regexp.MustCompile(`^[a-z_]{1,64}$`)

// ParseCallback reads the partner's redirect back to Pforte. An OAuth error
// answer becomes ErrDenied for access_denied (the person cancelled) and
// ErrPartner otherwise; state is returned with it so the caller can check it.
// A callback without state is ErrStateMismatch, one without code ErrPartner.
// Parameters given more than once are refused.
func ParseCallback(query url.Values) (state, code string, err error) {
	for _, k := range []string{"state", "code", "error"} {
		if len(query[k]) > 1 {
			return "", "", fmt.Errorf("eid: callback: %w: parameter %s repeated", ErrPartner, k)
		}
	}
	state, code = query.Get("state"), query.Get("code")
	if e, ok := query["error"]; ok {
		switch {
		case e[0] == "access_denied":
			return state, "", ErrDenied
		case errorCodeRE.MatchString(e[0]):
			return state, "", fmt.Errorf("eid: callback: %w: error %s", ErrPartner, e[0])
		}
		return state, "", fmt.Errorf("eid: callback: %w: malformed error", ErrPartner)
	}
	if state == "" {
		return "", "", fmt.Errorf("eid: callback: %w: no state", ErrStateMismatch)
	}
	if code == "" {
		return state, "", fmt.Errorf("eid: callback: %w: no code", ErrPartner)
	}
	return state, code, nil
}

// Finish completes the identification started as req with the state and code
// of the callback, and returns the verified claims with the partner's subject
// and transaction id. See the package comment for the checks and errors.
func (c *Client) Finish(ctx context.Context, req AuthRequest, gotState, code string) (proofing.Claims, error) {
	if req.State.IsZero() || !req.State.Equal(gotState) {
		return proofing.Claims{}, ErrStateMismatch
	}
	ctx = oidc.ClientContext(ctx, c.http)
	token, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(req.Verifier.Reveal()))
	if err != nil {
		return proofing.Claims{}, fmt.Errorf("eid: exchange code: %w: %w", ErrPartner, err)
	}
	rawIDToken, ok := token.Extra("id_token").(string)
	if !ok || rawIDToken == "" {
		return proofing.Claims{}, fmt.Errorf("eid: %w: no ID token", ErrPartner)
	}
	idToken, err := c.verifier.Verify(ctx, rawIDToken)
	if err != nil {
		return proofing.Claims{}, fmt.Errorf("eid: verify ID token: %w: %w", ErrPartner, err)
	}
	if req.Nonce.IsZero() || !req.Nonce.Equal(idToken.Nonce) {
		return proofing.Claims{}, fmt.Errorf("eid: ID token: %w: nonce differs", ErrStateMismatch)
	}
	var raw map[string]any
	if err := idToken.Claims(&raw); err != nil {
		return proofing.Claims{}, fmt.Errorf("eid: ID token claims: %w: %w", ErrPartner, err)
	}
	acr, _ := raw["acr"].(string)
	if acrRank[acr] < c.minRank {
		return proofing.Claims{}, fmt.Errorf("eid: %w: acr %.80q", ErrInsufficientLevel, acr)
	}
	claimsRaw := raw
	if !hasPersonClaims(raw) {
		info, err := c.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
		if err != nil {
			return proofing.Claims{}, fmt.Errorf("eid: userinfo: %w: %w", ErrPartner, err)
		}
		if info.Subject != idToken.Subject {
			return proofing.Claims{}, fmt.Errorf("eid: userinfo: %w: subject differs from the ID token's", ErrPartner)
		}
		claimsRaw = nil
		if err := info.Claims(&claimsRaw); err != nil {
			return proofing.Claims{}, fmt.Errorf("eid: userinfo claims: %w: %w", ErrPartner, err)
		}
	}
	claims, err := proofing.ClaimsFromOIDC(claimsRaw)
	if err != nil {
		return proofing.Claims{}, fmt.Errorf("eid: %w: %w", ErrPartner, err)
	}
	claims.Subject = idToken.Subject
	if claims.TransactionID == "" {
		for _, k := range []string{"txn", "jti"} {
			if s, ok := raw[k].(string); ok && s != "" && len(s) <= 256 {
				claims.TransactionID = s
				break
			}
		}
	}
	if claims.TransactionID == "" {
		return proofing.Claims{}, fmt.Errorf("eid: %w: no transaction id", ErrPartner)
	}
	return claims, nil
}

// hasPersonClaims reports whether the decoded ID token carries the person's
// claims itself.
func hasPersonClaims(raw map[string]any) bool {
	_, verified := raw["verified_claims"]
	_, family := raw["family_name"]
	return verified || family
}
