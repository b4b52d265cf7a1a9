//lint:file-ignore SA1019 brainpoolP256r1 exists only as an elliptic.Curve, so its keys use the big.Int API crypto/ecdsa deprecated for the NIST curves it implements itself.

package appclient

// This file holds every use of crypto/ecdsa's big.Int API for the health
// card's brainpoolP256r1 keys, which crypto/ecdsa's byte-oriented API
// (Bytes, ParseRawPrivateKey) does not accept.

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ProtonMail/go-crypto/brainpool"
)

// ParseCardPublicKey parses the uncompressed brainpoolP256r1 point of a card's
// authentication key (65 bytes, 0x04 || X || Y, on the curve).
func ParseCardPublicKey(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != CardPublicKeySize || b[0] != 0x04 {
		return nil, fmt.Errorf("%w: want the 65-byte uncompressed point", ErrCardPublicKey)
	}
	c := brainpool.P256r1()
	x, y := new(big.Int).SetBytes(b[1:33]), new(big.Int).SetBytes(b[33:])
	p := c.Params().P
	if x.Cmp(p) >= 0 || y.Cmp(p) >= 0 || !c.IsOnCurve(x, y) {
		return nil, fmt.Errorf("%w: not a point on brainpoolP256r1", ErrCardPublicKey)
	}
	return &ecdsa.PublicKey{Curve: c, X: x, Y: y}, nil
}

// CardPoint returns the uncompressed point (65 bytes) of a brainpoolP256r1
// public key.
func CardPoint(pub *ecdsa.PublicKey) []byte {
	b := make([]byte, CardPublicKeySize)
	b[0] = 4
	pub.X.FillBytes(b[1:33])
	pub.Y.FillBytes(b[33:])
	return b
}

// NewCardKey returns the brainpoolP256r1 private key of the 32-byte
// big-endian scalar, which must lie in 1 … N-1.
func NewCardKey(scalar []byte) (*ecdsa.PrivateKey, error) {
	c := brainpool.P256r1()
	d := new(big.Int).SetBytes(scalar)
	if len(scalar) != 32 || d.Sign() == 0 || d.Cmp(c.Params().N) >= 0 {
		return nil, fmt.Errorf("%w: not a brainpoolP256r1 scalar", ErrCardPublicKey)
	}
	k := &ecdsa.PrivateKey{D: d, PublicKey: ecdsa.PublicKey{Curve: c}}
	k.X, k.Y = c.ScalarBaseMult(scalar)
	return k, nil
}

// CardScalar returns the 32-byte scalar of a brainpoolP256r1 private key.
func CardScalar(k *ecdsa.PrivateKey) []byte { return k.D.FillBytes(make([]byte, 32)) }
