package oidc

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// clients are the configured relying parties: how they authenticate, and
// the subject identifier each one sees for a person.
type clients struct {
	byID     map[string]*client
	subjects []byte // HMAC key of the subject identifiers
}

// newClients sets up cfg's clients; cfg has its defaults.
func newClients(cfg Config) (*clients, error) {
	cs := &clients{byID: make(map[string]*client, len(cfg.Clients))}
	for _, c := range cfg.Clients {
		cs.byID[c.ID] = newClient(c, cfg.AccessTTL)
	}
	var err error
	if cs.subjects, err = hkdf.Key(sha256.New, cfg.SubjectKey, nil, "pforte oidc subject v1", 32); err != nil {
		return nil, fmt.Errorf("oidc: derive subject key: %w", err)
	}
	return cs, nil
}

// subject is the "sub" client c sees for person: an HMAC of the person id,
// under the client id for pairwise clients. It never reveals the KVNR or
// the internal id, and is stable for the life of the subject key.
func (cs *clients) subject(c *client, person store.PersonID) string {
	m := hmac.New(sha256.New, cs.subjects)
	if c.cfg.SubjectType == SubjectPairwise {
		m.Write([]byte("pairwise\x00" + c.cfg.ID + "\x00"))
	} else {
		m.Write([]byte("public\x00"))
	}
	m.Write([]byte(strconv.FormatInt(int64(person), 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errInvalidClient = &oauthError{http.StatusUnauthorized, string(oidc.InvalidClient), "client authentication failed"}

// basic checks HTTP Basic client credentials (RFC 6749 2.3.1).
func (cs *clients) basic(r *http.Request) (*client, *oauthError) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return nil, errInvalidClient
	}
	var err1, err2 error
	id, err1 = url.QueryUnescape(id)
	secret, err2 = url.QueryUnescape(secret)
	c, known := cs.byID[id]
	if err1 != nil || err2 != nil || !known {
		secretDigest(secret)
		return nil, errInvalidClient
	}
	if !c.authenticate(secret) {
		return nil, errInvalidClient
	}
	return c, nil
}

// tokenClient authenticates the client of a token request: a confidential
// client with HTTP Basic, a public one by its client_id alone.
func (cs *clients) tokenClient(r *http.Request) (*client, *oauthError) {
	if r.PostForm.Get("client_secret") != "" || r.PostForm.Get("client_assertion") != "" {
		if _, _, basic := r.BasicAuth(); basic {
			return nil, badRequest(oidc.InvalidRequest, "use one way of client authentication") // RFC 6749 2.3
		}
		return nil, &oauthError{http.StatusUnauthorized, string(oidc.InvalidClient), "authenticate with HTTP Basic (client_secret_basic)"}
	}
	if id, secret, basic := r.BasicAuth(); basic {
		if secret == "" { // a public client named in the header
			id, err := url.QueryUnescape(id)
			if c, ok := cs.byID[id]; ok && err == nil && c.cfg.Public {
				return c, nil
			}
			return nil, errInvalidClient
		}
		return cs.basic(r)
	}
	c, ok := cs.byID[r.PostForm.Get("client_id")]
	if !ok || !c.cfg.Public {
		return nil, errInvalidClient
	}
	return c, nil
}

// client is one configured relying party, in the shape package op asks for.
type client struct {
	cfg       ClientConfig
	secret    [32]byte // SHA-256 of the secret; zero for public clients
	accessTTL time.Duration
}

var _ op.Client = (*client)(nil)

func newClient(cfg ClientConfig, accessTTL time.Duration) *client {
	c := &client{cfg: cfg, accessTTL: accessTTL}
	if !cfg.Public {
		c.secret = secretDigest(cfg.Secret)
	}
	return c
}

// authenticate compares the presented secret in constant time.
func (c *client) authenticate(secret string) bool {
	if c.cfg.Public {
		return false
	}
	d := secretDigest(secret)
	return subtle.ConstantTimeCompare(d[:], c.secret[:]) == 1
}

func (c *client) GetID() string                    { return c.cfg.ID }
func (c *client) RedirectURIs() []string           { return c.cfg.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.cfg.PostLogoutRedirectURIs }

// ApplicationType is web for confidential clients and user agent for public
// ones: neither gets the loopback port wildcard of native clients, so every
// redirect URI matches exactly.
func (c *client) ApplicationType() op.ApplicationType {
	if c.cfg.Public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.cfg.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	g := []oidc.GrantType{oidc.GrantTypeCode}
	if slices.Contains(c.cfg.Scopes, ScopeOfflineAccess) {
		g = append(g, oidc.GrantTypeRefreshToken)
	}
	return g
}

// LoginURL is Pforte's own login glue, on the same host as the portal.
func (c *client) LoginURL(id string) string { return loginPath + "?id=" + url.QueryEscape(id) }

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return c.accessTTL }
func (c *client) DevMode() bool                       { return false }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed reports whether the client may ask for scope.
func (c *client) IsScopeAllowed(scope string) bool {
	return scope == ScopeOpenID || slices.Contains(c.cfg.Scopes, scope)
}

func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// levelFor turns requested acr values into the level a login must reach: the
// lowest requested level the client is allowed (unknown values are ignored,
// as acr_values are voluntary); the client's lowest allowed level when it
// asked for none it knows. ok is false when it asked only for levels it is not
// allowed.
func (c *client) levelFor(acrValues []string) (level session.Level, ok bool) {
	var asked, allowed []session.Level
	for _, v := range acrValues {
		l, known := levelOfACR(v)
		if !known {
			continue
		}
		asked = append(asked, l)
		if slices.Contains(c.cfg.Levels, string(l)) {
			allowed = append(allowed, l)
		}
	}
	if len(asked) > 0 && len(allowed) == 0 {
		return "", false
	}
	if len(allowed) == 0 {
		for _, l := range c.cfg.Levels {
			allowed = append(allowed, session.Level(l))
		}
	}
	best := allowed[0]
	for _, l := range allowed[1:] {
		if l.Rank() < best.Rank() {
			best = l
		}
	}
	return best, true
}

// levelOfACR maps an eIDAS acr value to its level.
func levelOfACR(v string) (session.Level, bool) {
	for _, l := range []session.Level{session.LevelLow, session.LevelSubstantial, session.LevelHigh} {
		if v == l.ACR() {
			return l, true
		}
	}
	return "", false
}
