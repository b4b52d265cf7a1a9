package appclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/ProtonMail/go-crypto/brainpool"
)

// testCard is a software card with a fresh brainpoolP256r1 key and
// placeholder certificate bytes (the server reads the certificate; these
// tests do not).
func testCard(t testing.TB) *SoftwareCard {
	t.Helper()
	k, err := ecdsa.GenerateKey(brainpool.P256r1(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewSoftwareCard(CardScalar(k), []byte("certificate"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testStatement() PairingStatement {
	return PairingStatement{ChallengeID: "ch_egk", Nonce: seq(0x10, 32), ContentHash: sha256.Sum256([]byte("content"))}
}

func TestPairingStatementRoundTrip(t *testing.T) {
	s := testStatement()
	p := s.Marshal()
	got, err := ParsePairingStatement(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.ChallengeID != s.ChallengeID || !bytes.Equal(got.Nonce, s.Nonce) || got.ContentHash != s.ContentHash {
		t.Errorf("ParsePairingStatement(Marshal(s)) = %+v, want %+v", got, s)
	}
}

func TestParsePairingStatementRefuses(t *testing.T) {
	good := testStatement().Marshal()
	field := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = appendField(b, p)
		}
		return b
	}
	h := make([]byte, 32)
	cases := map[string][]byte{
		"empty":             nil,
		"truncated":         good[:len(good)-1],
		"trailing byte":     append(bytes.Clone(good), 0),
		"oversized":         append(bytes.Clone(good), make([]byte, MaxPairingStatement)...),
		"another domain":    field([]byte("pforte-app-v1"), []byte(PurposeBindEGK), []byte("ch"), seq(0, 16), h),
		"another purpose":   field([]byte(PairingDomain), []byte(PurposeBind), []byte("ch"), seq(0, 16), h),
		"bad challenge id":  field([]byte(PairingDomain), []byte(PurposeBindEGK), []byte("ch/1"), seq(0, 16), h),
		"short nonce":       field([]byte(PairingDomain), []byte(PurposeBindEGK), []byte("ch"), seq(0, 15), h),
		"short hash":        field([]byte(PairingDomain), []byte(PurposeBindEGK), []byte("ch"), seq(0, 16), h[:31]),
		"four fields":       field([]byte(PairingDomain), []byte(PurposeBindEGK), []byte("ch"), seq(0, 16)),
		"length past end":   append(field([]byte(PairingDomain), []byte(PurposeBindEGK), []byte("ch"), seq(0, 16)), 0, 0, 0, 40, 1),
		"huge field length": {0xff, 0xff, 0xff, 0xff, 1},
	}
	for name, p := range cases {
		if _, err := ParsePairingStatement(p); !errors.Is(err, ErrPairingStatement) {
			t.Errorf("%s: ParsePairingStatement = %v, want ErrPairingStatement", name, err)
		}
	}
}

func FuzzParsePairingStatement(f *testing.F) {
	f.Add(testStatement().Marshal())
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := ParsePairingStatement(p)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes: one statement, one
		// spelling.
		if !bytes.Equal(s.Marshal(), p) {
			t.Fatalf("Marshal(ParsePairingStatement(p)) != p for %x", p)
		}
	})
}

func TestSignPairingVerifies(t *testing.T) {
	d, _ := testDevice()
	card := testCard(t)
	ch := testChallenge(PurposeBindEGK)
	p, err := d.SignPairing(testPIN, "Telefon", "Pixel 8", ch, card)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParsePairingStatement(p.Statement)
	if err != nil {
		t.Fatal(err)
	}
	h := PairingContentHash(p.DevicePublicKey, p.PINPublicKey, p.KDF, p.Name, p.Model)
	if st.ChallengeID != ch.ID || !bytes.Equal(st.Nonce, ch.Nonce) || st.ContentHash != h {
		t.Errorf("statement %+v does not name the challenge and the binding", st)
	}
	if !VerifyCardSignature(card.PublicKey(), p.Statement, p.CardSignature) {
		t.Error("the card's signature does not verify")
	}
	msg := SignedMessage(PurposeBindEGK, ch.ID, ch.Nonce, h)
	if dev, pin := VerifyProof(p.DevicePublicKey, p.PINPublicKey, msg, p.Proof); !dev || !pin {
		t.Errorf("VerifyProof = %v, %v", dev, pin)
	}
	// Each part the card signs matters.
	other := testStatement().Marshal()
	if VerifyCardSignature(card.PublicKey(), other, p.CardSignature) {
		t.Error("the signature verifies for another statement")
	}
	if VerifyCardSignature(testCard(t).PublicKey(), p.Statement, p.CardSignature) {
		t.Error("the signature verifies under another card's key")
	}
	zero := make([]byte, CardSignatureSize)
	if VerifyCardSignature(card.PublicKey(), p.Statement, zero) || VerifyCardSignature(card.PublicKey(), p.Statement, p.CardSignature[:63]) {
		t.Error("a zero or short signature verifies")
	}
	if _, err := d.SignPairing(testPIN, "Telefon", "", testChallenge(PurposeBind), card); !errors.Is(err, ErrChallenge) {
		t.Errorf("SignPairing with a bind challenge: %v, want ErrChallenge", err)
	}
}

func TestSoftwareCardFileRoundTrip(t *testing.T) {
	card := testCard(t)
	b, err := card.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadSoftwareCard(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.PublicKey(), card.PublicKey()) || !bytes.Equal(got.Certificate(), card.Certificate()) {
		t.Error("the loaded card differs")
	}
	if _, err := LoadSoftwareCard(bytes.Replace(b, []byte(`"version": 1`), []byte(`"version": 2`), 1)); !errors.Is(err, ErrSoftwareCard) {
		t.Errorf("version 2: %v", err)
	}
	if _, err := NewSoftwareCard(make([]byte, 32), []byte("c"), nil); !errors.Is(err, ErrSoftwareCard) {
		t.Errorf("zero scalar: %v", err)
	}
}
