// Package seal owns encryption at rest: it turns sensitive field values (an IBAN,
// later other data) into store.Sealed values and back, and it owns the keyring
// that makes key rotation possible. It also computes keyed fingerprints, so that
// a caller can tell whether a value changed without storing the plaintext.
//
// It does not own where keys come from (cmd/pforte reads them from the
// configuration and hands them over), which fields are sealed (the domain
// packages decide), when stored values are re-sealed under a new key (the owner
// of the rows does that when NeedsRotation reports true), or password hashing.
//
// # Format
//
// Values are sealed with AES-256-GCM under the keyring's current key. The key's
// id is stored in store.Sealed.KeyID and Ciphertext is, in version 1,
//
//	0x01 (version) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// Every value authenticates the additional data
//
//	"pforte-seal-v1" || version || len(key id) (1 byte) || key id || context
//
// where context is what the caller passed to SealFor. A value therefore cannot
// be relabelled with another key id, nor moved to another row: every caller
// binds a value to its place, and OpenFor with another place fails.
//
// # Place
//
// A stored field's place is its table, column and row, as Place encodes it:
// "persons.iban:<KVNR>" for a person's bank account (the KVNR is the person's
// unchangeable natural key, known before the row exists at import),
// "outbox.payload:<event id>" for an outbox payload. There is no way to seal
// without a context: a ciphertext copied into another row does not open there.
//
// # Rotation
//
// A Keyring has one current key, which seals, and any number of older keys,
// which only open. To rotate, put the new key first in the configuration and keep
// the old one after it until NeedsRotation reports false for every stored value.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/store"
)

// version is the first byte of every ciphertext this package writes.
const version byte = 1

const (
	nonceSize = 12
	tagSize   = 16
	// aadTag separates this package's additional data from any other use of
	// the same keys.
	aadTag = "pforte-seal-v1"
	// fingerprintInfo is the HKDF info that derives the fingerprint key.
	fingerprintInfo = "pforte fingerprint v1"
)

// ErrUnknownKey reports that a value was sealed under a key id the keyring does
// not hold.
var ErrUnknownKey = errors.New("seal: unknown key id")

// ErrNoContext reports a SealFor or OpenFor call without a context: every
// sealed value must be bound to its place.
var ErrNoContext = errors.New("seal: no context: bind the value to its place")

// ErrDecrypt reports that a value could not be opened: it is malformed, was
// modified, belongs to another context, or was sealed under a different key with
// the same id.
var ErrDecrypt = errors.New("seal: cannot decrypt")

// Keyring seals values under its current key and opens values sealed under any
// of its keys. It is safe for concurrent use.
type Keyring struct {
	current keyAEAD
	byID    map[string]keyAEAD
	// secrets holds every key's secret, in keyring order (current first),
	// for MACKeys.
	secrets []Key
	// macKey is derived from the current key and keys Fingerprint.
	macKey []byte
}

type keyAEAD struct {
	id   string
	aead cipher.AEAD
}

