package staff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// The second factor is a time-based one-time password (RFC 6238, TOTP) as
// authenticator apps compute it: HMAC-SHA1 over the number of 30-second
// steps since the Unix epoch, truncated (RFC 4226) to six digits. A code is
// accepted for its own step and the one before and after (clock drift), and
// only once: the store keeps the last step used, and a code of that step or
// an earlier one is refused however often it is sent.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	totpSkew   = 1 // steps accepted either side of now
	secretSize = 20
)

// Secret is a TOTP secret. It never prints itself.
type Secret []byte

// String redacts the secret.
func (Secret) String() string { return "[totp secret]" }

// LogValue redacts the secret.
func (Secret) LogValue() slog.Value { return slog.StringValue("[totp secret]") }

// Base32 is the secret as authenticator apps take it typed in (RFC 4648
// base32 without padding).
func (s Secret) Base32() string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(s)
}

// URI is the otpauth:// URI an authenticator app reads from a QR code.
func (s Secret) URI(issuer, login string) string {
	label := url.PathEscape(issuer + ":" + login)
	q := url.Values{"secret": {s.Base32()}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// newSecret returns a fresh secret from crypto/rand.
func newSecret() (Secret, error) {
	b := make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("staff: random: %w", err)
	}
	return b, nil
}

// step is the TOTP time step of t.
func step(t time.Time) int64 { return t.Unix() / int64(totpStep/time.Second) }

// hotp is the RFC 4226 value of counter under key with digits digits.
func hotp(key []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// Code is the six-digit code of secret at t (for tests and enrolment checks).
func Code(secret Secret, t time.Time) string { return hotp(secret, step(t), totpDigits) }

// matchCode returns the step whose code is code, searching now's step and
// totpSkew steps either side, newest first, above last only; ok false if
// none matches. Every candidate is compared in constant time.
func matchCode(secret Secret, code string, now time.Time, last int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != totpDigits {
		return 0, false
	}
	var found int64
	ok := false
	cur := step(now)
	for s := cur + totpSkew; s >= cur-totpSkew; s-- {
		if subtle.ConstantTimeCompare([]byte(hotp(secret, s, totpDigits)), []byte(code)) == 1 && s > last && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}
