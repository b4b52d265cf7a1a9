package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMailConfig: without a relay e-mail is off; STARTTLS is required
// unless the relay is loopback, and cannot be switched off for one that is
// not; the password comes from its file; every bad value is reported.
func TestMailConfig(t *testing.T) {
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
	if m, err := cfg.Mail.Sender(cfg.PublicURL, cfg.Insurer.Name, cfg.Insurer.Phone); err != nil || m != nil {
		t.Errorf("Sender without a relay = %+v, %v; want off", m, err)
	}
	pw := filepath.Join(t.TempDir(), "relay-password")
	if err := os.WriteFile(pw, []byte("s3cret-relay\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		relay, require string
		want           bool
	}{
		{"mail.example-kasse.de:587", "", true},
		{"127.0.0.1:25", "", false},
		{"localhost:2525", "", false},
		{"[::1]:25", "", false},
		{"127.0.0.1:25", "true", true},
	} {
		cfg, err := load("PFORTE_MAIL_RELAY="+tt.relay, "PFORTE_MAIL_FROM=postfach@example-kasse.de",
			"PFORTE_MAIL_REQUIRE_STARTTLS="+tt.require, "PFORTE_MAIL_USERNAME=pforte", "PFORTE_MAIL_PASSWORD_FILE="+pw)
		if err != nil {
			t.Fatalf("%s: %v", tt.relay, err)
		}
		m, err := cfg.Mail.Sender(cfg.PublicURL, cfg.Insurer.Name, cfg.Insurer.Phone)
		if err != nil || m == nil || m.RequireSTARTTLS != tt.want || m.Password != "s3cret-relay" || m.FromName != cfg.Insurer.Name ||
			m.MaxAttempts != 12 || m.FirstRetry != time.Minute || m.MaxBackoff != 2*time.Hour {
			t.Errorf("%s require_starttls=%q: %+v, %v; want STARTTLS %v", tt.relay, tt.require, m, err, tt.want)
		}
	}
	_, err = load("PFORTE_MAIL_RELAY=mail.example-kasse.de:587", "PFORTE_MAIL_REQUIRE_STARTTLS=false", "PFORTE_MAIL_FROM=kein",
		"PFORTE_MAIL_USERNAME=pforte", "PFORTE_MAIL_MAX_ATTEMPTS=0", "PFORTE_MAIL_RETRY_FIRST=2h", "PFORTE_MAIL_RETRY_MAX=1h")
	for _, key := range []string{"mail.require_starttls", "mail.from", "mail.username and mail.password_file", "mail.max_attempts", "mail.retry_first"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s not reported: %v", key, err)
		}
	}
	if _, err := load("PFORTE_MAIL_RELAY=no-port", "PFORTE_MAIL_FROM=a@b.de"); err == nil || !strings.Contains(err.Error(), "mail.relay") {
		t.Errorf("relay without port not reported: %v", err)
	}
}