// NewKeyring returns a keyring that seals under current and opens values sealed
// under current or any of older. Key ids must be distinct.
func NewKeyring(current Key, older ...Key) (*Keyring, error) {
	kr := &Keyring{byID: make(map[string]keyAEAD, 1+len(older))}
	for i, k := range append([]Key{current}, older...) {
		if k.id == "" {
			return nil, fmt.Errorf("seal: keyring: key %d is the zero Key", i+1)
		}
		if _, dup := kr.byID[k.id]; dup {
			return nil, fmt.Errorf("seal: keyring: duplicate key id %s", k.id)
		}
		block, err := aes.NewCipher(k.secret[:])
		if err != nil {
			return nil, fmt.Errorf("seal: keyring: key %s: %w", k.id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: keyring: key %s: %w", k.id, err)
		}
		kr.byID[k.id] = keyAEAD{id: k.id, aead: aead}
		kr.secrets = append(kr.secrets, k)
	}
	kr.current = kr.byID[current.id]
	mac, err := hkdf.Key(sha256.New, current.secret[:], nil, fingerprintInfo, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("seal: keyring: derive fingerprint key: %w", err)
	}
	kr.macKey = mac
	return kr, nil
}

// Place returns the context that binds a sealed field to its place: table,
// column and row as "table.column:row". Pass it to SealFor and OpenFor.
func Place(table, column, row string) []byte {
	return []byte(table + "." + column + ":" + row)
}

// SealFor encrypts plaintext under the current key and binds it to aad, the
// value's place (see Place) or another caller-chosen context such as the
// owning row's id: OpenFor opens the result only with the same aad. aad is
// authenticated, not encrypted or stored. An empty aad is refused
// (ErrNoContext): every value is bound to where it is kept.
func (kr *Keyring) SealFor(plaintext, aad []byte) (store.Sealed, error) {
	if len(aad) == 0 {
		return store.Sealed{}, ErrNoContext
	}
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // never fails; the runtime aborts if randomness is unavailable
	out := make([]byte, 0, 1+nonceSize+len(plaintext)+tagSize)
	out = append(out, version)
	out = append(out, nonce[:]...)
	out = kr.current.aead.Seal(out, nonce[:], plaintext, additionalData(kr.current.id, aad))
	return store.Sealed{KeyID: kr.current.id, Ciphertext: out}, nil
}

// OpenFor decrypts a value sealed by SealFor with the same aad, under whichever
// key of the keyring s.KeyID names. It returns an error wrapping ErrUnknownKey
// if the keyring does not hold that key, one wrapping ErrDecrypt if the value
// is malformed, was modified or was sealed for another aad, and ErrNoContext
// for an empty aad.
func (kr *Keyring) OpenFor(s store.Sealed, aad []byte) ([]byte, error) {
	if len(aad) == 0 {
		return nil, ErrNoContext
	}
	return kr.open(s, aad)
}

// Rebind brings a value sealed before values were bound to their place up to
// date. If s opens for place, Rebind returns s unchanged and false. If it
// opens only without a context (as IBANs and outbox payloads were sealed
// before), it returns the plaintext sealed anew for place and true. If it
// opens with neither, it returns an error wrapping ErrDecrypt or
// ErrUnknownKey: the value was modified, moved, or sealed under a key the
// keyring lacks. Calling Rebind on its own result changes nothing.
func (kr *Keyring) Rebind(s store.Sealed, place []byte) (store.Sealed, bool, error) {
	if len(place) == 0 {
		return store.Sealed{}, false, ErrNoContext
	}
	if _, err := kr.open(s, place); err == nil {
		return s, false, nil
	} else if !errors.Is(err, ErrDecrypt) {
		return store.Sealed{}, false, err
	}
	plain, err := kr.open(s, nil)
	if err != nil {
		return store.Sealed{}, false, fmt.Errorf("%w: opens neither for its place nor unbound", ErrDecrypt)
	}
	out, err := kr.SealFor(plain, place)
	clear(plain)
	if err != nil {
		return store.Sealed{}, false, err
	}
	return out, true, nil
}

// open decrypts s with the additional data for aad, which may be empty only
// for Rebind's look at values sealed before places were bound.
func (kr *Keyring) open(s store.Sealed, aad []byte) ([]byte, error) {
	k, ok := kr.byID[s.KeyID]
	if !ok {
		if validID(s.KeyID) {
			return nil, fmt.Errorf("%w %s", ErrUnknownKey, s.KeyID)
		}
		return nil, fmt.Errorf("%w: malformed id", ErrUnknownKey)
	}
	c := s.Ciphertext
	if len(c) < 1+nonceSize+tagSize {
		return nil, fmt.Errorf("%w: too short", ErrDecrypt)
	}
	if c[0] != version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrDecrypt, c[0])
	}
	plaintext, err := k.aead.Open(nil, c[1:1+nonceSize], c[1+nonceSize:], additionalData(k.id, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrDecrypt)
	}
	return plaintext, nil
}

// NeedsRotation reports whether s was sealed under a key other than the current
// one and should be re-sealed. It is false for the zero Sealed.
func (kr *Keyring) NeedsRotation(s store.Sealed) bool {
	return !s.IsZero() && s.KeyID != kr.current.id
}

// Fingerprint returns HMAC-SHA256 of data under a key derived with HKDF-SHA256
// from the current key (info "pforte fingerprint v1"). Equal data gives equal
// fingerprints under the same current key, and without the key a fingerprint
// reveals nothing about the data, not even to someone guessing small inputs.
//
// Fingerprints change when the current key changes: after a rotation every
// stored fingerprint differs once, so their owner sees every row as changed and
// rewrites it, which also re-seals it under the new key.
func (kr *Keyring) Fingerprint(data []byte) []byte {
	m := hmac.New(sha256.New, kr.macKey)
	m.Write(data)
	return m.Sum(nil)
}

// additionalData builds the authenticated additional data described in the
// package comment. The key id is at most 32 bytes, so one length byte suffices,
// and the caller's context comes last, so the encoding is unambiguous.
func additionalData(keyID string, aad []byte) []byte {
	b := make([]byte, 0, len(aadTag)+2+len(keyID)+len(aad))
	b = append(b, aadTag...)
	b = append(b, version, byte(len(keyID)))
	b = append(b, keyID...)
	return append(b, aad...)
}
