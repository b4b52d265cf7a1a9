package appclient

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"unicode"
	"unicode/utf8"
)

// Authentication methods the app reports with a proof, for information only:
// the server sees the same proof whichever was used.
const (
	AMRPIN         = "pin"  // the Freigabe-PIN was typed
	AMRFingerprint = "fpt"  // a fingerprint unlocked the stored PIN seed
	AMRFace        = "face" // face recognition unlocked the stored PIN seed
)

// Limits of the device's name and model as the binding carries them.
const (
	MaxDeviceNameLen  = 64 // characters
	MaxDeviceModelLen = 64 // characters
)

// Device is the app's state: the device key, the device secret, the KDF
// parameters of the current PIN key, and, once bound, the device id the server
// gave it. The PIN is never part of it, and neither is anything that would let
// the PIN be tested offline (the PIN public key, the PIN seed).
//
// A real app keeps the device key non-exportable in the Secure Enclave, the
// Android Keystore or as a non-extractable WebCrypto key, and the secret in the
// platform's protected storage. This Go client cannot, and writes both into a
// state file with mode 0600 instead (MarshalState, WriteStateFile).
type Device struct {
	ID     string    // device id from the server; empty until bound
	Server string    // base URL of the Pforte server
	KDF    KDFParams // parameters of the current PIN key

	key    *ecdsa.PrivateKey
	secret [SecretSize]byte
}

// NewDevice creates an unbound device with a fresh P-256 device key, a 32-byte
// secret read from random (crypto/rand when nil) and DefaultKDF. Since Go 1.26
// the key itself always comes from the system's secure source.
func NewDevice(random io.Reader) (*Device, error) {
	if random == nil {
		random = rand.Reader
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), random)
	if err != nil {
		return nil, fmt.Errorf("new device: generate key: %w", err)
	}
	d := &Device{KDF: DefaultKDF(), key: key}
	if _, err := io.ReadFull(random, d.secret[:]); err != nil {
		return nil, fmt.Errorf("new device: read secret: %w", err)
	}
	return d, nil
}

// newDevice builds a device from a raw 32-byte private scalar and a secret.
func newDevice(scalar, secret []byte, kdf KDFParams) (*Device, error) {
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("device secret is %d bytes, want %d", len(secret), SecretSize)
	}
	if err := kdf.Validate(); err != nil {
		return nil, err
	}
	d := &Device{KDF: kdf, key: key}
	copy(d.secret[:], secret)
	return d, nil
}

// PublicKey returns the device public key in its wire form (65 bytes).
func (d *Device) PublicKey() []byte { return EncodeDevicePublicKey(&d.key.PublicKey) }

// PINKey derives the current PIN key from pin with the device's secret and KDF
// parameters. A wrong PIN gives a different key; only the server can tell.
func (d *Device) PINKey(pin string) (ed25519.PrivateKey, error) {
	return DerivePINKey(pin, d.secret[:], d.KDF)
}

// ErrDeclineWithPIN is returned by Sign and SignWithSeed for a decline
// challenge: a decline is signed by the device key alone (SignDevice).
var ErrDeclineWithPIN = errors.New("sign: a decline is signed by the device key alone")

// Sign answers ch with both keys over SignedMessage(ch, contentHash): the
// device key, and the PIN key derived from pin. contentHash is what the
// challenge's purpose approves (see ContentHash).
func (d *Device) Sign(pin string, ch Challenge, contentHash [ContentHashSize]byte) (Proof, error) {
	if err := ch.Validate(); err != nil {
		return Proof{}, fmt.Errorf("sign: %w", err)
	}
	if ch.Purpose == PurposeDecline {
		return Proof{}, ErrDeclineWithPIN
	}
	pinKey, err := d.PINKey(pin)
	if err != nil {
		return Proof{}, fmt.Errorf("sign: %w", err)
	}
	return d.sign(pinKey, ch, contentHash)
}

// SignWithSeed is Sign for the biometric path: seed is the copy of the PIN
// key's 32-byte seed that a fingerprint or face unlocked.
func (d *Device) SignWithSeed(seed []byte, ch Challenge, contentHash [ContentHashSize]byte) (Proof, error) {
	if len(seed) != PINSeedSize {
		return Proof{}, fmt.Errorf("sign: seed is %d bytes, want %d", len(seed), PINSeedSize)
	}
	if err := ch.Validate(); err != nil {
		return Proof{}, fmt.Errorf("sign: %w", err)
	}
	if ch.Purpose == PurposeDecline {
		return Proof{}, ErrDeclineWithPIN
	}
	return d.sign(ed25519.NewKeyFromSeed(seed), ch, contentHash)
}

// SignDevice answers ch with the device key alone, as a decline does.
func (d *Device) SignDevice(ch Challenge, contentHash [ContentHashSize]byte) (Proof, error) {
	if err := ch.Validate(); err != nil {
		return Proof{}, fmt.Errorf("sign: %w", err)
	}
	sig, err := d.signDevice(SignedMessage(ch.Purpose, ch.ID, ch.Nonce, contentHash))
	if err != nil {
		return Proof{}, err
	}
	return Proof{DeviceSignature: sig}, nil
}

func (d *Device) sign(pinKey ed25519.PrivateKey, ch Challenge, contentHash [ContentHashSize]byte) (Proof, error) {
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, contentHash)
	sig, err := d.signDevice(msg)
	if err != nil {
		return Proof{}, err
	}
	return Proof{DeviceSignature: sig, PINSignature: ed25519.Sign(pinKey, msg)}, nil
}

