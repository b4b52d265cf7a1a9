package eid

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// redacted is what a Secret prints.
const redacted = "[redacted]"

// Secret is a string that never prints itself: String, GoString, Format,
// LogValue and MarshalText show "[redacted]". Reveal returns the value, for
// the few places that must send or store it.
type Secret struct {
	value string
}

// NewSecret returns s as a Secret.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// Equal compares in constant time (for equal lengths).
func (s Secret) Equal(other string) bool {
	return subtle.ConstantTimeCompare([]byte(s.value), []byte(other)) == 1
}

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue returns "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]", so a Secret never leaks through JSON.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
