package appclient

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"filippo.io/edwards25519"
)

// torsionPoints are the canonical encodings of the 8 points of small order on
// edwards25519 (the points T with 8T = identity): the identity, the point of
// order 2, two of order 4 and four of order 8. TestTorsionPoints checks that
// the list is exactly that.
var torsionPoints = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity (y = 1)
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2 (y = -1)
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4 (y = 0)
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4 (y = 0, x negative)
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}

// encodeY returns the 32-byte little-endian encoding of y with the sign bit of
// x clear (y must be below 2^255).
func encodeY(y *big.Int) []byte {
	be := y.FillBytes(make([]byte, 32))
	le := make([]byte, 32)
	for i := range be {
		le[i] = be[31-i]
	}
	return le
}

var fieldPrime = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// nonCanonicalLargeOrder returns y+p encoded for the smallest y that is the
// y-coordinate of a point of large order: a second spelling of a point that
// would be a usable key if spelled canonically.
func nonCanonicalLargeOrder(t *testing.T) []byte {
	t.Helper()
	for y := int64(2); y < 19; y++ { // y+p < 2^255
		b := encodeY(new(big.Int).Add(big.NewInt(y), fieldPrime))
		p, err := new(edwards25519.Point).SetBytes(b)
		if err != nil {
			continue
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 0 {
			return b
		}
	}
	t.Fatal("no non-canonical encoding of a large-order point with y < 19")
	return nil
}

// notOnCurve returns the smallest y whose encoding is no point.
func notOnCurve(t *testing.T) []byte {
	t.Helper()
	for y := int64(2); y < 1000; y++ {
		b := encodeY(big.NewInt(y))
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			return b
		}
	}
	t.Fatal("no y below 1000 off the curve")
	return nil
}

func TestTorsionPoints(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range torsionPoints {
		p, err := new(edwards25519.Point).SetBytes(mustHex(h))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if !bytes.Equal(p.Bytes(), mustHex(h)) {
			t.Errorf("%s is not canonical", h)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Errorf("%s: 8P is not the identity", h)
		}
		seen[string(p.Bytes())] = true
	}
	if len(seen) != 8 {
		t.Errorf("%d distinct torsion points, want 8", len(seen))
	}
}

// badPINKeys are PIN public keys ParsePINPublicKey must refuse.
func badPINKeys(t *testing.T) map[string][]byte {
	t.Helper()
	bad := map[string][]byte{
		"nil":                      nil,
		"empty":                    {},
		"31 bytes":                 bytes.Repeat([]byte{0x42}, 31),
		"33 bytes":                 bytes.Repeat([]byte{0x42}, 33),
		"not on the curve":         notOnCurve(t),
		"non-canonical y+p":        nonCanonicalLargeOrder(t),
		"identity as y=p+1":        encodeY(new(big.Int).Add(big.NewInt(1), fieldPrime)),
		"identity with x negative": mustHex("0100000000000000000000000000000000000000000000000000000000000080"),
	}
	for i, h := range torsionPoints {
		bad[fmt.Sprintf("torsion point %d", i)] = mustHex(h)
	}
	return bad
}

func TestParsePINPublicKey(t *testing.T) {
	for name, b := range badPINKeys(t) {
		if k, err := ParsePINPublicKey(b); !errors.Is(err, ErrPINPublicKey) {
			t.Errorf("%s (%x): ParsePINPublicKey = %x, %v; want ErrPINPublicKey", name, b, k, err)
		}
	}
	good := [][]byte{mustHex(vectorPINKey)}
	for range 20 {
		pub, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, pub)
	}
	for _, b := range good {
		k, err := ParsePINPublicKey(b)
		if err != nil || !bytes.Equal(k, b) {
			t.Errorf("ParsePINPublicKey(%x) = %x, %v; want the key", b, k, err)
		}
	}
}

// vectorPINKey is the test vectors' PIN public key.
const vectorPINKey = "3a201c94357a2134ec85c52f16424ccb3270eccaed66f7ead6ee372e2fe3cdd3"

// TestSmallOrderPINKeyVerifiesNothing shows why the check exists: under the
// identity point one signature (R = identity, S = 0) verifies for every
// message with crypto/ed25519, but not with VerifyPINSignature.
func TestSmallOrderPINKeyVerifiesNothing(t *testing.T) {
	identity := mustHex(torsionPoints[0])
	sig := append(bytes.Clone(identity), make([]byte, 32)...)
	for _, msg := range [][]byte{[]byte("login"), []byte("approve"), SignedMessage(PurposeLogin, "ch_x", seq(1, 16), [32]byte{})} {
		if !ed25519.Verify(identity, msg, sig) {
			t.Fatalf("crypto/ed25519 refused the constant signature over %q; the premise of this test is gone", msg)
		}
		if VerifyPINSignature(identity, msg, sig) {
			t.Errorf("VerifyPINSignature accepted the constant signature under the identity point for %q", msg)
		}
	}
}

func FuzzParsePINPublicKey(f *testing.F) {
	for _, h := range torsionPoints {
		f.Add(mustHex(h))
	}
	f.Add(mustHex(vectorPINKey))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePINPublicKey(b)
		if err != nil {
			if !errors.Is(err, ErrPINPublicKey) {
				t.Fatalf("error %v does not wrap ErrPINPublicKey", err)
			}
			return
		}
		p, err := new(edwards25519.Point).SetBytes(k)
		if err != nil || !bytes.Equal(p.Bytes(), b) ||
			new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
			t.Fatalf("accepted %x, which is no canonical large-order point", b)
		}
	})
}