// signDevice signs SHA-256(msg) with the device key, encoded as IEEE P1363.
func (d *Device) signDevice(msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, d.key, h[:])
	if err != nil {
		return nil, fmt.Errorf("sign: device key: %w", err)
	}
	sig := make([]byte, DeviceSignatureSize)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// Binding is what the app sends to bind the device, besides its identity proof
// (activation code and password, or eID).
type Binding struct {
	DevicePublicKey []byte // 65 bytes
	PINPublicKey    []byte // 32 bytes
	KDF             []byte // canonical KDF JSON, byte for byte as signed
	Name            string
	Model           string
	Proof           Proof // over a "bind" challenge; both keys
}

// SignBind answers a bind challenge: it checks that pin may be chosen
// (CheckNewPIN), derives the PIN key with the device's KDF parameters, and
// signs a content that covers both public keys, the KDF parameters, name and
// model.
func (d *Device) SignBind(pin, name, model string, ch Challenge) (Binding, error) {
	if ch.Purpose != PurposeBind {
		return Binding{}, fmt.Errorf("sign bind: %w: purpose %q", ErrChallenge, ch.Purpose)
	}
	return d.signBind(pin, name, model, ch)
}

// signBind signs the bind content of ch's purpose (bind or bind-egk) with
// the device key and the new PIN key of pin.
func (d *Device) signBind(pin, name, model string, ch Challenge) (Binding, error) {
	if err := CheckNewPIN(pin); err != nil {
		return Binding{}, fmt.Errorf("sign bind: %w", err)
	}
	if err := checkLabel("name", name, 1, MaxDeviceNameLen); err != nil {
		return Binding{}, fmt.Errorf("sign bind: %w", err)
	}
	if err := checkLabel("model", model, 0, MaxDeviceModelLen); err != nil {
		return Binding{}, fmt.Errorf("sign bind: %w", err)
	}
	kdf, err := d.KDF.MarshalJSON()
	if err != nil {
		return Binding{}, fmt.Errorf("sign bind: %w", err)
	}
	pinKey, err := d.PINKey(pin)
	if err != nil {
		return Binding{}, fmt.Errorf("sign bind: %w", err)
	}
	b := Binding{
		DevicePublicKey: d.PublicKey(),
		PINPublicKey:    pinKey.Public().(ed25519.PublicKey),
		KDF:             kdf,
		Name:            name,
		Model:           model,
	}
	h := ContentHash(ch.Purpose, "", BindContent(b.DevicePublicKey, b.PINPublicKey, b.KDF, name, model))
	if b.Proof, err = d.sign(pinKey, ch, h); err != nil {
		return Binding{}, err
	}
	return b, nil
}

// PINChange is what the app sends to change the PIN.
type PINChange struct {
	PINPublicKey []byte    // the new PIN public key, 32 bytes
	KDF          []byte    // canonical JSON of the new KDF parameters, as signed
	NewKDF       KDFParams // the same parameters, to store once the server agrees
	Proof        Proof     // over a "pin-change" challenge; device key and OLD PIN key
}

// SignPINChange answers a pin-change challenge: the device key and the key of
// oldPIN sign a content that covers the new PIN public key (from newPIN, the
// same device secret and newKDF) and newKDF. Once the server accepts the change
// the caller sets d.KDF = NewKDF and saves the state.
func (d *Device) SignPINChange(oldPIN, newPIN string, newKDF KDFParams, ch Challenge) (PINChange, error) {
	if ch.Purpose != PurposePINChange {
		return PINChange{}, fmt.Errorf("sign pin change: %w: purpose %q", ErrChallenge, ch.Purpose)
	}
	if err := CheckNewPIN(newPIN); err != nil {
		return PINChange{}, fmt.Errorf("sign pin change: new %w", err)
	}
	kdf, err := newKDF.MarshalJSON()
	if err != nil {
		return PINChange{}, fmt.Errorf("sign pin change: %w", err)
	}
	oldKey, err := d.PINKey(oldPIN)
	if err != nil {
		return PINChange{}, fmt.Errorf("sign pin change: old %w", err)
	}
	newKey, err := DerivePINKey(newPIN, d.secret[:], newKDF)
	if err != nil {
		return PINChange{}, fmt.Errorf("sign pin change: %w", err)
	}
	c := PINChange{PINPublicKey: newKey.Public().(ed25519.PublicKey), KDF: kdf, NewKDF: newKDF}
	h := ContentHash(PurposePINChange, "", PINChangeContent(c.PINPublicKey, c.KDF))
	if c.Proof, err = d.sign(oldKey, ch, h); err != nil {
		return PINChange{}, err
	}
	return c, nil
}

// checkLabel checks a device name or model: valid UTF-8, min–max characters,
// no control characters.
func checkLabel(what, s string, minLen, maxLen int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("device %s is not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		return fmt.Errorf("device %s has %d characters, want %d–%d", what, n, minLen, maxLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("device %s contains a control character", what)
		}
	}
	return nil
}

// String names the device without its secrets.
func (d *Device) String() string {
	return fmt.Sprintf("appclient.Device{id=%q server=%q}", d.ID, d.Server)
}

// GoString is String, so %#v prints no secrets either.
func (d *Device) GoString() string { return d.String() }

// LogValue logs the device id and server, never the keys.
func (d *Device) LogValue() slog.Value {
	return slog.GroupValue(slog.String("device_id", d.ID), slog.String("server", d.Server))
}
