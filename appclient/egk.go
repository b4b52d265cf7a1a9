package appclient

// This file is the eGK pairing of docs/app-protocol.md section 12: the
// statement the health card's authentication key (C.CH.AUT, brainpoolP256r1)
// signs to name the device it registers, its strict decoder, and the check
// of the card's signature. The server reuses ParsePairingStatement and
// VerifyCardSignature, as it reuses the device and PIN checks of verify.go.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
)

// PairingDomain is the first field of every pairing statement (version 1).
const PairingDomain = "pforte-egk-pairing-v1"

// Sizes of the pairing's byte strings.
const (
	CardPublicKeySize    = 65   // uncompressed brainpoolP256r1 point: 0x04 || X || Y
	CardSignatureSize    = 64   // IEEE P1363: r || s, 32 bytes each, big-endian
	MaxPairingStatement  = 256  // the longest statement the server decodes
	MaxCardCertificate   = 4096 // the longest card certificate (DER) the server reads
	pairingStatementBase = 5*4 + len(PairingDomain) + len(PurposeBindEGK) + ContentHashSize
)

// ErrPairingStatement is returned, wrapped, for a statement that is not one.
var ErrPairingStatement = errors.New("invalid pairing statement")

// PairingStatement is what the card signs: the challenge it answers and the
// content hash of the binding (ContentHash(PurposeBindEGK, "", BindContent(…))),
// which covers the device public key, the PIN public key, the KDF parameters,
// the device name and the model.
type PairingStatement struct {
	ChallengeID string
	Nonce       []byte
	ContentHash [ContentHashSize]byte
}

// Marshal returns the statement's bytes P:
//
//	field("pforte-egk-pairing-v1") || field("bind-egk") || field(challenge_id) ||
//	field(nonce) || field(H)
//
// The card signs SHA-256(P).
func (s PairingStatement) Marshal() []byte {
	p := make([]byte, 0, pairingStatementBase+len(s.ChallengeID)+len(s.Nonce))
	p = appendField(p, []byte(PairingDomain))
	p = appendField(p, []byte(PurposeBindEGK))
	p = appendField(p, []byte(s.ChallengeID))
	p = appendField(p, s.Nonce)
	return appendField(p, s.ContentHash[:])
}

// ParsePairingStatement decodes P strictly: at most MaxPairingStatement bytes,
// exactly five fields, the domain and purpose of version 1, a challenge id of
// 1–64 characters of [A-Za-z0-9_-], a nonce of 16–64 bytes, a 32-byte hash and
// nothing after it. Every refusal wraps ErrPairingStatement.
func ParsePairingStatement(p []byte) (PairingStatement, error) {
	if len(p) > MaxPairingStatement {
		return PairingStatement{}, fmt.Errorf("%w: %d bytes, at most %d", ErrPairingStatement, len(p), MaxPairingStatement)
	}
	var fields [5][]byte
	rest := p
	for i := range fields {
		if len(rest) < 4 {
			return PairingStatement{}, fmt.Errorf("%w: field %d is cut short", ErrPairingStatement, i+1)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return PairingStatement{}, fmt.Errorf("%w: field %d is longer than the statement", ErrPairingStatement, i+1)
		}
		fields[i], rest = rest[4:4+n], rest[4+n:]
	}
	if len(rest) != 0 {
		return PairingStatement{}, fmt.Errorf("%w: %d bytes after the last field", ErrPairingStatement, len(rest))
	}
	if string(fields[0]) != PairingDomain {
		return PairingStatement{}, fmt.Errorf("%w: domain is not %s", ErrPairingStatement, PairingDomain)
	}
	if string(fields[1]) != PurposeBindEGK {
		return PairingStatement{}, fmt.Errorf("%w: purpose is not %s", ErrPairingStatement, PurposeBindEGK)
	}
	if err := CheckChallengeID(string(fields[2])); err != nil {
		return PairingStatement{}, fmt.Errorf("%w: %v", ErrPairingStatement, err)
	}
	if len(fields[3]) < MinNonceSize || len(fields[3]) > MaxNonceSize {
		return PairingStatement{}, fmt.Errorf("%w: nonce is %d bytes, want %d–%d", ErrPairingStatement, len(fields[3]), MinNonceSize, MaxNonceSize)
	}
	if len(fields[4]) != ContentHashSize {
		return PairingStatement{}, fmt.Errorf("%w: content hash is %d bytes, want %d", ErrPairingStatement, len(fields[4]), ContentHashSize)
	}
	return PairingStatement{ChallengeID: string(fields[2]), Nonce: bytes.Clone(fields[3]),
		ContentHash: [ContentHashSize]byte(fields[4])}, nil
}

// PairingContentHash is the content hash a pairing covers:
// ContentHash(PurposeBindEGK, "", BindContent(devicePub, pinPub, kdfJSON, name, model)).
// The device key and the new PIN key sign SignedMessage(PurposeBindEGK, …, H);
// the card signs the statement with the same H.
func PairingContentHash(devicePub, pinPub, kdfJSON []byte, name, model string) [ContentHashSize]byte {
	return ContentHash(PurposeBindEGK, "", BindContent(devicePub, pinPub, kdfJSON, name, model))
}

// ErrCardPublicKey is returned, wrapped, for a card public key that is not a
// brainpoolP256r1 point.
var ErrCardPublicKey = errors.New("invalid card public key")

// VerifyCardSignature reports whether sig (IEEE P1363, 64 bytes) is the card
// key cardPub's ECDSA signature of SHA-256(statement) on brainpoolP256r1.
// Nothing here panics on any input. The brainpool arithmetic is not constant
// time, which a check with public keys does not need.
func VerifyCardSignature(cardPub, statement, sig []byte) bool {
	pub, err := ParseCardPublicKey(cardPub)
	if err != nil || len(sig) != CardSignatureSize {
		return false
	}
	n := pub.Curve.Params().N
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return false
	}
	h := sha256.Sum256(statement)
	return ecdsa.Verify(pub, h[:], r, s)
}
