package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLoadClosedRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	os.WriteFile(state, []byte(`{"password":"x","pin":"482915","accounts":[{"kvnr":"X110411675","device":{}}]}`), 0o600)
	c := newCLI(t)
	closed := func(cmd string, extra ...string) []string {
		return append([]string{"load", cmd, "--server", "http://127.0.0.1:1", "--state", state, "--duration", "1s"}, extra...)
	}
	tests := []struct {
		args []string
		want string
	}{
		{closed("app", "--server", "http://192.0.2.1:8080"), "loopback"},
		{closed("approval", "--server", "https://staging.kasse.example"), "loopback"},
		{closed("app", "--server", "http://127.0.0.1:1/api"), "--server"},
		{closed("app", "--concurrency", "0"), "--concurrency must be between"},
		{closed("approval", "--concurrency", "1001"), "--concurrency must be between"},
		{closed("app", "--duration", "11m"), "--duration"},
		{closed("approval", "--duration", "1ms"), "--duration"},
		{closed("app", "--max-requests", "0"), "--max-requests"},
		{closed("app", "--concurrency", "2"), "needs as many phones"},
		{closed("app", "extra"), "unexpected argument"},
		{[]string{"load", "app", "--server", "http://127.0.0.1:1"}, "--state"},
		{[]string{"load", "verify", "--concurrency", "0"}, "--concurrency"},
		{[]string{"load", "verify", "--concurrency", "1001"}, "--concurrency"},
		{[]string{"load", "verify", "--duration", "11m"}, "--duration"},
		{[]string{"load", "login", "--server", "http://127.0.0.1:1", "--state", state, "--kvnr", "X110411675"}, "either --state"},
		{[]string{"load", "login", "--server", "http://127.0.0.1:1", "--state", state, "--password", "x"}, "either --state"},
	}
	for _, tt := range tests {
		code, _, errOut := c.run("", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: code %d, stderr %q; want 2 mentioning %q", tt.args[1:], code, errOut, tt.want)
		}
	}
}

func TestLoadVerify(t *testing.T) {
	c := newCLI(t)
	code, out, errOut := c.run("", "load", "verify", "--concurrency", "2", "--duration", "300ms")
	if code != 0 {
		t.Fatalf("load verify: code %d\n%s%s", code, out, errOut)
	}
	if n := loadFigure(t, out, "pairs"); n <= 0 {
		t.Errorf("pairs: %v, want some\n%s", n, out)
	}
	if n := loadFigure(t, out, "pairs/s"); n <= 0 {
		t.Errorf("pairs/s: %v, want some\n%s", n, out)
	}
}

// TestLoadClosed binds phones with `loadtest setup`, serves the real graph
// on loopback and drives it for a moment with `load login --state`, `load
// app` and `load approval`: every flow gets through, and the lines the
// script reads are there.
func TestLoadClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("binds phones and runs load")
	}
	dir := t.TempDir()
	c := newCLI(t)
	c.environ = append(c.environ, "PFORTE_PASSWORD_MEMORY_KIB=8192", "PFORTE_PASSWORD_TIME=1")
	dsn := "sqlite:" + filepath.Join(dir, "p.db")
	state := filepath.Join(dir, "state.json")
	code, out, errOut := c.run("", "loadtest", "setup", "--database", dsn, "--out", state, "--accounts", "2", "--register", "0")
	if code != 0 {
		t.Fatalf("loadtest setup: code %d\n%s%s", code, out, errOut)
	}

	server := serveLoopback(t, c, dsn, 1000, 1000)

	tests := []struct {
		cmd, rate string
		zero      []string // figures that must be 0
	}{
		{"login", "logins/s", []string{"status 401", "status 429", "status 503", "status other", "transport errors"}},
		{"app", "app logins/s", []string{"failed"}},
		{"approval", "round trips/s", []string{"failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			code, out, errOut := c.run("", "load", tt.cmd, "--server", server, "--state", state,
				"--concurrency", "2", "--duration", "60s", "--max-requests", "6")
			if code != 0 {
				t.Fatalf("load %s: code %d\n%s%s", tt.cmd, code, out, errOut)
			}
			if got := loadFigure(t, out, tt.rate); got <= 0 {
				t.Errorf("%s: %v, want some\n%s", tt.rate, got, out)
			}
			for _, key := range tt.zero {
				if got := loadFigure(t, out, key); got != 0 {
					t.Errorf("%s: %v, want 0\n%s", key, got, out)
				}
			}
			if p99 := loadFigure(t, out, "latency p99"); p99 <= 0 || p99 < loadFigure(t, out, "latency p50") {
				t.Errorf("latency p99 %v, want above 0 and at least p50\n%s", p99, out)
			}
		})
	}
}

// loadFigure reads the first number of the "key: value" line of out, as the
// bench scripts do.
func loadFigure(t *testing.T, out, key string) float64 {
	t.Helper()
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			f, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			return f
		}
	}
	t.Fatalf("no %q in\n%s", key, out)
	return 0
}
