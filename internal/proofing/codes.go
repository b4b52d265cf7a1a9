package proofing

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// InitialAlphabet is the alphabet of initial passwords: capital letters and
// digits without look-alikes (no I, O, 0, 1), 32 symbols, so every character
// carries 5 bits.
const InitialAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// InitialLength is the length of an initial password: 16 characters, 80 bits,
// printed as four groups of four.
const InitialLength = 16

// NewInitialPassword returns a fresh initial password for a letter, from
// crypto/rand. It is stored only as an argon2id hash (package account).
func NewInitialPassword() (string, error) {
	var b [InitialLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("proofing: random: %w", err)
	}
	out := make([]byte, InitialLength)
	for i, v := range b {
		// 256 is a multiple of 32: taking the low 5 bits is unbiased.
		out[i] = InitialAlphabet[v&31]
	}
	return string(out), nil
}

// NormalizeInitialPassword undoes what people do when typing a printed initial
// password: spaces and hyphens between the groups, lower case.
func NormalizeInitialPassword(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(s))
}

// NewActivationCode returns a fresh activation code (128 bits from crypto/rand,
// base64url without padding: 22 characters) for the QR code of a letter.
func NewActivationCode() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("proofing: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// CodeDigest is what the store keeps of a high-entropy one-time code: its
// SHA-256. (Codes have 128 bits, so no slow hash is needed.)
func CodeDigest(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// ActivationURL is the URL the letter's QR code carries: the app opens it and
// reads the code from the fragment, which browsers never send to a server.
func ActivationURL(portal, code string) string {
	return strings.TrimRight(portal, "/") + "/app/activate#" + code
}
