package appclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"math/big"
	"testing"
)

// signedProof returns a device public key, a PIN public key, a message and a
// valid proof over it.
func signedProof(t *testing.T) (devPub, pinPub, msg []byte, p Proof) {
	t.Helper()
	d, k := testDevice()
	ch := testChallenge(PurposeApprove)
	h := ContentHash("address.change", "Neue Anschrift", []byte(`{"a":1}`))
	p, err := d.sign(k, ch, h)
	if err != nil {
		t.Fatal(err)
	}
	return d.PublicKey(), k.Public().(ed25519.PublicKey), SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h), p
}

func TestVerifyProofTamper(t *testing.T) {
	devPub, pinPub, msg, p := signedProof(t)
	if dev, pin := VerifyProof(devPub, pinPub, msg, p); !dev || !pin {
		t.Fatalf("VerifyProof(valid) = %v, %v; want true, true", dev, pin)
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	for i := range msg {
		if dev, pin := VerifyProof(devPub, pinPub, flip(msg, i), p); dev || pin {
			t.Errorf("message byte %d changed: VerifyProof = %v, %v; want false, false", i, dev, pin)
		}
		if VerifyPINSignature(pinPub, flip(msg, i), p.PINSignature) {
			t.Errorf("message byte %d changed: PIN signature still verifies", i)
		}
	}
	for i := range devPub {
		if dev, _ := VerifyProof(flip(devPub, i), pinPub, msg, p); dev {
			t.Errorf("device key byte %d changed: device signature still verifies", i)
		}
	}
	for i := range pinPub {
		if dev, pin := VerifyProof(devPub, flip(pinPub, i), msg, p); !dev || pin {
			t.Errorf("PIN key byte %d changed: VerifyProof = %v, %v; want true, false", i, dev, pin)
		}
	}
	for i := range p.DeviceSignature {
		q := Proof{DeviceSignature: flip(p.DeviceSignature, i), PINSignature: p.PINSignature}
		if dev, pin := VerifyProof(devPub, pinPub, msg, q); dev || pin {
			t.Errorf("device signature byte %d changed: VerifyProof = %v, %v; want false, false", i, dev, pin)
		}
	}
	for i := range p.PINSignature {
		q := Proof{DeviceSignature: p.DeviceSignature, PINSignature: flip(p.PINSignature, i)}
		if dev, pin := VerifyProof(devPub, pinPub, msg, q); !dev || pin {
			t.Errorf("PIN signature byte %d changed: VerifyProof = %v, %v; want true, false", i, dev, pin)
		}
	}
	// Swapped or missing parts.
	for name, q := range map[string]Proof{
		"no PIN signature":    {DeviceSignature: p.DeviceSignature},
		"no device signature": {PINSignature: p.PINSignature},
		"swapped":             {DeviceSignature: p.PINSignature, PINSignature: p.DeviceSignature},
		"empty":               {},
	} {
		dev, pin := VerifyProof(devPub, pinPub, msg, q)
		wantDev := name == "no PIN signature"
		if dev != wantDev || pin {
			t.Errorf("%s: VerifyProof = %v, %v; want %v, false", name, dev, pin, wantDev)
		}
	}
}

func TestWrongPIN(t *testing.T) {
	d, k := testDevice()
	ch := testChallenge(PurposeLogin)
	h := ContentHash(PurposeLogin, "", nil)
	p, err := d.Sign("271829", ch, h) // testPIN is 271828
	if err != nil {
		t.Fatal(err)
	}
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h)
	dev, pin := VerifyProof(d.PublicKey(), k.Public().(ed25519.PublicKey), msg, p)
	if !dev || pin {
		t.Errorf("wrong PIN: VerifyProof = %v, %v; want true, false", dev, pin)
	}
	// The server's two steps give the same answer.
	if !VerifyDeviceSignature(d.PublicKey(), msg, p.DeviceSignature) {
		t.Error("wrong PIN: device signature fails")
	}
	if VerifyPINSignature(k.Public().(ed25519.PublicKey), msg, p.PINSignature) {
		t.Error("wrong PIN: PIN signature verifies")
	}
}

