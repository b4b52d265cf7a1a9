package device_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"filippo.io/edwards25519"
	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// torsionPoints are the canonical encodings of the 8 points of small order on
// edwards25519; badPINKeys checks that each is one.
var torsionPoints = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}

// constantSignature verifies, with crypto/ed25519, every message under the
// identity point: R = identity, S = 0.
var constantSignature = append(unhex(torsionPoints[0]), make([]byte, 32)...)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// encodeY is the little-endian encoding of y with the sign bit clear.
func encodeY(y *big.Int) []byte {
	be := y.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
}

func isSmallOrder(p *edwards25519.Point) bool {
	return new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1
}

// badPINKeys are PIN public keys no entry point may accept.
func badPINKeys(t *testing.T) map[string][]byte {
	t.Helper()
	prime := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	bad := map[string][]byte{
		"nil":                      nil,
		"31 bytes":                 bytes.Repeat([]byte{7}, 31),
		"33 bytes":                 bytes.Repeat([]byte{7}, 33),
		"64 bytes (a private key)": ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)),
		"identity as y = p+1":      encodeY(new(big.Int).Add(big.NewInt(1), prime)),
		"identity with sign bit":   unhex("0100000000000000000000000000000000000000000000000000000000000080"),
	}
	for i, h := range torsionPoints {
		p, err := new(edwards25519.Point).SetBytes(unhex(h))
		if err != nil || !isSmallOrder(p) {
			t.Fatalf("torsion point %s: %v, small order %v", h, err, err == nil && isSmallOrder(p))
		}
		bad[fmt.Sprintf("torsion point %d", i)] = unhex(h)
	}
	for y := int64(2); y < 19; y++ { // y+p < 2^255: a second spelling of y
		b := encodeY(new(big.Int).Add(big.NewInt(y), prime))
		if p, err := new(edwards25519.Point).SetBytes(b); err == nil && !isSmallOrder(p) {
			bad["non-canonical y+p of a large-order point"] = b
			break
		}
	}
	for y := int64(2); ; y++ {
		b := encodeY(big.NewInt(y))
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			bad["not on the curve"] = b
			break
		}
	}
	if len(bad) != 16 {
		t.Fatalf("%d bad keys, want 16", len(bad))
	}
	return bad
}

// entryPoint presents a PIN key with its KDF parameters at one place where
// PIN keys enter, with a proof that is valid in every other respect: the
// device key signs, and sign (a signature under the presented key) is the PIN
// signature of a bind or unlock; a PIN change is signed by the old PIN.
type entryPoint struct {
	name string
	call func(t *testing.T, f *fixture, phone *appclient.Device, code string, pinKey []byte, sign func([]byte) []byte, kdf string) error
}

// rawProof answers ch with the device key of phone and pinSig for the
// PIN signature.
func rawProof(t *testing.T, phone *appclient.Device, ch appclient.Challenge, hash [32]byte, pinSig func([]byte) []byte) device.Proof {
	t.Helper()
	p, err := phone.SignDevice(ch, hash)
	if err != nil {
		t.Fatal(err)
	}
	return device.Proof{ChallengeID: ch.ID, DeviceSignature: p.DeviceSignature,
		PINSignature: pinSig(appclient.SignedMessage(ch.Purpose, ch.ID, ch.Nonce, hash))}
}

func bindProof(t *testing.T, f *fixture, phone *appclient.Device, pinKey []byte, sign func([]byte) []byte, kdf string) device.Proof {
	t.Helper()
	ch := f.challenge(t, device.PurposeBind, "")
	hash := appclient.ContentHash(device.PurposeBind, "", appclient.BindContent(phone.PublicKey(), pinKey, []byte(kdf), "Pixel", "Pixel 8"))
	return rawProof(t, phone, ch, hash, sign)
}

func (f *fixture) freshEIDSession() store.Session {
	return store.Session{PersonID: f.person.ID, Kind: session.KindBrowser, Level: string(session.LevelHigh), CreatedAt: f.clk.now(),
		Origin: string(session.OriginEID), OriginAt: f.clk.now()}
}

