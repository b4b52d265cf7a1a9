package appclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"
)

func TestB64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte // nil: error
	}{
		{"", []byte{}},
		{"AQID", []byte{1, 2, 3}},
		{"-_8", []byte{0xfb, 0xff}},
		{"AQ", []byte{1}},
		{"AQ==", nil},   // padding
		{"+/8", nil},    // standard alphabet
		{"AQ ID", nil},  // whitespace
		{"AQID\n", nil}, // newline
		{"AQ\r\nID", nil},
		{"AR", nil}, // non-zero trailing bits
		{"A", nil},  // impossible length
	} {
		got, err := UnB64(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("UnB64(%q) = %x, want error", tc.in, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("UnB64(%q) = %x, %v; want %x", tc.in, got, err, tc.want)
		}
		if back := B64(got); back != tc.in {
			t.Errorf("B64(%x) = %q, want %q", got, back, tc.in)
		}
	}
}

func TestAppendField(t *testing.T) {
	got := appendField([]byte{0xff}, []byte("ab"))
	want := []byte{0xff, 0, 0, 0, 2, 'a', 'b'}
	if !bytes.Equal(got, want) {
		t.Errorf("appendField = %x, want %x", got, want)
	}
	if got := appendField(nil, nil); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Errorf("appendField(empty) = %x, want 00000000", got)
	}
}

func TestDevicePublicKeyRoundTrip(t *testing.T) {
	d, _ := testDevice()
	b := d.PublicKey()
	if len(b) != DevicePublicKeySize || b[0] != 0x04 {
		t.Fatalf("PublicKey() = %x, want 65 bytes starting with 04", b)
	}
	pub, err := ParseDevicePublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&d.key.PublicKey) {
		t.Error("parsed key differs from the device key")
	}
	if got := EncodeDevicePublicKey(pub); !bytes.Equal(got, b) {
		t.Errorf("EncodeDevicePublicKey(Parse(b)) = %x, want %x", got, b)
	}
	if got := EncodeDevicePublicKey(nil); got != nil {
		t.Errorf("EncodeDevicePublicKey(nil) = %x, want nil", got)
	}
	other, err := ecdsa.GenerateKey(elliptic.P384(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := EncodeDevicePublicKey(&other.PublicKey); got != nil {
		t.Errorf("EncodeDevicePublicKey(P-384 key) = %x, want nil", got)
	}
}

func TestParseDevicePublicKeyRefuses(t *testing.T) {
	d, _ := testDevice()
	good := d.PublicKey()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// The generator G of P-256 with y negated is on the curve; with y+1 it is not.
	g := mustHex("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
	p := elliptic.P256().Params().P
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"identity (SEC 1 encoding 00)", []byte{0x00}},
		{"all zero", make([]byte, 65)},
		{"04 and zeros", append([]byte{0x04}, make([]byte, 64)...)},
		{"compressed", append([]byte{0x02 | good[64]&1}, good[1:33]...)},
		{"hybrid prefix 06", mod(func(b []byte) []byte { b[0] = 0x06 | b[64]&1; return b })},
		{"prefix 05", mod(func(b []byte) []byte { b[0] = 0x05; return b })},
		{"one byte short", good[:64]},
		{"one byte long", append(bytes.Clone(good), 0)},
		{"DER SubjectPublicKeyInfo", mustSPKI(t, d)},
		{"off the curve", mod(func(b []byte) []byte { b[64] ^= 1; return b })},
		{"G with y+1", func() []byte { b := bytes.Clone(g); b[64]++; return b }()},
		{"x = p (not reduced)", func() []byte {
			b := bytes.Clone(g)
			p.FillBytes(b[1:33])
			return b
		}()},
		{"all ff", bytes.Repeat([]byte{0xff}, 65)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := ParseDevicePublicKey(tc.in)
			if err == nil {
				t.Fatalf("ParseDevicePublicKey(%x) = %v, want error", tc.in, pub)
			}
			if !errors.Is(err, ErrDevicePublicKey) {
				t.Errorf("error %v does not wrap ErrDevicePublicKey", err)
			}
		})
	}
	if _, err := ParseDevicePublicKey(g); err != nil {
		t.Errorf("ParseDevicePublicKey(G) = %v, want the generator accepted", err)
	}
}

// spkiPrefix is what docs/app-protocol.md tells Android developers to strip
// from PublicKey.getEncoded() of a P-256 key.
const spkiPrefix = "3059301306072a8648ce3d020106082a8648ce3d030107034200"

func mustSPKI(t *testing.T, d *Device) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(&d.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSPKIPrefixInDocs(t *testing.T) {
	d, _ := testDevice()
	spki := mustSPKI(t, d)
	want := append(mustHex(spkiPrefix), d.PublicKey()...)
	if !bytes.Equal(spki, want) {
		t.Errorf("SubjectPublicKeyInfo = %x, want %s || public key", spki, spkiPrefix)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func FuzzParseDevicePublicKey(f *testing.F) {
	d, _ := testDevice()
	f.Add(d.PublicKey())
	f.Add([]byte{0x04})
	f.Add([]byte{0x00})
	f.Add(make([]byte, 65))
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParseDevicePublicKey(b)
		if err != nil {
			if pub != nil {
				t.Errorf("ParseDevicePublicKey returned a key and an error")
			}
			return
		}
		if got := EncodeDevicePublicKey(pub); !bytes.Equal(got, b) {
			t.Errorf("EncodeDevicePublicKey(ParseDevicePublicKey(%x)) = %x", b, got)
		}
	})
}
