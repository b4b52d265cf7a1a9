package server

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Defaults used for zero fields of Config.
const (
	defaultListen            = "127.0.0.1:8080"
	defaultMaxBodyBytes      = 1 << 20
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 15 * time.Second
	defaultWriteTimeout      = 30 * time.Second
	defaultIdleTimeout       = 120 * time.Second
	defaultShutdownTimeout   = 15 * time.Second
)

// Config is the HTTP frame's configuration. A zero field takes its default.
type Config struct {
	// Listen is the TCP address to listen on, host:port. Default "127.0.0.1:8080".
	Listen string

	// MaxBodyBytes caps every request body. Default 1 MiB.
	MaxBodyBytes int64

	// LargeBodies raise the cap for the paths under a prefix (the
	// mailbox's uploads) to the prefix's value; the handlers there bound
	// their bodies themselves. A value below MaxBodyBytes changes nothing.
	LargeBodies map[string]int64

	// ReadHeaderTimeout bounds reading the request headers. Default 5s.
	ReadHeaderTimeout time.Duration

	// ReadTimeout bounds reading the whole request, body included. Default 15s.
	ReadTimeout time.Duration

	// WriteTimeout bounds writing the response. Default 30s. A long-lived
	// handler (server-sent events) extends its own deadline with
	// http.ResponseController.SetWriteDeadline, which works through the
	// middleware chain.
	WriteTimeout time.Duration

	// IdleTimeout bounds how long a keep-alive connection waits for the next
	// request. Default 120s.
	IdleTimeout time.Duration

	// ShutdownTimeout bounds how long in-flight requests may run after
	// shutdown began; then the remaining connections are closed. Default 15s.
	ShutdownTimeout time.Duration
}

// withDefaults returns c with every zero or negative field set to its default.
// Negative values are reported by Validate; here they fall back safely.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = defaultMaxBodyBytes
	}
	durations := []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.ReadHeaderTimeout, defaultReadHeaderTimeout},
		{&c.ReadTimeout, defaultReadTimeout},
		{&c.WriteTimeout, defaultWriteTimeout},
		{&c.IdleTimeout, defaultIdleTimeout},
		{&c.ShutdownTimeout, defaultShutdownTimeout},
	}
	for _, d := range durations {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	return c
}

// Validate reports every problem with c at once; nil means c is usable.
// Zero fields are valid and take their defaults.
func (c Config) Validate() []error {
	var errs []error
	if c.Listen != "" {
		if err := validateListen(c.Listen); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("server: max body bytes must not be negative, got %d", c.MaxBodyBytes))
	}
	durations := []struct {
		name string
		v    time.Duration
	}{
		{"read header timeout", c.ReadHeaderTimeout},
		{"read timeout", c.ReadTimeout},
		{"write timeout", c.WriteTimeout},
		{"idle timeout", c.IdleTimeout},
		{"shutdown timeout", c.ShutdownTimeout},
	}
	for _, d := range durations {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("server: %s must not be negative, got %s", d.name, d.v))
		}
	}
	if eff := c.withDefaults(); c.ReadHeaderTimeout >= 0 && c.ReadTimeout >= 0 && eff.ReadHeaderTimeout > eff.ReadTimeout {
		errs = append(errs, fmt.Errorf("server: read header timeout %s exceeds read timeout %s", eff.ReadHeaderTimeout, eff.ReadTimeout))
	}
	return errs
}

func validateListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("server: listen address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("server: listen address %q: port must be a number from 0 to 65535", addr)
	}
	return nil
}
