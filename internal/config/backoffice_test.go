package config

import (
	"flag"
	"strings"
	"testing"
	"time"
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
