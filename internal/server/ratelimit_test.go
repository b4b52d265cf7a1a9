package server

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestIPLimiter(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	l := NewIPLimiter(1, 2, func() time.Time { return now })
	req := func(addr string) bool {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = addr
		ok, _ := l.Allow(r)
		return ok
	}
	if !req("192.0.2.1:1") || !req("192.0.2.1:2") || req("192.0.2.1:3") {
		t.Error("burst of 2 not enforced")
	}
	if !req("192.0.2.2:1") {
		t.Error("another address shares the bucket")
	}
	// One /64 is one client.
	if !req("[2001:db8::1]:1") || !req("[2001:db8::2]:1") || req("[2001:db8::3]:1") {
		t.Error("IPv6 /64 not grouped")
	}
	now = now.Add(time.Second)
	if !req("192.0.2.1:4") {
		t.Error("no token after a second")
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::ffff:192.0.2.9]:5"
	if got := ClientIP(r); got != "192.0.2.9" {
		t.Errorf("ClientIP = %q", got)
	}
	r.RemoteAddr = "garbage"
	if got := ClientIP(r); got != "" {
		t.Errorf("ClientIP(garbage) = %q", got)
	}
}
