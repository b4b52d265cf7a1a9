package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/loadtest"
	"github.com/pforte/pforte/internal/registry"
)

func TestLoadtestRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	os.WriteFile(state, []byte(`{"password":"x","pin":"482915","accounts":[]}`), 0o600)
	c := newCLI(t)
	run := func(extra ...string) []string {
		return append([]string{"loadtest", "run", "--state", state, "--rates", "app-login=1", "--duration", "1s"}, extra...)
	}
	tests := []struct {
		args []string
		want string
	}{
		{run("--server", "http://192.0.2.1:8080"), "loopback"},
		{run("--server", "https://staging.kasse.example"), "--allow-remote"},
		{run("--server", "https://prod.kasse.example", "--allow-remote", "staging.kasse.example"), "--allow-remote"},
		{run("--server", "http://192.0.2.1:8080", "--allow-remote", "192.0.2.1"), "https"},
		{run("--server", "http://127.0.0.1:1", "--rates", "flood=1"), "unknown scenario"},
		{run("--server", "http://127.0.0.1:1", "--rates", "app-login=1000"), "rate"},
		{run("--server", "http://127.0.0.1:1", "--rates", "app-login"), "name=rate"},
		{run("--server", "http://127.0.0.1:1", "--duration", "11m"), "--duration"},
		{[]string{"loadtest", "run", "--server", "http://127.0.0.1:1", "--rates", "app-login=1"}, "--state"},
		{[]string{"loadtest", "setup", "--database", "sqlite:" + filepath.Join(dir, "n.db")}, "--out"},
		{[]string{"loadtest", "setup", "--database", "sqlite:" + filepath.Join(dir, "n.db"), "--out", state, "--accounts", "0"}, "--accounts"},
		{[]string{"loadtest", "frobnicate"}, "usage"},
	}
	for _, tt := range tests {
		code, _, errOut := c.run("", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: code %d, stderr %q; want 2 mentioning %q", tt.args[1:], code, errOut, tt.want)
		}
	}
}

// TestLoadtest prepares a database with `loadtest setup`, refuses to fill it
// twice, serves the real graph on loopback and runs every scenario for a
// moment: every flow gets through, and the table and the JSON say so.
func TestLoadtest(t *testing.T) {
	if testing.Short() {
		t.Skip("binds phones and runs load")
	}
	dir := t.TempDir()
	c := newCLI(t)
	c.environ = append(c.environ, "PFORTE_PASSWORD_MEMORY_KIB=8192", "PFORTE_PASSWORD_TIME=1")
	dsn := "sqlite:" + filepath.Join(dir, "p.db")
	state := filepath.Join(dir, "state.json")
	code, out, errOut := c.run("", "loadtest", "setup", "--database", dsn, "--out", state, "--accounts", "20", "--register", "5")
	if code != 0 {
		t.Fatalf("loadtest setup: code %d\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v; want mode 0600", fi, err)
	}
	// Access requests need complete birth dates.
	prepared, err := loadtest.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	if len(prepared.Accounts) != 20 || len(prepared.Register) != 5 {
		t.Errorf("state: %d accounts, %d register entries; want 20, 5", len(prepared.Accounts), len(prepared.Register))
	}
	for _, e := range prepared.Register {
		if d, err := registry.ParseBirthDate(e.BirthDate, time.Now()); err != nil || len(d.String()) != len("2006-01-02") {
			t.Errorf("register entry %s: birth date %q is not complete", e.KVNR, e.BirthDate)
		}
	}
	// Synthetic persons never go into a register that has persons.
	code, _, errOut = c.run("", "loadtest", "setup", "--database", dsn, "--out", filepath.Join(dir, "again.json"))
	if code != 2 || !strings.Contains(errOut, "without persons only") {
		t.Errorf("second setup: code %d, stderr %q; want 2, refused", code, errOut)
	}

	server := serveLoopback(t, c, dsn, 1000, 1000)
	jsonOut := filepath.Join(dir, "result.json")
	code, out, errOut = c.run("", "loadtest", "run", "--server", server, "--state", state, "--duration", "3s",
		"--rates", "password-login=1,app-login=1,approval=1,access-request=1,wrong-password=1,wrong-pin=1", "--json", jsonOut)
	if code != 0 {
		t.Fatalf("loadtest run: code %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"flow approval", "POST /api/v1/approvals/{id}/approve", "POST /api/v1/access-requests", "POST /api/v1/app/sessions"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the table:\n%s", want, out)
		}
	}
	raw, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Flows map[string]loadtest.Classes `json:"flow_classes"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]func(loadtest.Classes) bool{
		loadtest.PasswordLogin: func(c loadtest.Classes) bool { return c.OK > 0 && c.Client == 0 },
		loadtest.AppLogin:      func(c loadtest.Classes) bool { return c.OK > 0 && c.Client == 0 },
		loadtest.Approval:      func(c loadtest.Classes) bool { return c.OK > 0 && c.Client == 0 },
		loadtest.AccessRequest: func(c loadtest.Classes) bool { return c.OK > 0 && c.Client == 0 },
		loadtest.WrongPassword: func(c loadtest.Classes) bool { return c.Client > 0 && c.OK == 0 },
		loadtest.WrongPIN:      func(c loadtest.Classes) bool { return c.Client > 0 && c.OK == 0 },
	}
	for name, ok := range want {
		c := res.Flows[name]
		if !ok(c) || c.Transport+c.Server+c.Gateway+c.Busy > 0 {
			t.Errorf("flow %s: %+v\n%s", name, c, out)
		}
	}
}
