package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/staff"
)

// TestBackofficeConfig: the staff sessions and four-eyes rules come from
// the environment (both rules on by default) and bad values are reported.
func TestBackofficeConfig(t *testing.T) {
	load := func(env ...string) (Config, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		cf := NewFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		return cf.Load(env, Needs{HTTP: true})
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if fe := cfg.BackofficeConfig().FourEyes; fe == nil || !fe.PINReset || !fe.RecentAddress {
		t.Errorf("default four-eyes rules: %+v", fe)
	}
	if s := cfg.StaffConfig(); s.Idle != 15*time.Minute || s.Absolute != 10*time.Hour {
		t.Errorf("default staff sessions: %+v", s)
	}
	cfg, err = load("PFORTE_BACKOFFICE_FOUR_EYES_PIN_RESET=false", "PFORTE_BACKOFFICE_IDLE_TIMEOUT=5m", "PFORTE_BACKOFFICE_SESSION_LIFETIME=8h")
	if err != nil || cfg.BackofficeConfig().FourEyes.PINReset || !cfg.BackofficeConfig().FourEyes.RecentAddress ||
		cfg.StaffConfig().Idle != 5*time.Minute || cfg.StaffConfig().Absolute != 8*time.Hour {
		t.Errorf("from the environment: %+v, %v", cfg.Backoffice, err)
	}
	cfg, err = load("PFORTE_BACKOFFICE_ALLOWED_NETWORKS=10.20.0.0/16, 192.0.2.7/32")
	if err != nil || len(cfg.BackofficeConfig().AllowedNetworks) != 2 || cfg.BackofficeConfig().AllowedNetworks[1].String() != "192.0.2.7/32" {
		t.Errorf("allowed networks: %v, %v", cfg.BackofficeConfig().AllowedNetworks, err)
	}
	_, err = load("PFORTE_BACKOFFICE_IDLE_TIMEOUT=2h", "PFORTE_BACKOFFICE_SESSION_LIFETIME=48h", "PFORTE_BACKOFFICE_ALLOWED_NETWORKS=10.0.0.0/33")
	for _, key := range []string{"backoffice.idle_timeout", "backoffice.session_lifetime", "backoffice.allowed_networks"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s not reported: %v", key, err)
		}
	}
}

// TestBackofficeWebAuthn: the relying party of staff security keys comes
// from public_url unless set, and one the WebAuthn library refuses is a
// configuration error.
func TestBackofficeWebAuthn(t *testing.T) {
	load := func(env ...string) (Config, error) {
		t.Helper()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		cf := NewFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		return cf.Load(append([]string{"PFORTE_PUBLIC_URL=https://kasse.example:8443"}, env...), Needs{HTTP: true})
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.StaffConfig().Keys.Derive(cfg.PublicURL)
	if k.RPID != "kasse.example" || len(k.Origins) != 1 || k.Origins[0] != "https://kasse.example:8443" {
		t.Errorf("derived: %+v", k)
	}
	cfg, err = load("PFORTE_BACKOFFICE_WEBAUTHN_RP_ID=backoffice.kasse.example",
		"PFORTE_BACKOFFICE_WEBAUTHN_ORIGINS=https://backoffice.kasse.example/, https://bo.kasse.example")
	if err != nil {
		t.Fatal(err)
	}
	k = cfg.StaffConfig().Keys.Derive(cfg.PublicURL)
	if k.RPID != "backoffice.kasse.example" || len(k.Origins) != 2 || k.Origins[0] != "https://backoffice.kasse.example" {
		t.Errorf("configured: %+v", k)
	}
	if _, err := load("PFORTE_BACKOFFICE_WEBAUTHN_ORIGINS=not an origin"); err == nil || !strings.Contains(err.Error(), "backoffice.webauthn") {
		t.Errorf("a bad origin: %v", err)
	}
}

// TestBackofficeCorporate: backoffice.oidc from a YAML file, the client
// secret read from its file, the return URL from public_url; incomplete
// settings and unknown roles are reported.
func TestBackofficeCorporate(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(yaml string) (Config, error) {
		t.Helper()
		file := filepath.Join(dir, "pforte.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		cf := NewFlags(fs)
		if err := fs.Parse([]string{"--config", file}); err != nil {
			t.Fatal(err)
		}
		return cf.Load(nil, Needs{HTTP: true})
	}
	cfg, err := load("public_url: https://kasse.example\nbackoffice:\n  oidc:\n    issuer: https://login.kasse.example\n" +
		"    client_id: pforte\n    client_secret_file: " + secret + "\n    roles:\n      kasse-sb: clerk\n      kasse-tl: supervisor\n")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Backoffice.OIDC.Corporate(cfg.PublicURL)
	if err != nil || c == nil || c.ClientSecret != "s3cret" || c.RedirectURL != "https://kasse.example/backoffice/anmelden/firma/rueckkehr" ||
		c.Roles["kasse-tl"] != staff.RoleSupervisor || c.Issuer != "https://login.kasse.example" {
		t.Errorf("corporate: %+v, %v", c, err)
	}
	_, err = load("backoffice:\n  oidc:\n    issuer: https://login.kasse.example\n    roles:\n      kasse-sb: admin\n")
	for _, want := range []string{"backoffice.oidc.client_id", "\"admin\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad corporate settings: %v, want %q", err, want)
		}
	}
	if c, err := (CorporateOIDC{}).Corporate("https://kasse.example"); c != nil || err != nil {
		t.Errorf("without an issuer: %+v, %v", c, err)
	}
}

// TestCorporateIssuerNeedsTLS: the corporate provider's issuer must use
// https (discovery, keys and the token exchange in clear would let anyone
// on the path sign a supervisor's ID token); plain http only on loopback.
func TestCorporateIssuerNeedsTLS(t *testing.T) {
	for issuer, ok := range map[string]bool{"https://login.example-kasse.de": true, "http://127.0.0.1:9000": true,
		"http://localhost:9000": true, "http://login.example-kasse.de": false, "http://10.0.0.5": false} {
		c := Default()
		c.Backoffice.OIDC = CorporateOIDC{Issuer: issuer, ClientID: "pforte", ClientSecretFile: "/run/secret",
			Roles: map[string]string{"g": "clerk"}}
		var tls bool
		for _, p := range c.validateBackoffice() {
			tls = tls || strings.Contains(p, "must use https")
		}
		if tls == ok {
			t.Errorf("issuer %s: refused for plain http = %v, want %v", issuer, tls, !ok)
		}
	}
}
