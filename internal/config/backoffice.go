package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/backoffice"
	"github.com/pforte/pforte/internal/staff"
)

// BackofficeSettings is the backoffice section of the configuration: the
// staff sessions and the four-eyes rules (docs/backoffice.md).
type BackofficeSettings struct {
	// IdleTimeout ends a staff session after this long without a request;
	// SessionLifetime at the latest.
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	SessionLifetime time.Duration `yaml:"session_lifetime"`
	// FourEyesPINReset: resetting a PIN lock needs a second staff member.
	FourEyesPINReset bool `yaml:"four_eyes_pin_reset"`
	// FourEyesRecentAddress: releasing a letter to an address changed in
	// the last 30 days needs a second staff member.
	FourEyesRecentAddress bool `yaml:"four_eyes_recent_address"`
	// AllowedNetworks are the client networks (CIDR, e.g. 10.20.0.0/16)
	// the back office answers; empty: any.
	AllowedNetworks []string `yaml:"allowed_networks"`
	// WebAuthnRPID is the relying party id of staff security keys: the
	// back office's host name; empty: public_url's host.
	WebAuthnRPID string `yaml:"webauthn_rp_id"`
	// WebAuthnOrigins are the origins the back office is reached at;
	// empty: public_url's scheme, host and port.
	WebAuthnOrigins []string `yaml:"webauthn_origins"`
	// OIDC is the insurer's corporate OpenID provider staff may sign in
	// through; no issuer: off.
	OIDC CorporateOIDC `yaml:"oidc"`
}

// CorporateOIDC is backoffice.oidc: the corporate OpenID provider, the
// client Pforte is registered as there, and which groups give which role.
type CorporateOIDC struct {
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// GroupsClaim names the ID token's claim with the groups (default
	// "groups").
	GroupsClaim string `yaml:"groups_claim"`
	// Roles maps a group to clerk, supervisor or auditor.
	Roles map[string]string `yaml:"roles"`
	// AllowedSubjects, if not empty, are the only subjects admitted.
	AllowedSubjects []string `yaml:"allowed_subjects"`
}

func defaultBackoffice() BackofficeSettings {
	return BackofficeSettings{IdleTimeout: 15 * time.Minute, SessionLifetime: 10 * time.Hour,
		FourEyesPINReset: true, FourEyesRecentAddress: true}
}

// validateBackoffice checks the keys the back office adds.
func (c *Config) validateBackoffice() []string {
	var p []string
	b := c.Backoffice
	if b.IdleTimeout < time.Minute || b.IdleTimeout > time.Hour {
		p = append(p, fmt.Sprintf("backoffice.idle_timeout: %v is not between 1m and 1h", b.IdleTimeout))
	}
	if b.SessionLifetime < b.IdleTimeout || b.SessionLifetime > 24*time.Hour {
		p = append(p, fmt.Sprintf("backoffice.session_lifetime: %v is not between the idle timeout and 24h", b.SessionLifetime))
	}
	for _, n := range b.AllowedNetworks {
		if _, err := netip.ParsePrefix(strings.TrimSpace(n)); err != nil {
			p = append(p, fmt.Sprintf("backoffice.allowed_networks: %q is no network in CIDR notation (e.g. 10.20.0.0/16)", n))
		}
	}
	if o := b.OIDC; o.Issuer != "" {
		if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p = append(p, fmt.Sprintf("backoffice.oidc.issuer: %q is not an http(s) URL", o.Issuer))
		} else if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			// Discovery, keys and the token exchange in clear would let
			// anyone on the path sign a supervisor's ID token.
			p = append(p, fmt.Sprintf("backoffice.oidc.issuer: %q must use https (http only on loopback)", o.Issuer))
		}
		if o.ClientID == "" || o.ClientSecretFile == "" {
			p = append(p, "backoffice.oidc.client_id and backoffice.oidc.client_secret_file: set both with backoffice.oidc.issuer")
		}
		if len(o.Roles) == 0 {
			p = append(p, "backoffice.oidc.roles: map at least one group to a role (clerk, supervisor, auditor)")
		}
		for g, r := range o.Roles {
			if !staff.Role(r).Valid() {
				p = append(p, fmt.Sprintf("backoffice.oidc.roles: group %q maps to %q, not clerk, supervisor or auditor", g, r))
			}
		}
	}
	if err := c.StaffConfig().Keys.Derive(c.PublicURL).Check(); err != nil {
		p = append(p, fmt.Sprintf("backoffice.webauthn_rp_id, backoffice.webauthn_origins: %v", err))
	}
	return p
}

// StaffConfig is the staff sessions' configuration.
func (c *Config) StaffConfig() staff.Config {
	var origins []string
	for _, o := range c.Backoffice.WebAuthnOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			origins = append(origins, o)
		}
	}
	return staff.Config{Idle: c.Backoffice.IdleTimeout, Absolute: c.Backoffice.SessionLifetime, Issuer: c.Insurer.Name,
		Keys: staff.KeyConfig{RPID: strings.TrimSpace(c.Backoffice.WebAuthnRPID), Origins: origins}}
}

// Corporate is the corporate provider's sign-in for a node at publicURL,
// with the client secret read from its file; nil when the issuer is empty.
func (o CorporateOIDC) Corporate(publicURL string) (*backoffice.Corporate, error) {
	if o.Issuer == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return nil, fmt.Errorf("backoffice.oidc.client_secret_file: %v", err)
	}
	roles := make(map[string]staff.Role, len(o.Roles))
	for g, r := range o.Roles {
		roles[g] = staff.Role(r)
	}
	return &backoffice.Corporate{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: strings.TrimSpace(string(raw)),
		RedirectURL: strings.TrimRight(publicURL, "/") + "/backoffice/anmelden/firma/rueckkehr", GroupsClaim: o.GroupsClaim,
		Roles: roles, AllowedSubjects: o.AllowedSubjects}, nil
}

// BackofficeConfig is the back office's configuration (the node fills in
// the cookies, the insurer's name and the clock; NodeConfig the corporate
// provider).
func (c *Config) BackofficeConfig() backoffice.Config {
	bc := backoffice.Config{FourEyes: &backoffice.FourEyes{PINReset: c.Backoffice.FourEyesPINReset,
		RecentAddress: c.Backoffice.FourEyesRecentAddress}}
	for _, n := range c.Backoffice.AllowedNetworks {
		if p, err := netip.ParsePrefix(strings.TrimSpace(n)); err == nil {
			bc.AllowedNetworks = append(bc.AllowedNetworks, p.Masked())
		}
	}
	return bc
}

// loopbackHost reports whether host names the loopback interface.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
