package server

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConfigWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{
			name: "zero takes every default",
			in:   Config{},
			want: Config{
				Listen:            "127.0.0.1:8080",
				MaxBodyBytes:      1 << 20,
				ReadHeaderTimeout: 5 * time.Second,
				ReadTimeout:       15 * time.Second,
				WriteTimeout:      30 * time.Second,
				IdleTimeout:       120 * time.Second,
				ShutdownTimeout:   15 * time.Second,
			},
		},
		{
			name: "set fields are kept",
			in: Config{
				Listen:            ":9000",
				MaxBodyBytes:      10,
				ReadHeaderTimeout: time.Second,
				ReadTimeout:       2 * time.Second,
				WriteTimeout:      3 * time.Second,
				IdleTimeout:       4 * time.Second,
				ShutdownTimeout:   5 * time.Second,
			},
			want: Config{
				Listen:            ":9000",
				MaxBodyBytes:      10,
				ReadHeaderTimeout: time.Second,
				ReadTimeout:       2 * time.Second,
				WriteTimeout:      3 * time.Second,
				IdleTimeout:       4 * time.Second,
				ShutdownTimeout:   5 * time.Second,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.withDefaults()); diff != "" {
				t.Errorf("withDefaults() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "zero is valid", cfg: Config{}},
		{name: "any port", cfg: Config{Listen: ":0"}},
		{name: "ipv6", cfg: Config{Listen: "[::1]:8443"}},
		{
			name: "listen without port",
			cfg:  Config{Listen: "localhost"},
			want: []string{`server: listen address "localhost": address localhost: missing port in address`},
		},
		{
			name: "listen with bad port",
			cfg:  Config{Listen: "localhost:http"},
			want: []string{`server: listen address "localhost:http": port must be a number from 0 to 65535`},
		},
		{
			name: "header timeout above read timeout",
			cfg:  Config{ReadHeaderTimeout: 20 * time.Second},
			want: []string{"server: read header timeout 20s exceeds read timeout 15s"},
		},
		{
			name: "every problem at once",
			cfg: Config{
				Listen:            "127.0.0.1:70000",
				MaxBodyBytes:      -1,
				ReadHeaderTimeout: -time.Second,
				ReadTimeout:       -time.Second,
				WriteTimeout:      -time.Second,
				IdleTimeout:       -time.Second,
				ShutdownTimeout:   -time.Second,
			},
			want: []string{
				`server: listen address "127.0.0.1:70000": port must be a number from 0 to 65535`,
				"server: max body bytes must not be negative, got -1",
				"server: read header timeout must not be negative, got -1s",
				"server: read timeout must not be negative, got -1s",
				"server: write timeout must not be negative, got -1s",
				"server: idle timeout must not be negative, got -1s",
				"server: shutdown timeout must not be negative, got -1s",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, err := range tt.cfg.Validate() {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
