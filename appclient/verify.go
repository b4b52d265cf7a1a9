package appclient

// This file holds the checks the server runs on a proof. The server imports
// them from here, so the phone's and the server's idea of a valid signature are
// one piece of code. Nothing here panics on any input.

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"math/big"
)

// Proof is the answer to a challenge: the device key's and the PIN key's
// signatures over the same signed message M. A decline carries only the device
// signature (PINSignature is nil).
type Proof struct {
	DeviceSignature []byte // ECDSA P-256 over SHA-256(M), IEEE P1363 r || s, 64 bytes
	PINSignature    []byte // Ed25519 over M, 64 bytes
}

// ErrDeviceSignature is returned by ParseDeviceSignature for a signature that
// cannot be valid whatever was signed.
var ErrDeviceSignature = errors.New("invalid device signature encoding")

// ParseDeviceSignature splits an IEEE P1363 signature into r and s. It accepts
// exactly 64 bytes whose halves, read as 32-byte big-endian integers, lie in
// 1 … N-1, N being the order of P-256.
func ParseDeviceSignature(sig []byte) (r, s *big.Int, err error) {
	if len(sig) != DeviceSignatureSize {
		return nil, nil, ErrDeviceSignature
	}
	n := elliptic.P256().Params().N
	r = new(big.Int).SetBytes(sig[:32])
	s = new(big.Int).SetBytes(sig[32:])
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return nil, nil, ErrDeviceSignature
	}
	return r, s, nil
}

// VerifyDeviceSignature reports whether sig is a valid IEEE P1363 ECDSA P-256
// signature with SHA-256 of msg under the wire-form public key devicePub.
func VerifyDeviceSignature(devicePub, msg, sig []byte) bool {
	pub, err := ParseDevicePublicKey(devicePub)
	if err != nil {
		return false
	}
	r, s, err := ParseDeviceSignature(sig)
	if err != nil {
		return false
	}
	h := sha256.Sum256(msg)
	return ecdsa.Verify(pub, h[:], r, s)
}

// VerifyPINSignature reports whether sig is a valid Ed25519 signature of msg
// under the 32-byte PIN public key pinPub. A key that ParsePINPublicKey
// refuses verifies nothing, so a small-order key recorded before that check
// existed cannot stand in for the PIN either.
func VerifyPINSignature(pinPub, msg, sig []byte) bool {
	if len(sig) != PINSignatureSize {
		return false
	}
	pub, err := ParsePINPublicKey(pinPub)
	if err != nil {
		return false
	}
	return ed25519.Verify(pub, msg, sig)
}

// VerifyProof checks both signatures of p over msg, the device signature first:
// pinOK is false whenever deviceOK is false, because the PIN signature is not
// looked at without a valid device signature.
//
// A server that limits PIN attempts must not use VerifyProof for a PIN check:
// it calls VerifyDeviceSignature, then reserves an attempt in one atomic
// update, then calls VerifyPINSignature, so that no PIN signature is ever
// checked without a reserved attempt.
func VerifyProof(devicePub, pinPub []byte, msg []byte, p Proof) (deviceOK, pinOK bool) {
	if !VerifyDeviceSignature(devicePub, msg, p.DeviceSignature) {
		return false, false
	}
	return true, VerifyPINSignature(pinPub, msg, p.PINSignature)
}
