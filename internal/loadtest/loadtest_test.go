package loadtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, raw, allow string
		ok               bool
	}{
		{"loopback v4", "http://127.0.0.1:8080", "", true},
		{"loopback elsewhere in 127/8", "http://127.1.2.3:8080", "", true},
		{"loopback v6", "http://[::1]:8080", "", true},
		{"localhost", "http://localhost:8080/", "", true},
		{"remote refused", "https://staging.kasse.example", "", false},
		{"remote refused by address", "http://192.0.2.10:8080", "", false},
		{"remote named but other host", "https://prod.kasse.example", "staging.kasse.example", false},
		{"remote named but other address", "https://192.0.2.11:8443", "192.0.2.10", false},
		{"remote named, not https", "http://192.0.2.10:8080", "192.0.2.10", false},
		{"remote named exactly", "https://192.0.2.10:8443", "192.0.2.10", true},
		{"path", "http://127.0.0.1:8080/api", "", false},
		{"user", "http://u:p@127.0.0.1:8080", "", false},
		{"scheme", "ftp://127.0.0.1", "", false},
		{"query", "http://127.0.0.1:8080?x=1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTarget(t.Context(), tt.raw, tt.allow)
			if (err == nil) != tt.ok {
				t.Errorf("ParseTarget(%q, %q) = %v, want ok %v", tt.raw, tt.allow, err, tt.ok)
			}
		})
	}
}

// TestClientReachesOnlyPermittedAddresses: whatever a URL names, the dialer
// connects to loopback and to the allowed host's addresses only.
func TestClientReachesOnlyPermittedAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	target, err := ParseTarget(t.Context(), srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c := target.Client(1)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("loopback: %v", err)
	}
	resp.Body.Close()
	// A non-loopback address is refused before any packet leaves.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://192.0.2.1:80/", nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("192.0.2.1: err %v, want a refusal", err)
	}
	// With an allowed host, its address is reachable and others are not.
	allowed := &Target{allowed: []net.IP{net.ParseIP("192.0.2.7")}}
	if !allowed.permits(net.ParseIP("192.0.2.7")) || allowed.permits(net.ParseIP("192.0.2.8")) || !allowed.permits(net.ParseIP("127.0.0.1")) {
		t.Error("permits: want the allowed address and loopback only")
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		plan Plan
		ok   bool
	}{
		{"fine", Plan{Rates: map[string]float64{AppLogin: 2, AccessRequest: 0.5}, Duration: time.Minute}, true},
		{"no scenario", Plan{Rates: map[string]float64{}, Duration: time.Minute}, false},
		{"unknown scenario", Plan{Rates: map[string]float64{"flood": 1}, Duration: time.Minute}, false},
		{"rate too high", Plan{Rates: map[string]float64{AppLogin: MaxRate + 1}, Duration: time.Minute}, false},
		{"rate zero", Plan{Rates: map[string]float64{AppLogin: 0}, Duration: time.Minute}, false},
		{"too long", Plan{Rates: map[string]float64{AppLogin: 1}, Duration: MaxDuration + time.Second}, false},
		{"too short", Plan{Rates: map[string]float64{AppLogin: 1}, Duration: time.Millisecond}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.plan.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
	p := Plan{Rates: map[string]float64{AppLogin: 2, WrongPassword: 1, WrongPIN: 1, AccessRequest: 1}, Duration: time.Minute}
	want := map[string]int{AppLogin: 7, WrongPassword: 16, WrongPIN: 31}
	if diff := cmp.Diff(want, p.AccountsNeeded()); diff != "" {
		t.Errorf("AccountsNeeded (-want +got):\n%s", diff)
	}
	if got := p.RegisterNeeded(); got != 61 {
		t.Errorf("RegisterNeeded = %d, want 61", got)
	}
}

func TestParseRates(t *testing.T) {
	got, err := ParseRates("app-login=2, access-request=0.5")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]float64{AppLogin: 2, AccessRequest: 0.5}, got); diff != "" {
		t.Errorf("ParseRates (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"app-login", "app-login=x", "app-login=1x", "=1"} {
		if r, err := ParseRates(bad); err == nil && (Plan{Rates: r, Duration: time.Second}).Validate() == nil {
			t.Errorf("ParseRates(%q) accepted", bad)
		}
	}
}

func TestLedgerVerify(t *testing.T) {
	l := NewLedger()
	l.add(KindLetter, "exact", 1, 0)
	l.add(KindLetter, "cut-happened", 0, 1)
	l.add(KindLetter, "cut-not-happened", 0, 1)
	l.add(KindLetter, "lost", 1, 0)
	l.add(KindLetter, "doubled", 1, 0)
	l.add(KindLetter, "both", 2, 1)
	stored := map[string]int{"exact": 1, "cut-happened": 1, "doubled": 2, "both": 3, "stranger": 1, "zero": 0}
	got := l.Verify(KindLetter, stored)
	got.Bad = nil
	want := Check{Kind: KindLetter, Held: 4, Lost: 1, Doubled: 2, CutOff: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
}

func TestClasses(t *testing.T) {
	var c Classes
	retry := http.Header{"Retry-After": {"5"}}
	for _, s := range []int{200, 201, 204, 401, 429, 503, 500, 502, 504, 0, 302} {
		c.add(s, retry)
	}
	c.add(503, http.Header{})
	want := Classes{OK: 3, Client: 2, Busy: 2, BusyBare: 1, Server: 1, Gateway: 2, Transport: 1, Other: 1}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
}
