package oidc

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/session"
)

// The scopes a client may be allowed. "kvnr" releases the insurance number in
// the dedicated claim ClaimKVNR; "profile" the names; "offline_access" a
// refresh token.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeKVNR          = "kvnr"
	ScopeOfflineAccess = "offline_access"
)

// ClaimKVNR carries the KVNR, in ID tokens and userinfo, for clients allowed
// the scope "kvnr" that asked for it.
const ClaimKVNR = "kvnr"

var knownScopes = []string{ScopeOpenID, ScopeProfile, ScopeKVNR, ScopeOfflineAccess}

// The subject types (OpenID Connect Core 8).
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

// ClientConfig is one relying party, as the operator configures it.
type ClientConfig struct {
	// ID is the client_id: 1–64 of a-z, A-Z, 0-9, '.', '_', '-'.
	ID string `yaml:"id"`
	// Name is shown to persons (login page, phone approvals), e.g.
	// "Bonusprogramm".
	Name string `yaml:"name"`
	// Secret authenticates a confidential client (HTTP Basic at the token,
	// revocation, introspection and backchannel endpoints); at least 32
	// characters. Empty for a public client.
	Secret string `yaml:"secret" secret:"true"`
	// SecretFile names a file holding the secret instead (read by
	// cmd/pforte).
	SecretFile string `yaml:"secret_file"`
	// Public marks a client without a secret (a browser or mobile app): it
	// must use https redirect URIs and cannot use CIBA.
	Public bool `yaml:"public"`
	// RedirectURIs are matched exactly, character for character.
	RedirectURIs []string `yaml:"redirect_uris"`
	// PostLogoutRedirectURIs are matched exactly.
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	// Scopes the client may ask for; "openid" is always allowed.
	Scopes []string `yaml:"scopes"`
	// Levels the client may ask for in acr_values ("low", "substantial",
	// "high"); the lowest is what it gets when it asks for none. Default
	// substantial and high.
	Levels []string `yaml:"levels"`
	// SubjectType is "public" (one sub per person for every public client)
	// or "pairwise" (a different sub per client). Default pairwise.
	SubjectType string `yaml:"subject_type"`
	// RefreshIdle is how long a refresh token can be used after it was
	// issued (each rotation starts it again); RefreshMax bounds a family of
	// rotated tokens from the login. Defaults 30 days and 180 days.
	RefreshIdle time.Duration `yaml:"refresh_idle"`
	RefreshMax  time.Duration `yaml:"refresh_max"`
	// CIBA allows the backchannel authentication endpoint (confidential
	// clients only); AuthorizationDetailsTypes are the RFC 9396 "type"
	// values the client may send.
	CIBA                      bool     `yaml:"ciba"`
	AuthorizationDetailsTypes []string `yaml:"authorization_details_types"`
}

// Config configures the provider. Zero durations take the defaults.
type Config struct {
	// Issuer is the provider's public address: the portal's public URL
	// followed by /oidc, e.g. https://meine.kasse.example/oidc.
	Issuer string
	// SubjectKey (at least 32 bytes) keys the subject identifiers and the
	// provider's internal encryption. It must stay the same for the life of
	// the installation: changing it changes every sub.
	SubjectKey []byte
	Clients    []ClientConfig
	// CodeTTL is how long an authorization code can be exchanged (60 s).
	CodeTTL time.Duration
	// AccessTTL is the lifetime of access and ID tokens (5 minutes).
	AccessTTL time.Duration
	// LoginTTL is how long the login of an authorization request may take
	// (30 minutes).
	LoginTTL time.Duration
	// PollInterval is the least interval between CIBA token polls (5 s).
	PollInterval time.Duration
	// CIBATTL is how long a CIBA request for an unknown person stays
	// pending; set it to the approvals' TTL (5 minutes), which bounds the
	// others, so that both look alike.
	CIBATTL time.Duration
	// CIBAMinTime is the least time a backchannel request for a
	// well-formed KVNR takes (100 ms): asking a person's phone stores an
	// approval, an unknown KVNR stores nothing, and without the floor the
	// answer's time would tell a client which KVNRs exist.
	CIBAMinTime time.Duration
}

