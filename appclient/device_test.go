package appclient

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewDevice(t *testing.T) {
	a, err := NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.PublicKey(), b.PublicKey()) || a.secret == b.secret {
		t.Error("two new devices share a key or a secret")
	}
	if a.KDF != DefaultKDF() || a.ID != "" {
		t.Errorf("new device: KDF %+v, ID %q; want DefaultKDF and no id", a.KDF, a.ID)
	}
	if _, err := NewDevice(bytes.NewReader(make([]byte, 8))); err == nil {
		t.Error("NewDevice with an exhausted random source succeeded")
	}
}

func TestStateRoundTrip(t *testing.T) {
	d, _ := testDevice()
	c := *d
	c.ID, c.Server = "dev_42", "https://kasse.example"
	b, err := c.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.Server != c.Server || got.KDF != c.KDF || got.secret != c.secret || !got.key.Equal(c.key) {
		t.Errorf("LoadState(MarshalState()) = %v, want %v with the same keys", got, &c)
	}
	if strings.Contains(string(b), testPIN) {
		t.Error("state contains the PIN")
	}
	_, k := testDevice()
	for _, secret := range [][]byte{k.Seed(), k.Public().(ed25519.PublicKey)} {
		if bytes.Contains(b, []byte(B64(secret))) {
			t.Error("state contains the PIN seed or PIN public key, which would allow testing PINs offline")
		}
	}

	path := filepath.Join(t.TempDir(), "state.json")
	if err := c.WriteStateFile(path); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteStateFile(path); err != nil { // overwrite
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600", fi.Mode().Perm())
	}
	fromFile, err := ReadStateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.ID != c.ID || !fromFile.key.Equal(c.key) {
		t.Errorf("ReadStateFile = %v, want %v", fromFile, &c)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after writing, want 1 (no temporary files left)", len(entries))
	}
}

func TestLoadStateRefuses(t *testing.T) {
	d, _ := testDevice()
	good, err := d.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("state lacks %q:\n%s", old, good)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	nScalar := B64(mustHex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"))
	for name, in := range map[string]string{
		"version":        replace(`"version": 1`, `"version": 2`),
		"unknown member": replace(`"version": 1`, `"version": 1, "pin": "271828"`),
		"zero key":       replace(B64(mustScalar(d)), B64(make([]byte, 32))),
		"key = N":        replace(B64(mustScalar(d)), nScalar),
		"short key":      replace(B64(mustScalar(d)), B64(make([]byte, 31))),
		"short secret":   replace(B64(d.secret[:]), B64(d.secret[:31])),
		"padded secret":  replace(B64(d.secret[:]), B64(d.secret[:])+"="),
		"weak kdf":       replace(`"m": 8192`, `"m": 1024`),
		"trailing":       string(good) + "{}",
		"empty":          "",
	} {
		if _, err := LoadState([]byte(in)); !errors.Is(err, ErrState) {
			t.Errorf("%s: LoadState error = %v, want ErrState", name, err)
		}
	}
}

func mustScalar(d *Device) []byte {
	b, err := d.key.Bytes()
	if err != nil {
		panic(err)
	}
	return b
}

func TestDeviceHidesSecrets(t *testing.T) {
	d, _ := testDevice()
	secretB64 := B64(d.secret[:])
	scalar := new(big.Int).SetBytes(mustScalar(d)).String() // as fmt prints a big.Int
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "device", d)
	for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v", d), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d), logs.String()} {
		if strings.Contains(s, secretB64) || strings.Contains(s, scalar) || strings.Contains(s, fmt.Sprint(d.secret[:])) {
			t.Errorf("printed device reveals a secret: %s", s)
		}
	}
}

func TestSignChecks(t *testing.T) {
	d, _ := testDevice()
	h := ContentHash(PurposeLogin, "", nil)
	bad := testChallenge(PurposeLogin)
	bad.Nonce = bad.Nonce[:8]
	if _, err := d.Sign(testPIN, bad, h); !errors.Is(err, ErrChallenge) {
		t.Errorf("Sign(short nonce) error = %v, want ErrChallenge", err)
	}
	if _, err := d.Sign("27182", testChallenge(PurposeLogin), h); !errors.Is(err, ErrPINFormat) {
		t.Errorf("Sign(5 digits) error = %v, want ErrPINFormat", err)
	}
	if _, err := d.Sign(testPIN, testChallenge(PurposeDecline), h); !errors.Is(err, ErrDeclineWithPIN) {
		t.Errorf("Sign(decline) error = %v, want ErrDeclineWithPIN", err)
	}
	if _, err := d.SignWithSeed(make([]byte, 31), testChallenge(PurposeLogin), h); err == nil {
		t.Error("SignWithSeed(31 bytes) succeeded")
	}
}

