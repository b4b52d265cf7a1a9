package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is wrapped by every error about a stored hash that is not
// an argon2id PHC string Verify accepts.
var ErrMalformedHash = errors.New("malformed password hash")

// Bounds of the salt and key lengths in bytes, for Params and stored hashes.
const (
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// b64 is the PHC base64: standard alphabet, no padding, and (Strict) no
// non-zero bits left over, so every value has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed argon2id PHC string.
type phc struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// encode returns the PHC string of h.
func (h phc) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// params returns the Params h was made with.
func (h phc) params() Params {
	return Params{Memory: h.memory, Time: h.time, Threads: h.threads, KeyLen: uint32(len(h.key)), SaltLen: uint32(len(h.salt))}
}

// parsePHC parses exactly the form encode writes:
//
//	$argon2id$v=19$m=<memory>,t=<time>,p=<threads>$<salt>$<key>
//
// with decimal numbers without sign or leading zeros, the parameters in this
// order and no others, and salt and key in unpadded standard base64. It
// checks the parameters against the bounds of Params.Validate (salt and key
// lengths may be as short as 8 and 16 bytes), so that a parsed hash is
// always safe to recompute. The error wraps ErrMalformedHash and does not
// contain s.
func parsePHC(s string) (phc, error) {
	var h phc
	malformed := func(what string) (phc, error) {
		return phc{}, fmt.Errorf("password: parse hash: %s: %w", what, ErrMalformedHash)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return malformed("want 5 fields separated by '$'")
	}
	if parts[1] != "argon2id" {
		return malformed("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return malformed("version is not 19")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return malformed("want parameters m, t and p")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return malformed("want parameters m, t and p in this order")
		}
		n, ok := parseDecimal(v)
		if !ok {
			return malformed("parameter " + name + " is not a decimal number")
		}
		vals[i] = n
	}
	if vals[0] < minMemory || vals[0] > maxMemory {
		return malformed("memory out of bounds")
	}
	if vals[1] < minTime || vals[1] > maxTime {
		return malformed("time out of bounds")
	}
	if vals[2] < minThreads || vals[2] > maxThreads {
		return malformed("threads out of bounds")
	}
	h.memory, h.time, h.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	var err error
	if len(parts[4]) > b64.EncodedLen(maxSaltLen) || len(parts[5]) > b64.EncodedLen(maxKeyLen) {
		return malformed("salt or key too long")
	}
	if !isBase64(parts[4]) || !isBase64(parts[5]) {
		return malformed("salt or key has characters outside base64")
	}
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return malformed("salt is not base64")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil {
		return malformed("key is not base64")
	}
	if len(h.salt) < minSaltLen {
		return malformed("salt too short")
	}
	if len(h.key) < minKeyLen {
		return malformed("key too short")
	}
	return h, nil
}

// parseDecimal parses a decimal number of at most 10 digits without sign or
// leading zeros.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

// isBase64 reports whether s holds only characters of the standard base64
// alphabet; the decoder itself skips line breaks.
func isBase64(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
