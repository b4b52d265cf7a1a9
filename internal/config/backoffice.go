package config

import (
	"fmt"
	"net/netip"
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

// BackofficeConfig is the back office's configuration (the node fills in
// the cookies, the insurer's name and the clock).
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
