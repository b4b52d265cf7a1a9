package oidc

import (
	"crypto/subtle"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/session"
)

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
