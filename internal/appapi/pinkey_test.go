package appapi_test

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/appclient"
)

// identityPoint is the Ed25519 identity; under it the signature R = identity,
// S = 0 verifies for every message with crypto/ed25519.
var (
	identityPoint     = append([]byte{1}, make([]byte, 31)...)
	constantSignature = append(append([]byte{1}, make([]byte, 31)...), make([]byte, 32)...)
)

// TestSmallOrderPINKeyRefused binds through the HTTP API with the identity
// point as PIN key and a proof that is valid in every other respect (the
// device key signs; the constant signature stands in for the PIN), and then
// tries to change a bound phone's PIN key to it: both get 400 invalid_field
// pin_key, and nothing is used up or changed.
func TestSmallOrderPINKeyRefused(t *testing.T) {
	if !ed25519.Verify(identityPoint, []byte("any message"), constantSignature) {
		t.Fatal("crypto/ed25519 refuses the constant signature; the premise of this test is gone")
	}
	base, code := deviceServer(t)
	kdf := `{"alg":"argon2id","t":1,"m":8192,"p":1}`
	want := map[string]any{"error": "invalid_field", "field": "pin_key", "message": "Der PIN-Schlüssel ist ungültig."}

	hostile, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := challenge(t, base, "bind", "")
	hash := appclient.ContentHash("bind", "", appclient.BindContent(hostile.PublicKey(), identityPoint, []byte(kdf), "Telefon", "Go"))
	p, err := hostile.SignDevice(ch, hash)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"kvnr": kvnr, "password": initial, "activation_code": code,
		"device_key": appclient.B64(hostile.PublicKey()), "pin_key": appclient.B64(identityPoint), "kdf": kdf,
		"name": "Telefon", "model": "Go", "challenge_id": ch.ID,
		"device_signature": appclient.B64(p.DeviceSignature), "pin_signature": appclient.B64(constantSignature)})
	r := call(t, "POST", base+"/api/v1/devices", "", string(body))
	if diff := cmp.Diff(want, r.body); r.status != http.StatusBadRequest || diff != "" {
		t.Fatalf("bind with the identity point as PIN key: %d, body (-want +got):\n%s", r.status, diff)
	}

	// Nothing was used up: the same activation code binds a real phone.
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	ch = challenge(t, base, "bind", "")
	b, err := phone.SignBind("482915", "Testtelefon", "Go", ch)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = json.Marshal(map[string]string{"kvnr": kvnr, "password": initial, "activation_code": code,
		"device_key": appclient.B64(b.DevicePublicKey), "pin_key": appclient.B64(b.PINPublicKey), "kdf": string(b.KDF),
		"name": b.Name, "model": b.Model, "challenge_id": ch.ID,
		"device_signature": appclient.B64(b.Proof.DeviceSignature), "pin_signature": appclient.B64(b.Proof.PINSignature)})
	r = call(t, "POST", base+"/api/v1/devices", "", string(body))
	if r.status != http.StatusCreated {
		t.Fatalf("bind after the refusal: %d %s", r.status, r.raw)
	}
	dev := r.body["device_id"].(string)

	// A PIN change to the identity point, signed with the right old PIN.
	ch = challenge(t, base, "pin-change", dev)
	p, err = phone.Sign("482915", ch, appclient.ContentHash("pin-change", "", appclient.PINChangeContent(identityPoint, []byte(kdf))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = json.Marshal(map[string]string{"pin_key": appclient.B64(identityPoint), "kdf": kdf, "challenge_id": ch.ID,
		"device_signature": appclient.B64(p.DeviceSignature), "pin_signature": appclient.B64(p.PINSignature)})
	r = call(t, "POST", base+"/api/v1/devices/"+dev+"/pin", "", string(body))
	if diff := cmp.Diff(want, r.body); r.status != http.StatusBadRequest || diff != "" {
		t.Fatalf("PIN change to the identity point: %d, body (-want +got):\n%s", r.status, diff)
	}

	// The old PIN still logs in; the constant signature does not.
	login := func(pinSig func(appclient.Challenge, [32]byte) []byte) reply {
		ch := challenge(t, base, "login", dev)
		hash := appclient.ContentHash("login", "", nil)
		p, err := phone.SignDevice(ch, hash)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]string{"device_id": dev, "challenge_id": ch.ID, "method": "pin",
			"device_signature": appclient.B64(p.DeviceSignature), "pin_signature": appclient.B64(pinSig(ch, hash))})
		return call(t, "POST", base+"/api/v1/app/sessions", "", string(body))
	}
	if r := login(func(appclient.Challenge, [32]byte) []byte { return constantSignature }); r.status != http.StatusUnauthorized {
		t.Errorf("login with the constant signature: %d %s", r.status, r.raw)
	}
	if r := login(func(ch appclient.Challenge, hash [32]byte) []byte {
		p, err := phone.Sign("482915", ch, hash)
		if err != nil {
			t.Fatal(err)
		}
		return p.PINSignature
	}); r.status != http.StatusCreated {
		t.Errorf("login with the old PIN after the refused change: %d %s", r.status, r.raw)
	}
}