func (c Config) withDefaults() Config {
	if c.CodeTTL <= 0 {
		c.CodeTTL = 60 * time.Second
	}
	if c.AccessTTL <= 0 {
		c.AccessTTL = 5 * time.Minute
	}
	if c.LoginTTL <= 0 {
		c.LoginTTL = 30 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.CIBATTL <= 0 {
		c.CIBATTL = 5 * time.Minute
	}
	if c.CIBAMinTime <= 0 {
		c.CIBAMinTime = 100 * time.Millisecond
	}
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	for i := range c.Clients {
		c.Clients[i] = c.Clients[i].withDefaults()
	}
	return c
}

func (c ClientConfig) withDefaults() ClientConfig {
	if len(c.Levels) == 0 {
		c.Levels = []string{string(session.LevelSubstantial), string(session.LevelHigh)}
	}
	if c.SubjectType == "" {
		c.SubjectType = SubjectPairwise
	}
	if c.RefreshIdle <= 0 {
		c.RefreshIdle = 30 * 24 * time.Hour
	}
	if c.RefreshMax <= 0 {
		c.RefreshMax = 180 * 24 * time.Hour
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	return c
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Clients) == 0 {
		return nil
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		add("oidc.issuer: %q is not an https URL (http only on loopback) without query", c.Issuer)
	}
	if len(c.SubjectKey) < 32 {
		add("oidc.subject_key: needs at least 32 bytes")
	}
	for name, d := range map[string]time.Duration{"code_ttl": c.CodeTTL, "access_ttl": c.AccessTTL, "login_ttl": c.LoginTTL, "poll_interval": c.PollInterval} {
		if d < 0 {
			add("oidc.%s: %v is negative", name, d)
		}
	}
	if c.CodeTTL > 10*time.Minute {
		add("oidc.code_ttl: %v is longer than 10 minutes", c.CodeTTL)
	}
	if c.AccessTTL > time.Hour {
		add("oidc.access_ttl: %v is longer than 1 hour", c.AccessTTL)
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		name := fmt.Sprintf("oidc.clients[%d]", i)
		if !clientIDPattern.MatchString(cl.ID) {
			add("%s.id: %q is not 1–64 of A-Z a-z 0-9 . _ -", name, cl.ID)
		} else if seen[cl.ID] {
			add("%s.id: %q is configured twice", name, cl.ID)
		}
		seen[cl.ID] = true
		if len([]rune(cl.Name)) > 80 {
			add("%s.name: longer than 80 characters", name)
		}
		switch {
		case cl.Public && cl.Secret != "":
			add("%s: a public client has no secret", name)
		case !cl.Public && len(cl.Secret) < 32:
			add("%s.secret: a confidential client needs a secret of at least 32 characters", name)
		}
		if cl.Public && cl.CIBA {
			add("%s.ciba: only confidential clients may use CIBA", name)
		}
		if len(cl.RedirectURIs) == 0 && !cl.CIBA {
			add("%s.redirect_uris: none configured", name)
		}
		for _, r := range append(slices.Clone(cl.RedirectURIs), cl.PostLogoutRedirectURIs...) {
			if err := checkRedirect(r, cl.Public); err != nil {
				add("%s: redirect URI %q: %v", name, r, err)
			}
		}
		for _, s := range cl.Scopes {
			if !slices.Contains(knownScopes, s) {
				add("%s.scopes: unknown scope %q (known: %s)", name, s, strings.Join(knownScopes, ", "))
			}
		}
		for _, l := range cl.Levels {
			if session.Level(l).Rank() == 0 {
				add("%s.levels: unknown level %q (low, substantial, high)", name, l)
			}
		}
		if cl.SubjectType != "" && cl.SubjectType != SubjectPublic && cl.SubjectType != SubjectPairwise {
			add("%s.subject_type: %q is neither public nor pairwise", name, cl.SubjectType)
		}
		if cl.RefreshIdle < 0 || cl.RefreshMax < 0 || (cl.RefreshIdle > 0 && cl.RefreshMax > 0 && cl.RefreshIdle > cl.RefreshMax) {
			add("%s: refresh_idle and refresh_max must be positive, refresh_idle not above refresh_max", name)
		}
		for _, t := range cl.AuthorizationDetailsTypes {
			if !detailTypePattern.MatchString(t) {
				add("%s.authorization_details_types: %q is not 1–64 of a-z A-Z 0-9 . _ - : /", name, t)
			}
		}
		if cl.CIBA && len(cl.AuthorizationDetailsTypes) == 0 {
			add("%s.authorization_details_types: a CIBA client needs at least one type", name)
		}
	}
	return errs
}

var detailTypePattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)

// checkRedirect accepts absolute https URIs without fragment, and http ones
// on loopback for confidential clients (development).
func checkRedirect(raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return errors.New("not an absolute URL without fragment and user info")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && !public && isLoopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be https (http only on loopback, for confidential clients)")
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// secretDigest is what a client's secret is compared by: SHA-256, so the
// comparison takes the same time whatever the lengths.
func secretDigest(s string) [32]byte { return sha256.Sum256([]byte(s)) }
