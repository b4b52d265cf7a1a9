package load

import (
	"testing"
	"time"
)

func TestLoopbackServer(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080/", true},
		{"https://[::1]:8443", true},
		{"http://localhost:8080", true},
		{"http://example.org", false},
		{"http://10.0.0.1:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://127.0.0.1.example.org:8080", false},
		{"http://[::ffff:10.0.0.1]:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://127.0.0.1:8080/api/v1/sessions", false},
		{"http://user@127.0.0.1:8080", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := LoopbackServer(tt.raw)
		if got := err == nil; got != tt.ok {
			t.Errorf("LoopbackServer(%q) = %v, want ok %v", tt.raw, err, tt.ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := Percentile(d, tt.q); got != tt.want {
			t.Errorf("Percentile(1..100 ms, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Percentile(nil, 0.99); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}
