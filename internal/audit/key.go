package audit

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// MinKeySize is the least number of secret bytes of an audit key.
const MinKeySize = 32

// HKDF infos of the two keys derived from the audit key: one keys the chain's
// hashes, the other the checkpoints, so that neither can stand in for the
// other.
const (
	chainKeyInfo      = "pforte audit chain v2"
	checkpointKeyInfo = "pforte audit checkpoint v1"
)

// Key is the secret that keys the audit trail: entry hashes are HMACs under a
// key derived from it, and checkpoints carry an HMAC under another one. It
// lives outside the database (configuration), so that someone who can write
// the database cannot compute a valid chain. String, Format and LogValue never
// show it; Equal compares in constant time. The zero Key is not usable.
type Key struct {
	chain, checkpoint []byte
}

// NewKey derives the audit keys from secret, which must have at least
// MinKeySize bytes.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < MinKeySize {
		return Key{}, fmt.Errorf("audit: key: got %d bytes, want at least %d", len(secret), MinKeySize)
	}
	chain, err := hkdf.Key(sha256.New, secret, nil, chainKeyInfo, sha256.Size)
	if err != nil {
		return Key{}, fmt.Errorf("audit: key: %w", err)
	}
	checkpoint, err := hkdf.Key(sha256.New, secret, nil, checkpointKeyInfo, sha256.Size)
	if err != nil {
		return Key{}, fmt.Errorf("audit: key: %w", err)
	}
	return Key{chain: chain, checkpoint: checkpoint}, nil
}

// ParseKey reads a key as the configuration holds it: standard base64 of at
// least MinKeySize bytes, surrounding whitespace ignored. Its errors never
// contain key material.
func ParseKey(text string) (Key, error) {
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return Key{}, errors.New("audit: key: not standard base64")
	}
	k, err := NewKey(secret)
	clear(secret)
	return k, err
}

// GenerateKeyText returns a new key in the form ParseKey reads: 32 bytes from
// crypto/rand in standard base64. The result is a secret.
func GenerateKeyText() string {
	var b [MinKeySize]byte
	rand.Read(b[:]) // never fails; the runtime aborts if randomness is unavailable
	s := base64.StdEncoding.EncodeToString(b[:])
	clear(b[:])
	return s
}

// IsZero reports whether k is the zero Key.
func (k Key) IsZero() bool { return len(k.chain) == 0 }

// Equal reports whether both keys are the same, comparing in constant time.
func (k Key) Equal(o Key) bool {
	return subtle.ConstantTimeCompare(k.chain, o.chain) == 1 && subtle.ConstantTimeCompare(k.checkpoint, o.checkpoint) == 1
}

// String returns a placeholder for the secret.
func (k Key) String() string { return "audit.Key{REDACTED}" }

// Format prints the same as String for every verb.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue logs a placeholder for the secret.
func (k Key) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// GenerateKey returns a new random key that exists only in memory: for
// tests and throwaway chains. A node's key comes from the configuration
// (ParseKey), since nobody can verify the chain once the key is lost.
func GenerateKey() Key {
	var b [MinKeySize]byte
	rand.Read(b[:]) // never fails; the runtime aborts if randomness is unavailable
	k, err := NewKey(b[:])
	clear(b[:])
	if err != nil {
		panic(err) // unreachable: the secret has the right size
	}
	return k
}
