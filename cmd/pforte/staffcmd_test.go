package main

import (
	"strings"
	"testing"
)

// TestStaffCommand: an operator adds a staff member (who gets a password
// and a TOTP secret once), lists, resets and disables them; wrong use
// exits with code 2.
func TestStaffCommand(t *testing.T) {
	c := newCLI(t)
	dsn := "sqlite:" + t.TempDir() + "/p.db"
	if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	code, out, errOut := c.run("", "staff", "add", "e.muster", "--name", "Erika Muster", "--role", "supervisor", "--database", dsn)
	if code != 0 || !strings.Contains(out, "login:       e.muster") || !strings.Contains(out, "totp uri:    otpauth://totp/") {
		t.Fatalf("staff add: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := c.run("", "staff", "add", "e.muster", "--name", "Zweite", "--role", "clerk", "--database", dsn); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("adding the login twice: %d %q", code, errOut)
	}
	for _, args := range [][]string{
		{"staff"}, {"staff", "promote", "x"}, {"staff", "add", "x", "--name", "N"}, {"staff", "add", "x", "--name", "N", "--role", "admin"},
		{"staff", "disable"}, {"staff", "reset", "x", "--role", "clerk"}, {"staff", "add", "x y", "--name", "N", "--role", "clerk"},
	} {
		if code, _, _ := c.run("", append(args, "--database", dsn)...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	code, out, _ = c.run("", "staff", "reset", "e.muster", "--database", dsn)
	if code != 0 || !strings.Contains(out, "password:") || !strings.Contains(out, "security key of the staff member was removed") {
		t.Errorf("staff reset: %d %q", code, out)
	}
	if code, _, errOut := c.run("", "staff", "reset", "nobody", "--database", dsn); code != 1 || !strings.Contains(errOut, "no staff member") {
		t.Errorf("reset of an unknown login: %d %q", code, errOut)
	}
	if code, out, _ := c.run("", "staff", "disable", "e.muster", "--database", dsn); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("staff disable: %d %q", code, out)
	}
	code, out, _ = c.run("", "staff", "list", "--database", dsn)
	if code != 0 || !strings.Contains(out, "e.muster") || !strings.Contains(out, "supervisor") || !strings.Contains(out, "disabled") {
		t.Errorf("staff list: %d %q", code, out)
	}
}
