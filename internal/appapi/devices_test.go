package appapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// deviceServer starts a node (nodetest) with Jürgen Müller in the register,
// his account with the initial password, and an activation code.
func deviceServer(t *testing.T) (base, code string) {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{})
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	if _, err := n.Accounts.SetInitialPassword(t.Context(), p.ID, initial); err != nil {
		t.Fatal(err)
	}
	return n.URL, n.ActivationCode(t, p)
}

func challenge(t *testing.T, base, purpose, dev string) appclient.Challenge {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"purpose": purpose, "device_id": dev})
	r := call(t, "POST", base+"/api/v1/app/challenges", "", string(body))
	if r.status != http.StatusCreated {
		t.Fatalf("challenge: %d %s", r.status, r.raw)
	}
	var ch appclient.Challenge
	if err := json.Unmarshal([]byte(r.raw), &ch); err != nil {
		t.Fatalf("challenge JSON %s: %v", r.raw, err)
	}
	return ch
}

func TestDeviceEndpoints(t *testing.T) {
	base, code := deviceServer(t)
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	ch := challenge(t, base, "bind", "")
	b, err := phone.SignBind("482915", "Testtelefon", "Go", ch)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"kvnr": kvnr, "password": initial, "activation_code": "https://portal.example/app/activate#" + code,
		"device_key": appclient.B64(b.DevicePublicKey), "pin_key": appclient.B64(b.PINPublicKey), "kdf": string(b.KDF),
		"name": b.Name, "model": b.Model, "challenge_id": ch.ID,
		"device_signature": appclient.B64(b.Proof.DeviceSignature), "pin_signature": appclient.B64(b.Proof.PINSignature)})
	r := call(t, "POST", base+"/api/v1/devices", "", string(body))
	if r.status != http.StatusCreated || r.body["level"] != "substantial" {
		t.Fatalf("bind: %d %s", r.status, r.raw)
	}
	dev := r.body["device_id"].(string)
	if again := call(t, "POST", base+"/api/v1/devices", "", string(body)); again.status != http.StatusUnauthorized {
		t.Errorf("replayed bind: %d %s", again.status, again.raw)
	}

	login := func(pin string) reply {
		ch := challenge(t, base, "login", dev)
		p, err := phone.Sign(pin, ch, appclient.ContentHash("login", "", nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]string{"device_id": dev, "challenge_id": ch.ID, "method": "face",
			"device_signature": appclient.B64(p.DeviceSignature), "pin_signature": appclient.B64(p.PINSignature)})
		return call(t, "POST", base+"/api/v1/app/sessions", "", string(body))
	}
	ok := login("482915")
	if ok.status != http.StatusCreated || ok.body["level"] != "substantial" {
		t.Fatalf("app login: %d %s", ok.status, ok.raw)
	}
	// The app reported "face"; the session carries what the server verified.
	if diff := cmp.Diff([]any{"hwk", "pin"}, ok.body["amr"]); diff != "" {
		t.Errorf("app login amr (-want +got):\n%s", diff)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/devices", nil)
	req.Header.Set("Authorization", "Bearer "+ok.body["session_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var devices []map[string]any
	json.NewDecoder(resp.Body).Decode(&devices)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(devices) != 1 || devices[0]["device_id"] != dev || devices[0]["pin_locked"] != false {
		t.Errorf("devices: %d %v", resp.StatusCode, devices)
	}
	for _, remaining := range []float64{2, 1} {
		r := login("000111")
		if r.status != http.StatusUnauthorized || r.body["remaining_attempts"] != remaining || r.body["error"] != "authentication_failed" {
			t.Errorf("wrong PIN: %d %s", r.status, r.raw)
		}
	}
	if r := login("000111"); r.status != http.StatusLocked || r.body["error"] != "pin_locked" {
		t.Errorf("third wrong PIN: %d %s", r.status, r.raw)
	}
	if r := login("482915"); r.status != http.StatusLocked {
		t.Errorf("right PIN after the lock: %d %s", r.status, r.raw)
	}
	for name, body := range map[string]string{
		"bad base64":      `{"device_id":"` + dev + `","challenge_id":"x","device_signature":"***","pin_signature":""}`,
		"unknown purpose": `{"purpose":"steal"}`,
		"wrong type":      `{"device_id":7}`,
	} {
		path := "/api/v1/app/sessions"
		if name == "unknown purpose" {
			path = "/api/v1/app/challenges"
		}
		if r := call(t, "POST", base+path, "", body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
}