func TestParseDeviceSignature(t *testing.T) {
	n := elliptic.P256().Params().N
	enc := func(r, s *big.Int) []byte {
		b := make([]byte, 64)
		r.FillBytes(b[:32])
		s.FillBytes(b[32:])
		return b
	}
	one := big.NewInt(1)
	nMinus1 := new(big.Int).Sub(n, one)
	for _, tc := range []struct {
		name string
		sig  []byte
		ok   bool
	}{
		{"r=1 s=1", enc(one, one), true},
		{"r=N-1 s=N-1", enc(nMinus1, nMinus1), true},
		{"r=0", enc(new(big.Int), one), false},
		{"s=0", enc(one, new(big.Int)), false},
		{"r=N", enc(n, one), false},
		{"s=N", enc(one, n), false},
		{"r=2^256-1", append(bytes.Repeat([]byte{0xff}, 32), enc(one, one)[32:]...), false},
		{"63 bytes", enc(one, one)[:63], false},
		{"65 bytes", append(enc(one, one), 0), false},
		{"empty", nil, false},
		{"DER", mustHex("3006020101020101"), false},
	} {
		r, s, err := ParseDeviceSignature(tc.sig)
		if (err == nil) != tc.ok {
			t.Errorf("%s: ParseDeviceSignature error = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err == nil && (r.Sign() <= 0 || s.Sign() <= 0) {
			t.Errorf("%s: r=%v s=%v", tc.name, r, s)
		}
	}
}

// TestP1363IsDERReordered checks the conversion docs/app-protocol.md tells
// platform developers to do: a P1363 signature re-encoded as DER verifies with
// the standard ASN.1 verifier, and a DER signature converted to P1363 verifies
// with VerifyDeviceSignature, including r and s with high bits set (DER adds a
// 0x00) and short ones (P1363 pads on the left).
func TestP1363IsDERReordered(t *testing.T) {
	d, _ := testDevice()
	for i := range 20 {
		msg := []byte{byte(i)}
		p, err := d.SignDevice(testChallenge(PurposeDecline), ContentHash(PurposeDecline, "", msg))
		if err != nil {
			t.Fatal(err)
		}
		m := SignedMessage(PurposeDecline, "ch_decline", bytes.Repeat([]byte{0x5a}, 16), ContentHash(PurposeDecline, "", msg))
		h := sha256.Sum256(m)
		if !ecdsa.VerifyASN1(&d.key.PublicKey, h[:], p1363ToDER(p.DeviceSignature)) {
			t.Fatalf("P1363 signature %x re-encoded as DER does not verify", p.DeviceSignature)
		}
		der, err := ecdsa.SignASN1(nil, d.key, h[:])
		if err != nil {
			t.Fatal(err)
		}
		if !VerifyDeviceSignature(d.PublicKey(), m, derToP1363(t, der)) {
			t.Fatalf("DER signature %x converted to P1363 does not verify", der)
		}
	}
}

// p1363ToDER and derToP1363 are the conversions of docs/app-protocol.md,
// written out by hand as a phone developer would (no ASN.1 library).
func p1363ToDER(sig []byte) []byte {
	integer := func(b []byte) []byte {
		b = bytes.TrimLeft(b, "\x00")
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(integer(sig[:32]), integer(sig[32:])...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func derToP1363(t *testing.T, der []byte) []byte {
	t.Helper()
	if len(der) < 8 || der[0] != 0x30 || int(der[1]) != len(der)-2 {
		t.Fatalf("unexpected DER %x", der)
	}
	out := make([]byte, 64)
	rest := der[2:]
	for i := range 2 {
		if rest[0] != 0x02 {
			t.Fatalf("unexpected DER %x", der)
		}
		n := int(rest[1])
		v := bytes.TrimLeft(rest[2:2+n], "\x00")
		copy(out[32*(i+1)-len(v):32*(i+1)], v)
		rest = rest[2+n:]
	}
	return out
}

func FuzzVerifyProof(f *testing.F) {
	d, k := testDevice()
	ch := testChallenge(PurposeLogin)
	h := ContentHash(PurposeLogin, "", nil)
	p, err := d.sign(k, ch, h)
	if err != nil {
		f.Fatal(err)
	}
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h)
	pinPub := []byte(k.Public().(ed25519.PublicKey))
	f.Add(d.PublicKey(), pinPub, msg, p.DeviceSignature, p.PINSignature)
	f.Add([]byte{}, []byte{}, []byte{}, []byte{}, []byte{})
	f.Add(make([]byte, 65), make([]byte, 32), msg, make([]byte, 64), make([]byte, 64))
	f.Add(d.PublicKey(), pinPub, msg, bytes.Repeat([]byte{0xff}, 64), p.PINSignature)
	f.Fuzz(func(t *testing.T, devPub, pinPub, msg, devSig, pinSig []byte) {
		dev, pin := VerifyProof(devPub, pinPub, msg, Proof{DeviceSignature: devSig, PINSignature: pinSig})
		if pin && !dev {
			t.Error("PIN signature reported valid without a valid device signature")
		}
		if dev && !VerifyDeviceSignature(devPub, msg, devSig) {
			t.Error("VerifyProof and VerifyDeviceSignature disagree")
		}
	})
}
