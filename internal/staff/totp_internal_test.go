package staff

import (
	"testing"
	"time"
)

// TestHOTPRFC6238 checks the code against the SHA-1 test vectors of RFC
// 6238, appendix B (eight digits, secret "12345678901234567890").
func TestHOTPRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, tt := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		if got := hotp(key, step(time.Unix(tt.unix, 0)), 8); got != tt.want {
			t.Errorf("TOTP at %d = %s, want %s", tt.unix, got, tt.want)
		}
	}
	if got := Code(key, time.Unix(59, 0)); got != "287082" {
		t.Errorf("six-digit code = %s, want 287082", got)
	}
}

func TestMatchCode(t *testing.T) {
	key := Secret("12345678901234567890")
	now := time.Unix(1111111111, 0)
	cur := step(now)
	for _, tt := range []struct {
		name     string
		code     string
		last     int64
		wantStep int64
		wantOK   bool
	}{
		{"current", Code(key, now), 0, cur, true},
		{"one step late", Code(key, now.Add(-30*time.Second)), 0, cur - 1, true},
		{"one step early", Code(key, now.Add(30*time.Second)), 0, cur + 1, true},
		{"two steps late", Code(key, now.Add(-60*time.Second)), 0, 0, false},
		{"step used", Code(key, now), cur, 0, false},
		{"earlier than used", Code(key, now.Add(-30*time.Second)), cur, 0, false},
		{"short", "12345", 0, 0, false},
		{"letters", "abcdef", 0, 0, false},
	} {
		st, ok := matchCode(key, tt.code, now, tt.last)
		if st != tt.wantStep || ok != tt.wantOK {
			t.Errorf("%s: matchCode = %d, %v; want %d, %v", tt.name, st, ok, tt.wantStep, tt.wantOK)
		}
	}
}

func TestSecretRedacts(t *testing.T) {
	s := Secret("12345678901234567890")
	if s.String() != "[totp secret]" || Password("geheim").String() != "[password]" || Token("x").String() != "[staff session token]" {
		t.Error("a secret prints itself")
	}
	if s.Base32() != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Errorf("Base32 = %s", s.Base32())
	}
}