var entryPoints = []entryPoint{
	{"bind with letter", func(t *testing.T, f *fixture, _ *appclient.Device, code string, pinKey []byte, sign func([]byte) []byte, kdf string) error {
		phone := newPhone(t)
		_, err := f.svc.BindWithLetter(t.Context(), device.BindRequest{KVNR: kvnr, Password: pw, ActivationCode: code,
			DeviceKey: phone.PublicKey(), PINKey: pinKey, KDF: kdf, Name: "Pixel", Model: "Pixel 8",
			Proof: bindProof(t, f, phone, pinKey, sign, kdf)})
		return err
	}},
	{"bind with eID", func(t *testing.T, f *fixture, _ *appclient.Device, _ string, pinKey []byte, sign func([]byte) []byte, kdf string) error {
		phone := newPhone(t)
		_, err := f.svc.BindWithSession(t.Context(), f.freshEIDSession(), phone.PublicKey(), pinKey, kdf, "Pixel", "Pixel 8",
			bindProof(t, f, phone, pinKey, sign, kdf), "")
		return err
	}},
	{"PIN change", func(t *testing.T, f *fixture, phone *appclient.Device, _ string, pinKey []byte, _ func([]byte) []byte, kdf string) error {
		ch := f.challenge(t, device.PurposePINChange, store.DeviceID(phone.ID))
		p, err := phone.Sign(pin, ch, appclient.ContentHash(device.PurposePINChange, "", appclient.PINChangeContent(pinKey, []byte(kdf))))
		if err != nil {
			t.Fatal(err)
		}
		return f.svc.ChangePIN(t.Context(), store.DeviceID(phone.ID), pinKey, kdf, proofOf(ch.ID, p), "")
	}},
	{"unlock with letter", func(t *testing.T, f *fixture, phone *appclient.Device, code string, pinKey []byte, sign func([]byte) []byte, kdf string) error {
		return f.svc.UnlockWithLetter(t.Context(), store.DeviceID(phone.ID), device.BindRequest{KVNR: kvnr, Password: pw,
			ActivationCode: code, DeviceKey: phone.PublicKey(), PINKey: pinKey, KDF: kdf, Name: "Pixel", Model: "Pixel 8",
			Proof: bindProof(t, f, phone, pinKey, sign, kdf)})
	}},
	{"unlock with eID", func(t *testing.T, f *fixture, phone *appclient.Device, _ string, pinKey []byte, sign func([]byte) []byte, kdf string) error {
		return f.svc.UnlockWithSession(t.Context(), store.DeviceID(phone.ID), f.freshEIDSession(), phone.PublicKey(), pinKey, kdf,
			"Pixel", "Pixel 8", bindProof(t, f, phone, pinKey, sign, kdf), "")
	}},
}

// assertUnchanged checks that a refused call left the bound phone and the
// person's devices as they were.
func assertUnchanged(t *testing.T, f *fixture, want []store.Device) {
	t.Helper()
	got, err := f.svc.List(t.Context(), f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices changed (-before +after):\n%s", diff)
	}
}

// presented is what a request presents: a PIN key, a signature under it, KDF
// parameters.
type presented struct {
	key  []byte
	sign func([]byte) []byte
	kdf  string
}

