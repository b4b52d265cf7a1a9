package appclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"filippo.io/edwards25519"
)

// Sizes of the protocol's byte strings.
const (
	DevicePublicKeySize = 65 // uncompressed SEC 1 point: 0x04 || X || Y
	DeviceSignatureSize = 64 // IEEE P1363: r || s, 32 bytes each, big-endian
	PINPublicKeySize    = 32 // Ed25519 public key
	PINSignatureSize    = 64 // Ed25519 signature
	PINSeedSize         = 32 // Ed25519 seed, the Argon2id output
	SecretSize          = 32 // device secret s
	ContentHashSize     = 32 // SHA-256
	MinNonceSize        = 16 // a challenge nonce has at least 128 bits
	MaxNonceSize        = 64
	MaxChallengeIDLen   = 64
)

// ErrDevicePublicKey is returned, wrapped, for a device public key that is not a
// valid uncompressed P-256 point.
var ErrDevicePublicKey = errors.New("invalid device public key")

// ErrPINPublicKey is returned, wrapped, for a PIN public key that is not the
// canonical encoding of an Ed25519 point of large order.
var ErrPINPublicKey = errors.New("invalid pin public key")

// B64 encodes b as base64url without padding (RFC 4648 section 5), the
// protocol's only text encoding of bytes.
func B64(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// UnB64 decodes base64url without padding. It is strict: padding, characters of
// the standard alphabet, whitespace and non-zero trailing bits are errors, so
// every byte string has exactly one encoding.
func UnB64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") { // the decoder skips them even when strict
		return nil, errors.New("decode base64url: line break")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode base64url: %w", err)
	}
	return b, nil
}

// appendField appends field(x) = 4-byte big-endian length of x || x.
func appendField(dst, x []byte) []byte {
	if uint64(len(x)) > math.MaxUint32 {
		// Unreachable for protocol inputs, which are kilobytes at most.
		panic("appclient: field longer than 4 GiB")
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
	return append(dst, x...)
}

// EncodeDevicePublicKey returns the wire form of a P-256 public key: the 65-byte
// uncompressed SEC 1 point 0x04 || X || Y. It returns nil for a key that is not
// a valid P-256 point.
func EncodeDevicePublicKey(pub *ecdsa.PublicKey) []byte {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil
	}
	b, err := pub.Bytes()
	if err != nil || len(b) != DevicePublicKeySize {
		return nil
	}
	return b
}

// ParseDevicePublicKey parses the wire form of a device public key. It accepts
// exactly 65 bytes starting with 0x04 that name a point on P-256; compressed
// points, the point at infinity and points off the curve are refused with an
// error wrapping ErrDevicePublicKey.
func ParseDevicePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != DevicePublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrDevicePublicKey, len(b), DevicePublicKeySize)
	}
	if b[0] != 0x04 {
		return nil, fmt.Errorf("%w: not an uncompressed point", ErrDevicePublicKey)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDevicePublicKey, err)
	}
	return pub, nil
}

// ParsePINPublicKey parses the wire form of a PIN public key. It accepts exactly
// 32 bytes that are the canonical encoding (RFC 8032 section 5.1.2, y below the
// field prime, no sign bit on x = 0) of a point on edwards25519 whose order is
// not small. Everything else is refused with an error wrapping ErrPINPublicKey.
//
// crypto/ed25519.Verify accepts any point. Under a small-order key (one of the
// 8 torsion points, the identity among them) one fixed signature verifies for
// every message, so a PIN key that is such a point would prove nothing: the PIN
// would never be needed and the attempt limit would never count. A
// non-canonical encoding is a second spelling of a point, which the protocol
// does not allow for any byte string.
func ParsePINPublicKey(b []byte) (ed25519.PublicKey, error) {
	if len(b) != PINPublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrPINPublicKey, len(b), PINPublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not a point on edwards25519", ErrPINPublicKey)
	}
	if !bytes.Equal(p.Bytes(), b) {
		return nil, fmt.Errorf("%w: not the canonical encoding", ErrPINPublicKey)
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, fmt.Errorf("%w: a point of small order", ErrPINPublicKey)
	}
	return ed25519.PublicKey(bytes.Clone(b)), nil
}
