package appclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Card is the electronic health card (eGK) as the app reaches it over NFC:
// after the person typed the card's CAN (to open the contactless channel,
// PACE) and the card's PIN (PIN.CH), the app reads the certificate of the
// authentication key and has the card sign a hash with it. Neither the CAN
// nor the PIN ever leaves the phone; Pforte sees only the certificate and
// the signature.
type Card interface {
	// Certificate returns the DER of the card's C.CH.AUT certificate
	// (EF.C.CH.AUT.E256, brainpoolP256r1).
	Certificate() []byte
	// SignHash signs the 32-byte SHA-256 hash with the authentication key
	// (PSO Compute Digital Signature, ECDSA) and returns IEEE P1363 r || s.
	SignHash(hash [32]byte) ([]byte, error)
}

// SoftwareCardVersion is the version of the software card file format.
const SoftwareCardVersion = 1

// ErrSoftwareCard is returned, wrapped, for a software card that cannot be
// loaded.
var ErrSoftwareCard = errors.New("invalid software card")

// SoftwareCard is a Card in a file: a brainpoolP256r1 key and its
// certificate, made by a test CA for tests and the command-line phone. It is
// no health card: a real one keeps its key on the chip.
type SoftwareCard struct {
	key   *ecdsa.PrivateKey
	cert  []byte
	chain [][]byte
}

type softwareCardJSON struct {
	Version     int      `json:"version"`
	Key         string   `json:"key"`         // raw 32-byte scalar, base64url
	Certificate string   `json:"certificate"` // DER, base64url
	Chain       []string `json:"chain"`       // the issuing CA's certificates, DER, base64url
}

// NewSoftwareCard returns a card with the brainpoolP256r1 private scalar key
// (32 bytes, big-endian), its certificate and the issuing CA's certificates.
func NewSoftwareCard(scalar, cert []byte, chain [][]byte) (*SoftwareCard, error) {
	k, err := NewCardKey(scalar)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSoftwareCard, err)
	}
	if len(cert) == 0 || len(cert) > MaxCardCertificate {
		return nil, fmt.Errorf("%w: certificate is %d bytes", ErrSoftwareCard, len(cert))
	}
	return &SoftwareCard{key: k, cert: bytes.Clone(cert), chain: chain}, nil
}

// LoadSoftwareCard parses a software card file: {"version":1,"key",
// "certificate","chain"}, bytes in base64url. Unknown members are errors.
func LoadSoftwareCard(b []byte) (*SoftwareCard, error) {
	var j softwareCardJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSoftwareCard, err)
	}
	if j.Version != SoftwareCardVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrSoftwareCard, j.Version, SoftwareCardVersion)
	}
	key, err := UnB64(j.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %v", ErrSoftwareCard, err)
	}
	cert, err := UnB64(j.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", ErrSoftwareCard, err)
	}
	var chain [][]byte
	for i, s := range j.Chain {
		c, err := UnB64(s)
		if err != nil {
			return nil, fmt.Errorf("%w: chain[%d]: %v", ErrSoftwareCard, i, err)
		}
		chain = append(chain, c)
	}
	return NewSoftwareCard(key, cert, chain)
}

// ReadSoftwareCardFile reads a software card file (at most 64 KiB).
func ReadSoftwareCardFile(path string) (*SoftwareCard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read card: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return nil, fmt.Errorf("read card: %w", err)
	}
	if len(b) > 64<<10 {
		return nil, fmt.Errorf("read card: %s is larger than 64 KiB", path)
	}
	c, err := LoadSoftwareCard(b)
	if err != nil {
		return nil, fmt.Errorf("read card %s: %w", path, err)
	}
	return c, nil
}

// Marshal returns the card file's JSON. It holds the private key: write it
// with WritePrivateFile.
func (c *SoftwareCard) Marshal() ([]byte, error) {
	j := softwareCardJSON{Version: SoftwareCardVersion, Key: B64(CardScalar(c.key)), Certificate: B64(c.cert),
		Chain: []string{}}
	for _, ca := range c.chain {
		j.Chain = append(j.Chain, B64(ca))
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Certificate implements Card.
func (c *SoftwareCard) Certificate() []byte { return bytes.Clone(c.cert) }

// Chain returns the issuing CA's certificates the file names.
func (c *SoftwareCard) Chain() [][]byte { return c.chain }

// PublicKey returns the card key's uncompressed point (65 bytes).
func (c *SoftwareCard) PublicKey() []byte { return CardPoint(&c.key.PublicKey) }

// SignHash implements Card: ECDSA on brainpoolP256r1, r || s.
func (c *SoftwareCard) SignHash(hash [32]byte) ([]byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, c.key, hash[:])
	if err != nil {
		return nil, fmt.Errorf("card: sign: %w", err)
	}
	sig := make([]byte, CardSignatureSize)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// String names no key.
func (c *SoftwareCard) String() string { return "appclient.SoftwareCard{}" }

// GoString is String.
func (c *SoftwareCard) GoString() string { return c.String() }

// LogValue logs nothing of the key.
func (c *SoftwareCard) LogValue() slog.Value { return slog.StringValue("software card") }

// CardPairing is what the app sends to bind, or unlock, a device with the
// card: the binding's keys and proof over a bind-egk challenge, the card's
// certificate, the pairing statement P and the card's signature of it.
type CardPairing struct {
	Binding
	CardCertificate []byte
	Statement       []byte
	CardSignature   []byte
}

// SignPairing answers a bind-egk challenge: the device key and the new PIN
// key of pin sign SignedMessage(bind-egk, ch, H), and the card signs the
// pairing statement with the same H (PairingContentHash), so the card names
// exactly this device key, PIN key, KDF, name and model.
func (d *Device) SignPairing(pin, name, model string, ch Challenge, card Card) (CardPairing, error) {
	if ch.Purpose != PurposeBindEGK {
		return CardPairing{}, fmt.Errorf("sign pairing: %w: purpose %q", ErrChallenge, ch.Purpose)
	}
	b, err := d.signBind(pin, name, model, ch)
	if err != nil {
		return CardPairing{}, err
	}
	st := PairingStatement{ChallengeID: ch.ID, Nonce: ch.Nonce,
		ContentHash: PairingContentHash(b.DevicePublicKey, b.PINPublicKey, b.KDF, name, model)}.Marshal()
	sig, err := card.SignHash(sha256.Sum256(st))
	if err != nil {
		return CardPairing{}, fmt.Errorf("sign pairing: %w", err)
	}
	return CardPairing{Binding: b, CardCertificate: card.Certificate(), Statement: st, CardSignature: sig}, nil
}