func TestSignWithSeedIsTheSameProof(t *testing.T) {
	d, k := testDevice()
	ch := testChallenge(PurposeApprove)
	h := ContentHash("bank.change", "Neue Bankverbindung", []byte(`{"iban":"DE02120300000000202051"}`))
	typed, err := d.Sign(testPIN, ch, h)
	if err != nil {
		t.Fatal(err)
	}
	bio, err := d.SignWithSeed(k.Seed(), ch, h)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(typed.PINSignature, bio.PINSignature) {
		t.Error("PIN signatures from typed PIN and stored seed differ")
	}
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h)
	if dev, pin := VerifyProof(d.PublicKey(), k.Public().(ed25519.PublicKey), msg, bio); !dev || !pin {
		t.Errorf("biometric proof: VerifyProof = %v, %v; want true, true", dev, pin)
	}
}

func TestSignDecline(t *testing.T) {
	d, k := testDevice()
	ch := testChallenge(PurposeDecline)
	h := ContentHash(PurposeDecline, "", nil)
	p, err := d.SignDevice(ch, h)
	if err != nil {
		t.Fatal(err)
	}
	if p.PINSignature != nil {
		t.Error("decline carries a PIN signature")
	}
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h)
	if dev, pin := VerifyProof(d.PublicKey(), k.Public().(ed25519.PublicKey), msg, p); !dev || pin {
		t.Errorf("decline: VerifyProof = %v, %v; want true, false", dev, pin)
	}
}

func TestSignBind(t *testing.T) {
	d, k := testDevice()
	ch := testChallenge(PurposeBind)
	b, err := d.SignBind(testPIN, "Telefon von Jürgen", "Pixel 8", ch)
	if err != nil {
		t.Fatal(err)
	}
	want := Binding{
		DevicePublicKey: d.PublicKey(),
		PINPublicKey:    k.Public().(ed25519.PublicKey),
		KDF:             []byte(`{"alg":"argon2id","t":1,"m":8192,"p":1}`),
		Name:            "Telefon von Jürgen",
		Model:           "Pixel 8",
		Proof:           b.Proof,
	}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("SignBind (-want +got):\n%s", diff)
	}
	// The server recomputes the content from what it received.
	h := ContentHash(PurposeBind, "", BindContent(b.DevicePublicKey, b.PINPublicKey, b.KDF, b.Name, b.Model))
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h)
	if dev, pin := VerifyProof(b.DevicePublicKey, b.PINPublicKey, msg, b.Proof); !dev || !pin {
		t.Errorf("bind: VerifyProof = %v, %v; want true, true", dev, pin)
	}
	// Another PIN key or name in the request breaks the signature.
	other := ContentHash(PurposeBind, "", BindContent(b.DevicePublicKey, b.PINPublicKey, b.KDF, "Telefon von Mallory", b.Model))
	if dev, _ := VerifyProof(b.DevicePublicKey, b.PINPublicKey, SignedMessage(ch.Purpose, ch.ID, ch.Nonce, other), b.Proof); dev {
		t.Error("bind signature covers no name")
	}

	for _, tc := range []struct {
		name, pin, devName, model string
		purpose                   string
		want                      error
	}{
		{"trivial PIN", "123456", "n", "m", PurposeBind, ErrTrivialPIN},
		{"login challenge", testPIN, "n", "m", PurposeLogin, ErrChallenge},
		{"empty name", testPIN, "", "m", PurposeBind, nil},
		{"long name", testPIN, strings.Repeat("ä", 65), "m", PurposeBind, nil},
		{"control in model", testPIN, "n", "a\nb", PurposeBind, nil},
		{"invalid UTF-8", testPIN, "\xff", "m", PurposeBind, nil},
	} {
		_, err := d.SignBind(tc.pin, tc.devName, tc.model, testChallenge(tc.purpose))
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: SignBind error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSignPINChange(t *testing.T) {
	d, k := testDevice()
	ch := testChallenge(PurposePINChange)
	newKDF := testKDF
	newKDF.Time = 2
	c, err := d.SignPINChange(testPIN, "582094", newKDF, ch)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.KDF) != `{"alg":"argon2id","t":2,"m":8192,"p":1}` || c.NewKDF != newKDF {
		t.Errorf("PINChange KDF = %s, %+v", c.KDF, c.NewKDF)
	}
	newKey, err := DerivePINKey("582094", d.secret[:], newKDF)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.PINPublicKey, newKey.Public().(ed25519.PublicKey)) {
		t.Error("new PIN public key is not derived from the new PIN, the secret and the new KDF")
	}
	h := ContentHash(PurposePINChange, "", PINChangeContent(c.PINPublicKey, c.KDF))
	msg := SignedMessage(ch.Purpose, ch.ID, ch.Nonce, h)
	// Signed with the OLD PIN key.
	if dev, pin := VerifyProof(d.PublicKey(), k.Public().(ed25519.PublicKey), msg, c.Proof); !dev || !pin {
		t.Errorf("pin change: VerifyProof(old PIN key) = %v, %v; want true, true", dev, pin)
	}
	if _, err := d.SignPINChange(testPIN, "111111", newKDF, ch); !errors.Is(err, ErrTrivialPIN) {
		t.Errorf("SignPINChange(trivial new PIN) error = %v, want ErrTrivialPIN", err)
	}
	if _, err := d.SignPINChange(testPIN, "582094", newKDF, testChallenge(PurposeLogin)); !errors.Is(err, ErrChallenge) {
		t.Errorf("SignPINChange(login challenge) error = %v, want ErrChallenge", err)
	}
}
