package seal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// keySize is the length of an AES-256 key in bytes.
const keySize = 32

// maxIDLen bounds a key id; it must fit the one length byte of the additional
// data (see the package comment).
const maxIDLen = 32

// Key is one sealing key: an id, stored next to every value it seals, and 32
// secret bytes. The secret never leaves the type: String, Format and LogValue
// print only the id, and Equal compares in constant time. The zero Key is not
// usable; build keys with NewKey, ParseKeys or GenerateKey.
type Key struct {
	id     string
	secret [keySize]byte
}

// NewKey returns a key with the id and a copy of the secret. The id is 1 to 32
// characters of a-z, 0-9 and '-'; the secret is exactly 32 bytes.
func NewKey(id string, secret []byte) (Key, error) {
	if !validID(id) {
		return Key{}, errors.New("seal: invalid key id: want 1 to 32 characters a-z, 0-9, '-'")
	}
	if len(secret) != keySize {
		return Key{}, fmt.Errorf("seal: key %s: got %d bytes, want %d", id, len(secret), keySize)
	}
	k := Key{id: id}
	copy(k.secret[:], secret)
	return k, nil
}

// GenerateKey returns a new key with the id and a secret from crypto/rand.
func GenerateKey(id string) (Key, error) {
	var secret [keySize]byte
	rand.Read(secret[:]) // never fails; the runtime aborts if randomness is unavailable
	k, err := NewKey(id, secret[:])
	clear(secret[:])
	return k, err
}

// ID returns the key id.
func (k Key) ID() string { return k.id }

// Encode returns the key in the form ParseKeys reads: id, a colon, and the
// secret in standard base64. The result is a secret; it is meant for the demo
// command that prints a fresh configuration, not for logs.
func (k Key) Encode() string {
	return k.id + ":" + base64.StdEncoding.EncodeToString(k.secret[:])
}

// Equal reports whether both keys have the same id and secret, comparing the
// secrets in constant time.
func (k Key) Equal(o Key) bool {
	return k.id == o.id && subtle.ConstantTimeCompare(k.secret[:], o.secret[:]) == 1
}

// String returns the id and a placeholder for the secret.
func (k Key) String() string {
	return "seal.Key{id: " + k.id + ", secret: REDACTED}"
}

// Format prints the same as String for every verb, so that no fmt verb (%x,
// %d, %#v, …) reaches the secret bytes.
func (k Key) Format(f fmt.State, _ rune) {
	io.WriteString(f, k.String())
}

// LogValue logs the id and a placeholder for the secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.id), slog.String("secret", "REDACTED"))
}

// ParseKeys parses a key list "id:base64key[,id:base64key…]" as given in the
// configuration. Each key is 32 bytes in standard or URL-safe base64, padded or
// not; ids are 1 to 32 characters of a-z, 0-9 and '-' and must be distinct.
// Whitespace around an entry is ignored. The first key is the current one (pass
// the result to NewKeyring as keys[0], keys[1:]...).
//
// Every problem is reported at once, each naming the entry's position and,
// where it is well formed, its id; errors never contain key material.
func ParseKeys(spec string) ([]Key, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("seal: no keys given")
	}
	var (
		keys []Key
		errs []error
		seen = make(map[string]bool)
	)
	for i, entry := range strings.Split(spec, ",") {
		pos := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			errs = append(errs, fmt.Errorf("seal: key %d: empty entry", pos))
			continue
		}
		id, encoded, ok := strings.Cut(entry, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("seal: key %d: missing ':' between id and key", pos))
			continue
		}
		if !validID(id) {
			// The id is not echoed: a malformed entry may have the secret first.
			errs = append(errs, fmt.Errorf("seal: key %d: invalid id: want 1 to 32 characters a-z, 0-9, '-'", pos))
			continue
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("seal: key %d: duplicate id %s", pos, id))
			continue
		}
		seen[id] = true
		secret, err := decodeBase64(encoded)
		if err != nil {
			errs = append(errs, fmt.Errorf("seal: key %d (%s): not base64", pos, id))
			continue
		}
		k, err := NewKey(id, secret)
		clear(secret)
		if err != nil {
			errs = append(errs, fmt.Errorf("seal: key %d (%s): got %d bytes, want %d", pos, id, len(secret), keySize))
			continue
		}
		keys = append(keys, k)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return keys, nil
}

// decodeBase64 accepts standard and URL-safe base64, with or without padding.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.Strict().DecodeString(s)
}

// validID reports whether id is 1 to 32 characters of a-z, 0-9 and '-'.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
