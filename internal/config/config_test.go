package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pforte.yaml")
	os.WriteFile(file, []byte("database: sqlite:from-file.db\nhttp:\n  listen: 127.0.0.1:1111\n  write_timeout: 45s\n"), 0o600)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cf := NewFlags(fs)
	cf.Flag("listen", "http.listen", "")
	if err := fs.Parse([]string{"--config", file, "--listen", "127.0.0.1:3333"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := cf.Load([]string{"PFORTE_DATABASE=sqlite:from-env.db", "PFORTE_HTTP_LISTEN=127.0.0.1:2222"}, Needs{HTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "sqlite:from-env.db" || cfg.HTTP.Listen != "127.0.0.1:3333" || cfg.HTTP.WriteTimeout.String() != "45s" {
		t.Errorf("precedence: database %q listen %q write timeout %v", cfg.Database, cfg.HTTP.Listen, cfg.HTTP.WriteTimeout)
	}
	// Secrets never appear in error messages.
	_, err = cf.Load([]string{"PFORTE_DATA_KEYS=k1:c2VjcmV0LXNlY3JldC1zZWNyZXQ="}, Needs{Keys: true})
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("bad key error = %v", err)
	}
}

// TestDeviceKDFMinimumConfig: the KDF minimum for new PIN keys is read from
// the environment and refused outside the protocol's bounds.
func TestDeviceKDFMinimumConfig(t *testing.T) {
	load := func(env ...string) (Config, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		cf := NewFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		return cf.Load(env, Needs{HTTP: true})
	}
	cfg, err := load("PFORTE_DEVICE_KDF_MIN_TIME=3", "PFORTE_DEVICE_KDF_MIN_MEMORY=65536")
	if err != nil || cfg.Device.KDFMinTime != 3 || cfg.Device.KDFMinMemory != 65536 {
		t.Errorf("kdf minimum 3/65536: %+v, %v", cfg.Device, err)
	}
	if cfg, err := load(); err != nil || cfg.Device.KDFMinTime != 1 || cfg.Device.KDFMinMemory != 8192 {
		t.Errorf("default kdf minimum: %+v, %v", cfg.Device, err)
	}
	_, err = load("PFORTE_DEVICE_KDF_MIN_TIME=0", "PFORTE_DEVICE_KDF_MIN_MEMORY=4096")
	if err == nil || !strings.Contains(err.Error(), "device.kdf_min_time") || !strings.Contains(err.Error(), "device.kdf_min_memory") {
		t.Errorf("kdf minimum below the protocol's bounds = %v", err)
	}
}

func TestMaintenanceAndNoticeConfig(t *testing.T) {
	load := func(env ...string) (Config, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		cf := NewFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		return cf.Load(env, Needs{HTTP: true})
	}
	cfg, err := load("PFORTE_MAINTENANCE_EXPIRE_EVERY=10s", "PFORTE_MAINTENANCE_CLEAN_EVERY=5m", "PFORTE_MAINTENANCE_RETENTION=72h",
		"PFORTE_LETTERS_NOTICE_DAILY_CAP=500", "PFORTE_PASSWORD_MAX_CHANGES_PER_DAY=3")
	if err != nil || cfg.Maintenance.ExpireEvery != 10*time.Second || cfg.Maintenance.CleanEvery != 5*time.Minute ||
		cfg.Maintenance.Retention != 72*time.Hour || cfg.Letters.NoticeDailyCap != 500 || cfg.Password.MaxChangesPerDay != 3 {
		t.Errorf("config: %+v %+v %+v, %v", cfg.Maintenance, cfg.Letters, cfg.Password, err)
	}
	_, err = load("PFORTE_MAINTENANCE_EXPIRE_EVERY=1ms", "PFORTE_MAINTENANCE_RETENTION=1m", "PFORTE_LETTERS_NOTICE_DAILY_CAP=0",
		"PFORTE_PASSWORD_MAX_CHANGES_PER_DAY=0")
	for _, key := range []string{"maintenance.expire_every", "maintenance.retention", "letters.notice_daily_cap", "password.max_changes_per_day"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s not reported: %v", key, err)
		}
	}
}

// TestAssistantNodeConfig: the node's assistant takes the limits the node
// enforces and the question budget per address from the configuration.
func TestAssistantNodeConfig(t *testing.T) {
	load := func(env ...string) (Config, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		cf := NewFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		return cf.Load(env, Needs{})
	}
	cfg, err := load("PFORTE_ASSISTANT_RATE_PER_IP=0.5", "PFORTE_ASSISTANT_BURST_PER_IP=4", "PFORTE_LETTERS_DELIVERY_DAYS=9",
		"PFORTE_DATA_KEYS=k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"PFORTE_AUDIT_KEY=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := cfg.NodeConfig(nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nc.AssistantRate != 0.5 || nc.AssistantBurst != 4 || nc.Assistant.LetterDays != 9 || nc.Assistant.Phone != cfg.Insurer.Phone {
		t.Errorf("node: rate %v burst %d assistant %+v", nc.AssistantRate, nc.AssistantBurst, nc.Assistant)
	}
	if d := Default(); d.Assistant.RatePerIP != 2 || d.Assistant.BurstPerIP != 20 {
		t.Errorf("defaults: %+v", d.Assistant)
	}
	_, err = load("PFORTE_ASSISTANT_RATE_PER_IP=0", "PFORTE_ASSISTANT_BURST_PER_IP=0")
	if err == nil || !strings.Contains(err.Error(), "assistant.rate_per_ip") || !strings.Contains(err.Error(), "assistant.burst_per_ip") {
		t.Errorf("no budget = %v", err)
	}
}