// testEntryPoints presents every (key, kdf) of bad at every entry point and
// wants a *field.Error for name, nothing changed, and the same activation
// code still good; then a good key with good parameters is accepted.
func testEntryPoints(t *testing.T, cfg device.Config, want string, bad map[string]presented, good string) {
	for _, ep := range entryPoints {
		t.Run(ep.name, func(t *testing.T) {
			f := newFixtureConfig(t, testdb.Open(t), cfg)
			kdf, err := appclient.ParseKDF([]byte(good))
			if err != nil {
				t.Fatal(err)
			}
			phone := newPhone(t)
			phone.KDF = kdf
			bound, err := f.svc.BindWithLetter(t.Context(), f.bindRequest(t, phone, f.newCode(t)))
			if err != nil {
				t.Fatal(err)
			}
			phone.ID = string(bound.ID)
			code := f.newCode(t)
			before, err := f.svc.List(t.Context(), f.person.ID)
			if err != nil {
				t.Fatal(err)
			}
			for name, b := range bad {
				err := ep.call(t, f, phone, code, b.key, b.sign, b.kdf)
				var inv *field.Error
				if !errors.As(err, &inv) || inv.Name != want || inv.Message == "" {
					t.Errorf("%s: %v, want an invalid %s", name, err, want)
				}
				assertUnchanged(t, f, before)
			}
			// The same activation code still works: nothing was used up.
			pub, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := ep.call(t, f, phone, code, pub, func(m []byte) []byte { return ed25519.Sign(priv, m) }, good); err != nil {
				t.Errorf("a good PIN key with %s: %v", good, err)
			}
		})
	}
}

func TestPINKeyMustNeedThePIN(t *testing.T) {
	bad := map[string]presented{}
	for name, k := range badPINKeys(t) {
		bad[name] = presented{k, func([]byte) []byte { return constantSignature }, fastKDFJSON(t)}
	}
	if !ed25519.Verify(unhex(torsionPoints[0]), []byte("any message"), constantSignature) {
		t.Fatal("the constant signature does not verify under the identity point with crypto/ed25519; the premise is gone")
	}
	testEntryPoints(t, device.Config{}, "pin_key", bad, fastKDFJSON(t))
}

func fastKDFJSON(t *testing.T) string {
	t.Helper()
	b, err := fastKDF.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestKDFMinimum(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m []byte) []byte { return ed25519.Sign(priv, m) }
	t.Run("protocol bounds", func(t *testing.T) {
		testEntryPoints(t, device.Config{}, "kdf", map[string]presented{
			"m below 8 MiB":    {pub, sign, `{"alg":"argon2id","t":1,"m":8191,"p":1}`},
			"t = 0":            {pub, sign, `{"alg":"argon2id","t":0,"m":65536,"p":1}`},
			"p = 0":            {pub, sign, `{"alg":"argon2id","t":3,"m":65536,"p":0}`},
			"another function": {pub, sign, `{"alg":"pbkdf2","t":3,"m":65536,"p":1}`},
			"not canonical":    {pub, sign, `{"alg":"argon2id","m":65536,"t":3,"p":1}`},
			"empty":            {pub, sign, ``},
		}, fastKDFJSON(t))
	})
	t.Run("configured minimum", func(t *testing.T) {
		testEntryPoints(t, device.Config{KDFMinTime: 2, KDFMinMemory: 16 * 1024}, "kdf", map[string]presented{
			"t below":    {pub, sign, `{"alg":"argon2id","t":1,"m":65536,"p":1}`},
			"m below":    {pub, sign, `{"alg":"argon2id","t":3,"m":16383,"p":1}`},
			"both below": {pub, sign, fastKDFJSON(t)},
			"more lanes": {pub, sign, `{"alg":"argon2id","t":1,"m":16384,"p":8}`},
		}, `{"alg":"argon2id","t":2,"m":16384,"p":1}`)
	})
}

func TestKDFMinimumConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  device.Config
		errs int
	}{
		{device.Config{}, 0},
		{device.Config{KDFMinTime: 3, KDFMinMemory: 65536}, 0},
		{device.Config{KDFMinTime: 11}, 1},
		{device.Config{KDFMinMemory: 4096}, 1},
		{device.Config{KDFMinTime: 11, KDFMinMemory: 2 << 20}, 2},
	} {
		if errs := tc.cfg.Validate(); len(errs) != tc.errs {
			t.Errorf("%+v: Validate = %v, want %d problems", tc.cfg, errs, tc.errs)
		}
	}
}
