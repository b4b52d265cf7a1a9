package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/config"
)

func TestLoadRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("secret\n"), 0o600)
	c := newCLI(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"load", "login", "--server", "http://192.0.2.1:8080", "--kvnr", "X110411675", "--password", "x"}, "loopback"},
		{[]string{"load", "login", "--server", "http://example.org", "--kvnr", "X110411675", "--password", "x"}, "loopback"},
		{[]string{"load", "login", "--kvnr", "X110411675", "--password", "x"}, "--server"},
		{[]string{"load", "login", "--server", "http://127.0.0.1:1", "--kvnr", "X110411675", "--password", "x", "--concurrency", "0"}, "--concurrency"},
		{[]string{"load", "login", "--server", "http://127.0.0.1:1", "--kvnr", "X110411675", "--password", "x", "--duration", "1h"}, "--duration"},
		{[]string{"load", "login", "--server", "http://127.0.0.1:1", "--password", "x"}, "--kvnr"},
		{[]string{"load", "login", "--server", "http://127.0.0.1:1", "--kvnr", "X110411675", "--password", "x", "--password-file", pwFile}, "--password"},
		{[]string{"load", "hash", "--concurrency", "65"}, "--concurrency"},
		{[]string{"load", "hash", "--memory-kib", "1024"}, "memory"},
		{[]string{"load", "setup", "--database", "postgres://127.0.0.1/x"}, "sqlite"},
		{[]string{"load", "setup", "--database", "sqlite:" + pwFile}, "exists"},
		{[]string{"load", "setup", "--database", "sqlite:" + filepath.Join(dir, "n.db"), "--count", "5", "--accounts", "6"}, "--accounts"},
		{[]string{"load", "frobnicate"}, "usage"},
	}
	for _, tt := range tests {
		code, _, errOut := c.run("", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: code %d, stderr %q; want 2 mentioning %q", tt.args[1:], code, errOut, tt.want)
		}
	}
}

// TestLoginRateConfig checks the per-IP login limit settings.
func TestLoginRateConfig(t *testing.T) {
	c := newCLI(t)
	cfg, err := config.NewFlags(newFlagSet(&environment{stderr: io.Discard}, "t", "t")).Load(
		append(c.environ, "PFORTE_HTTP_LOGIN_RATE_PER_IP=2.5", "PFORTE_HTTP_LOGIN_BURST_PER_IP=20"), config.Needs{HTTP: true})
	if err != nil || cfg.HTTP.LoginRatePerIP != 2.5 || cfg.HTTP.LoginBurstPerIP != 20 {
		t.Errorf("rate %v burst %d, err %v; want 2.5, 20", cfg.HTTP.LoginRatePerIP, cfg.HTTP.LoginBurstPerIP, err)
	}
	if d := config.Default(); d.HTTP.LoginRatePerIP != 1 || d.HTTP.LoginBurstPerIP != 10 {
		t.Errorf("defaults: rate %v burst %d, want 1, 10", d.HTTP.LoginRatePerIP, d.HTTP.LoginBurstPerIP)
	}
	for _, env := range [][]string{
		{"PFORTE_HTTP_LOGIN_RATE_PER_IP=0"},
		{"PFORTE_HTTP_LOGIN_RATE_PER_IP=-1"},
		{"PFORTE_HTTP_LOGIN_RATE_PER_IP=NaN"},
		{"PFORTE_HTTP_LOGIN_RATE_PER_IP=fast"},
		{"PFORTE_HTTP_LOGIN_BURST_PER_IP=0"},
	} {
		cc := cli{t: t, environ: append(c.environ, env...)}
		code, _, errOut := cc.run("", "serve", "--database", "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
		key := strings.ToLower(strings.TrimPrefix(strings.Split(env[0], "=")[0], "PFORTE_HTTP_"))
		if code != 2 || !strings.Contains(errOut, key) {
			t.Errorf("%v: code %d, stderr %q; want 2 naming %s", env, code, errOut, key)
		}
	}
}

// TestLoadLogin sets up accounts with `load setup`, serves the real graph on
// loopback and drives it with `load login` for a moment: logins succeed, and
// the per-IP limit from the configuration is the one the API applies.
func TestLoadLogin(t *testing.T) {
	dir := t.TempDir()
	c := newCLI(t)
	c.environ = append(c.environ, "PFORTE_PASSWORD_MEMORY_KIB=8192", "PFORTE_PASSWORD_TIME=1")
	dsn := "sqlite:" + filepath.Join(dir, "p.db")
	kvnrs, pw := filepath.Join(dir, "kvnrs"), filepath.Join(dir, "password")
	code, _, errOut := c.run("", "load", "setup", "--database", dsn, "--count", "20", "--accounts", "2", "--out", kvnrs, "--password-out", pw)
	if code != 0 {
		t.Fatalf("load setup: code %d\n%s", code, errOut)
	}
	if raw, _ := os.ReadFile(kvnrs); len(strings.Fields(string(raw))) != 2 {
		t.Fatalf("load setup wrote %q, want 2 KVNRs", raw)
	}

	tests := []struct {
		name       string
		rate       float64
		burst      int
		want201    bool
		want429    bool
		pidPrinted bool
	}{
		{"limit lifted", 1000, 1000, true, false, true},
		{"limit of 2 per IP", 0.001, 2, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := serveLoopback(t, c, dsn, tt.rate, tt.burst)
			args := []string{"load", "login", "--server", server, "--kvnr-file", kvnrs,
				"--password-file", pw, "--concurrency", "2", "--duration", "60s", "--max-requests", "6"}
			if tt.pidPrinted {
				args = append(args, "--pid", strconv.Itoa(os.Getpid()))
			}
			code, out, errOut := c.run("", args...)
			if code != 0 {
				t.Fatalf("load login: code %d\n%s%s", code, out, errOut)
			}
			count := func(key string) int {
				for line := range strings.Lines(out) {
					if v, ok := strings.CutPrefix(line, key+": "); ok {
						n, _ := strconv.Atoi(strings.Fields(v)[0])
						return n
					}
				}
				t.Fatalf("no %q in\n%s", key, out)
				return 0
			}
			if got := count("status 201"); (got > 0) != tt.want201 {
				t.Errorf("status 201: %d, want some %v\n%s", got, tt.want201, out)
			}
			if got := count("status 429"); (got > 0) != tt.want429 {
				t.Errorf("status 429: %d, want some %v\n%s", got, tt.want429, out)
			}
			if got := count("status 401") + count("status 503") + count("transport errors"); got != 0 {
				t.Errorf("unexpected failures:\n%s", out)
			}
			if !strings.Contains(out, "status other: 0") {
				t.Errorf("other statuses:\n%s", out)
			}
			if got := strings.Contains(out, "server VmHWM: "); got != tt.pidPrinted && hasProc() {
				t.Errorf("VmHWM printed %v, want %v\n%s", got, tt.pidPrinted, out)
			}
		})
	}
}

func hasProc() bool {
	_, err := os.Stat("/proc/self/status")
	return err == nil
}

func TestLoadHash(t *testing.T) {
	c := newCLI(t)
	code, out, errOut := c.run("", "load", "hash", "--concurrency", "2", "--duration", "3s", "--memory-kib", "8192", "--time", "1")
	if code != 0 || !strings.Contains(out, "hashes/s: ") || strings.Contains(out, "hashes: 0\n") {
		t.Errorf("load hash: code %d\n%s%s", code, out, errOut)
	}
}
