package appclient

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeServer implements the app API's device and approval calls in memory.
// It is fake in what it stores but not in what it checks: request bodies are
// decoded strictly (unknown members are errors, so a misspelt member fails),
// challenges are single use and bound to purpose and device, and every proof
// is checked with VerifyProof over the message the server builds itself.
type fakeServer struct {
	t         *testing.T
	mu        sync.Mutex
	seq       int
	challenge map[string]fakeChallenge
	devices   map[string]*fakeDevice
	sessions  map[string]bool
	approvals map[string]*fakeApproval
	pinLimit  int
	// tamper, when set, changes an approval's answer before it is sent.
	tamper func(m map[string]any)
	// lastBody is the last request body, for encoding checks.
	lastBody map[string]any
}

type fakeChallenge struct {
	nonce   []byte
	purpose string
	device  string
}

type fakeDevice struct {
	deviceKey, pinKey []byte
	kdf               string
	name, model       string
	failures          int
	locked            bool
}

type fakeApproval struct {
	action, text string
	data         []byte
	choices      []int
	shown        int // the number the portal shows
	state        string
	notMe        bool
}

const (
	fakeKVNR     = "X110411675"
	fakePassword = "K7PX9MRT4QWZ"
	fakeCode     = "q2Xr8vN4kP1sT6wY9bC3dF"
)

func newFakeServer(t *testing.T) (*fakeServer, *Client) {
	f := &fakeServer{t: t, challenge: map[string]fakeChallenge{}, devices: map[string]*fakeDevice{},
		sessions: map[string]bool{}, approvals: map[string]*fakeApproval{}, pinLimit: 3}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/app/challenges", f.challenges)
	mux.HandleFunc("POST /api/v1/devices", f.bind)
	mux.HandleFunc("POST /api/v1/app/sessions", f.login)
	mux.HandleFunc("GET /api/v1/devices", f.list)
	mux.HandleFunc("POST /api/v1/devices/{id}/pin", f.changePIN)
	mux.HandleFunc("DELETE /api/v1/devices/{id}", f.unbind)
	mux.HandleFunc("GET /api/v1/app/approvals", f.listApprovals)
	mux.HandleFunc("POST /api/v1/approvals/{id}/approve", f.approve)
	mux.HandleFunc("POST /api/v1/approvals/{id}/decline", f.decline)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, &Client{BaseURL: srv.URL, HTTP: srv.Client()}
}

func (f *fakeServer) id(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s_%d", prefix, f.seq)
}

func writeJSONTo(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code string) {
	writeJSONTo(w, status, map[string]string{"error": code, "message": "Das hat nicht geklappt."})
}

// decode reads the body strictly into v and records it as a map.
func (f *fakeServer) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	var buf bytes.Buffer
	buf.ReadFrom(r.Body)
	f.lastBody = nil
	json.Unmarshal(buf.Bytes(), &f.lastBody)
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		fail(w, http.StatusBadRequest, "bad_request")
		return false
	}
	return true
}

func unb64(s string) []byte {
	b, _ := UnB64(s)
	return b
}

// consume takes a challenge for purpose and device, or reports false.
func (f *fakeServer) consume(id, purpose, device string) ([]byte, bool) {
	ch, ok := f.challenge[id]
	delete(f.challenge, id)
	if !ok || ch.purpose != purpose || ch.device != device {
		return nil, false
	}
	return ch.nonce, true
}

func (f *fakeServer) challenges(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Purpose    string `json:"purpose"`
		DeviceID   string `json:"device_id"`
		ApprovalID string `json:"approval_id"`
	}
	if !f.decode(w, r, &req) {
		return
	}
	forApproval := req.Purpose == PurposeApprove || req.Purpose == PurposeDecline
	if (req.Purpose == PurposeBind) != (req.DeviceID == "") || forApproval != (req.ApprovalID != "") {
		fail(w, http.StatusBadRequest, "bad_request")
		return
	}
	ch := Challenge{ID: f.id("ch"), Nonce: make([]byte, 32), Purpose: req.Purpose, ExpiresAt: time.Now().Add(2 * time.Minute)}
	rand.Read(ch.Nonce)
	f.challenge[ch.ID] = fakeChallenge{ch.Nonce, req.Purpose, req.DeviceID}
	writeJSONTo(w, http.StatusCreated, ch)
}

type fakeProof struct {
	DeviceID        string `json:"device_id"`
	ChallengeID     string `json:"challenge_id"`
	DeviceSignature string `json:"device_signature"`
	PINSignature    string `json:"pin_signature"`
}

func (p fakeProof) proof() Proof {
	return Proof{DeviceSignature: unb64(p.DeviceSignature), PINSignature: unb64(p.PINSignature)}
}

func (f *fakeServer) bind(w http.ResponseWriter, r *http.Request) {
	var req struct {
		KVNR           string `json:"kvnr"`
		Password       string `json:"password"`
		ActivationCode string `json:"activation_code"`
		DeviceKey      string `json:"device_key"`
		PINKey         string `json:"pin_key"`
		KDF            string `json:"kdf"`
		Name           string `json:"name"`
		Model          string `json:"model"`
		fakeProof
	}
	if !f.decode(w, r, &req) {
		return
	}
	nonce, ok := f.consume(req.ChallengeID, PurposeBind, "")
	if !ok || req.KVNR != fakeKVNR || req.Password != fakePassword || req.ActivationCode != fakeCode {
		fail(w, http.StatusUnauthorized, "bind_refused")
		return
	}
	if _, err := ParseKDF([]byte(req.KDF)); err != nil {
		fail(w, http.StatusBadRequest, "invalid_field")
		return
	}
	dk, pk := unb64(req.DeviceKey), unb64(req.PINKey)
	h := ContentHash(PurposeBind, "", BindContent(dk, pk, []byte(req.KDF), req.Name, req.Model))
	if devOK, pinOK := VerifyProof(dk, pk, SignedMessage(PurposeBind, req.ChallengeID, nonce, h), req.proof()); !devOK || !pinOK {
		fail(w, http.StatusUnauthorized, "bind_refused")
		return
	}
	id := f.id("dev")
	f.devices[id] = &fakeDevice{deviceKey: dk, pinKey: pk, kdf: req.KDF, name: req.Name, model: req.Model}
	writeJSONTo(w, http.StatusCreated, map[string]string{"device_id": id, "level": "substantial"})
}

// authenticate checks a proof like the server: device signature first (a
// failure never counts), then one PIN attempt.
func (f *fakeServer) authenticate(w http.ResponseWriter, dev, purpose string, contentHash [ContentHashSize]byte, p fakeProof) (*fakeDevice, bool) {
	nonce, ok := f.consume(p.ChallengeID, purpose, dev)
	d := f.devices[dev]
	if !ok || d == nil {
		fail(w, http.StatusUnauthorized, "authentication_failed")
		return nil, false
	}
	msg := SignedMessage(purpose, p.ChallengeID, nonce, contentHash)
	devOK, pinOK := VerifyProof(d.deviceKey, d.pinKey, msg, p.proof())
	switch {
	case !devOK:
		fail(w, http.StatusUnauthorized, "authentication_failed")
		return nil, false
	case d.locked:
		fail(w, http.StatusLocked, "pin_locked")
		return nil, false
	case !pinOK:
		d.failures++
		if d.failures >= f.pinLimit {
			d.locked = true
			fail(w, http.StatusLocked, "pin_locked")
			return nil, false
		}
		writeJSONTo(w, http.StatusUnauthorized, map[string]any{"error": "authentication_failed",
			"message": "Die Freigabe ist fehlgeschlagen.", "remaining_attempts": f.pinLimit - d.failures})
		return nil, false
	}
	d.failures = 0
	return d, true
}

func (f *fakeServer) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		fakeProof
		Method string `json:"method"`
	}
	if !f.decode(w, r, &req) {
		return
	}
	if _, ok := f.authenticate(w, req.DeviceID, PurposeLogin, ContentHash(PurposeLogin, "", nil), req.fakeProof); !ok {
		return
	}
	tok := f.id("tok")
	f.sessions[tok] = true
	writeJSONTo(w, http.StatusCreated, map[string]any{"session_token": tok, "level": "substantial", "amr": []string{"hwk", req.Method}})
}

func (f *fakeServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !f.sessions[tok] {
		fail(w, http.StatusUnauthorized, "unauthenticated")
		return false
	}
	return true
}

func (f *fakeServer) list(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	var out []map[string]any
	for id, d := range f.devices {
		out = append(out, map[string]any{"device_id": id, "name": d.name, "model": d.model, "level": "substantial",
			"bound_at": time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC), "pin_locked": d.locked})
	}
	writeJSONTo(w, http.StatusOK, out)
}

func (f *fakeServer) changePIN(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PINKey string `json:"pin_key"`
		KDF    string `json:"kdf"`
		fakeProof
	}
	if !f.decode(w, r, &req) {
		return
	}
	pk := unb64(req.PINKey)
	h := ContentHash(PurposePINChange, "", PINChangeContent(pk, []byte(req.KDF)))
	d, ok := f.authenticate(w, r.PathValue("id"), PurposePINChange, h, req.fakeProof)
	if !ok {
		return
	}
	d.pinKey, d.kdf = pk, req.KDF
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeServer) unbind(w http.ResponseWriter, r *http.Request) {
	var req fakeProof
	if !f.decode(w, r, &req) {
		return
	}
	if _, ok := f.authenticate(w, r.PathValue("id"), PurposeUnbind, ContentHash(PurposeUnbind, "", nil), req); !ok {
		return
	}
	delete(f.devices, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeServer) addApproval(action, text string, data []byte, choices []int, shown int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id("apr")
	f.approvals[id] = &fakeApproval{action: action, text: text, data: data, choices: choices, shown: shown, state: "pending"}
	return id
}

func (f *fakeServer) listApprovals(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	out := []map[string]any{}
	for id, a := range f.approvals {
		if a.state != "pending" {
			continue
		}
		h := ContentHash(a.action, a.text, a.data)
		m := map[string]any{"approval_id": id, "action": a.action, "text": a.text, "data": B64(a.data),
			"content_hash": B64(h[:]), "created_at": time.Now().UTC(), "expires_at": time.Now().Add(5 * time.Minute).UTC()}
		if a.choices != nil {
			m["number_choices"] = a.choices
		}
		if f.tamper != nil {
			f.tamper(m)
		}
		out = append(out, m)
	}
	writeJSONTo(w, http.StatusOK, out)
}

func (f *fakeServer) pending(w http.ResponseWriter, r *http.Request) *fakeApproval {
	a := f.approvals[r.PathValue("id")]
	if a == nil || a.state != "pending" {
		fail(w, http.StatusConflict, "not_pending")
		return nil
	}
	return a
}

func (f *fakeServer) approve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		fakeProof
		Method string `json:"method"`
		Number *int   `json:"number"`
	}
	if !f.decode(w, r, &req) {
		return
	}
	a := f.pending(w, r)
	if a == nil {
		return
	}
	if _, ok := f.authenticate(w, req.DeviceID, PurposeApprove, ContentHash(a.action, a.text, a.data), req.fakeProof); !ok {
		return
	}
	if a.choices != nil && (req.Number == nil || *req.Number != a.shown) {
		a.state, a.notMe = "declined", true
		fail(w, http.StatusConflict, "not_pending")
		return
	}
	a.state = "approved"
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeServer) decline(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DeviceID        string `json:"device_id"`
		ChallengeID     string `json:"challenge_id"`
		DeviceSignature string `json:"device_signature"`
		NotMe           bool   `json:"not_me"`
	}
	if !f.decode(w, r, &req) {
		return
	}
	a := f.pending(w, r)
	if a == nil {
		return
	}
	nonce, ok := f.consume(req.ChallengeID, PurposeDecline, req.DeviceID)
	d := f.devices[req.DeviceID]
	if !ok || d == nil || !VerifyDeviceSignature(d.deviceKey,
		SignedMessage(PurposeDecline, req.ChallengeID, nonce, ContentHash(a.action, a.text, a.data)), unb64(req.DeviceSignature)) {
		fail(w, http.StatusUnauthorized, "authentication_failed")
		return
	}
	a.state, a.notMe = "declined", req.NotMe
	w.WriteHeader(http.StatusNoContent)
}

// newTestDevice returns a fresh device with the cheap test KDF.
func newTestDevice(t *testing.T) *Device {
	t.Helper()
	d, err := NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.KDF = testKDF
	return d
}

func TestClientFlow(t *testing.T) {
	f, c := newFakeServer(t)
	ctx := t.Context()
	d := newTestDevice(t)

	if _, _, err := c.Bind(ctx, d, fakeKVNR, "wrong", fakeCode, "582094", "Pixel 8", "Pixel 8"); err == nil {
		t.Fatal("Bind with a wrong password succeeded")
	} else if e := (*APIError)(nil); !errors.As(err, &e) || e.Status != 401 || e.Code != "bind_refused" || e.Message == "" {
		t.Fatalf("Bind with a wrong password: %v, want a 401 bind_refused *APIError", err)
	}
	if _, _, err := c.Bind(ctx, d, fakeKVNR, fakePassword, fakeCode, "123456", "Pixel 8", ""); !errors.Is(err, ErrTrivialPIN) {
		t.Fatalf("Bind with 123456: %v, want ErrTrivialPIN", err)
	}
	id, level, err := c.Bind(ctx, d, fakeKVNR, fakePassword, fakeCode, "582094", "Pixel 8 von Änne", "Pixel 8")
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	if id == "" || level != "substantial" || d.ID != id || d.Server != c.BaseURL {
		t.Errorf("Bind = %q, %q; device %v", id, level, d)
	}
	if kdf, ok := f.lastBody["kdf"].(string); !ok || kdf != string(testKDF.canonical()) {
		t.Errorf("bind sent kdf %#v, want the canonical JSON as a string %s", f.lastBody["kdf"], testKDF.canonical())
	}
	if _, _, err := c.Bind(ctx, d, fakeKVNR, fakePassword, fakeCode, "582094", "x", ""); err == nil {
		t.Error("Bind of a bound device succeeded")
	}

	s, err := c.Login(ctx, d, "582094", AMRFingerprint)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if diff := cmp.Diff([]string{"hwk", "fpt"}, s.AMR); diff != "" || s.Level != "substantial" || s.Token == "" {
		t.Errorf("Login = %v, amr diff (-want +got):\n%s", s, diff)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), s.Token) {
		t.Error("Session prints its token")
	}
	if _, err := c.Login(ctx, d, "582094", "iris"); err == nil {
		t.Error("Login with method iris succeeded")
	}

	devs, err := c.Devices(ctx, s.Token)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	want := []DeviceInfo{{ID: id, Name: "Pixel 8 von Änne", Model: "Pixel 8", Level: "substantial",
		BoundAt: time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)}}
	if diff := cmp.Diff(want, devs); diff != "" {
		t.Errorf("Devices (-want +got):\n%s", diff)
	}

	addr := f.addApproval("address.change", "Neue Anschrift: Königstraße 12, 70173 Stuttgart", []byte(`{"street":"Königstraße 12"}`), nil, 0)
	login := f.addApproval(ActionPortalLogin, "Anmeldung im Portal", []byte(`{}`), []int{17, 42, 83}, 42)
	other := f.addApproval("bank.change", "Neue Bankverbindung", []byte(`{"iban":"DE02"}`), nil, 0)
	list, err := c.Approvals(ctx, s.Token)
	if err != nil {
		t.Fatalf("Approvals: %v", err)
	}
	byID := map[string]Approval{}
	for _, a := range list {
		byID[a.ID] = a
	}
	if len(byID) != 3 || string(byID[addr].Data) != `{"street":"Königstraße 12"}` ||
		!cmp.Equal(byID[login].Choices, []int{17, 42, 83}) || byID[addr].Choices != nil {
		t.Fatalf("Approvals = %+v", list)
	}
	if err := c.Approve(ctx, d, byID[login], "582094", "", 99); err == nil {
		t.Error("Approve with a number not offered succeeded")
	}
	if err := c.Approve(ctx, d, byID[addr], "582094", "", 42); err == nil {
		t.Error("Approve of an address change with a number succeeded")
	}
	if err := c.Approve(ctx, d, byID[login], "582094", AMRFace, 42); err != nil {
		t.Fatalf("Approve portal.login: %v", err)
	}
	if got := f.lastBody["number"]; got != float64(42) {
		t.Errorf("approve sent number %v, want 42", got)
	}
	if err := c.Approve(ctx, d, byID[addr], "582094", "", 0); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if _, ok := f.lastBody["number"]; ok {
		t.Error("approve of an address change sent a number")
	}
	if err := c.Approve(ctx, d, byID[addr], "582094", "", 0); !IsDeclinedOrExpired(err) {
		t.Errorf("second Approve: %v, want not_pending", err)
	}
	// A server that shows one text and stores another: the signature covers
	// what the app shows, so the server refuses it.
	changed := byID[other]
	changed.Text = "Neue Bankverbindung: DE99"
	if err := c.Approve(ctx, d, changed, "582094", "", 0); err == nil {
		t.Error("Approve of changed content succeeded")
	}
	if err := c.Decline(ctx, d, byID[other], true); err != nil {
		t.Fatalf("Decline: %v", err)
	}
	if _, ok := f.lastBody["pin_signature"]; ok || f.lastBody["not_me"] != true {
		t.Errorf("decline sent %v, want not_me and no pin_signature", f.lastBody)
	}
	if a := f.approvals[other]; a.state != "declined" || !a.notMe {
		t.Errorf("declined approval: %+v", a)
	}

	if err := c.ChangePIN(ctx, d, "582094", "111111"); !errors.Is(err, ErrTrivialPIN) {
		t.Errorf("ChangePIN to 111111: %v, want ErrTrivialPIN", err)
	}
	if err := c.ChangePIN(ctx, d, "582094", "905173"); err != nil {
		t.Fatalf("ChangePIN: %v", err)
	}
	if _, err := c.Login(ctx, d, "582094", ""); err == nil {
		t.Error("Login with the old PIN succeeded")
	}
	if _, err := c.Login(ctx, d, "905173", ""); err != nil {
		t.Errorf("Login with the new PIN: %v", err)
	}
	if err := c.Unbind(ctx, d, "905173"); err != nil {
		t.Fatalf("Unbind: %v", err)
	}
	if d.ID != "" || len(f.devices) != 0 {
		t.Errorf("after Unbind: device id %q, server holds %d devices", d.ID, len(f.devices))
	}
	if _, err := c.Login(ctx, d, "905173", ""); !errors.Is(err, ErrNotBound) {
		t.Errorf("Login after Unbind: %v, want ErrNotBound", err)
	}
}

func TestClientWrongPINThenLocked(t *testing.T) {
	_, c := newFakeServer(t)
	d := newTestDevice(t)
	if _, _, err := c.Bind(t.Context(), d, fakeKVNR, fakePassword, fakeCode, "582094", "Phone", ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{2, 1} {
		_, err := c.Login(t.Context(), d, "000007", "")
		if got, ok := IsWrongPIN(err); !ok || got != want {
			t.Fatalf("Login with a wrong PIN: %v; IsWrongPIN = %d, %v; want %d, true", err, got, ok, want)
		}
		if IsPINLocked(err) || IsDeclinedOrExpired(err) {
			t.Errorf("wrong PIN error %v also counts as locked or declined", err)
		}
	}
	for _, pin := range []string{"000007", "582094"} {
		_, err := c.Login(t.Context(), d, pin, "")
		if !IsPINLocked(err) {
			t.Errorf("Login with %s after the limit: %v, want pin_locked", pin, err)
		}
		if _, ok := IsWrongPIN(err); ok {
			t.Errorf("locked error %v counts as wrong PIN", err)
		}
	}
}

func TestApprovalsRefuseWrongContentHash(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(m map[string]any)
		want   error
	}{
		{"text changed after hashing", func(m map[string]any) { m["text"] = "Anmeldung im Portal (harmlos)" }, ErrContentHash},
		{"data changed after hashing", func(m map[string]any) { m["data"] = B64([]byte(`{"iban":"DE99"}`)) }, ErrContentHash},
		{"hash of other content", func(m map[string]any) { h := ContentHash("x", "", nil); m["content_hash"] = B64(h[:]) }, ErrContentHash},
		{"hash too short", func(m map[string]any) { m["content_hash"] = B64(make([]byte, 31)) }, ErrResponse},
		{"data not base64url", func(m map[string]any) { m["data"] = "e30=" }, ErrResponse},
		{"text missing", func(m map[string]any) { delete(m, "text") }, ErrResponse},
		{"choices on a bank change", func(m map[string]any) { m["number_choices"] = []int{1, 2, 3} }, ErrResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFakeServer(t)
			f.sessions["tok"] = true
			f.addApproval("bank.change", "Neue Bankverbindung", []byte(`{"iban":"DE02"}`), nil, 0)
			f.tamper = tt.tamper
			if got, err := c.Approvals(t.Context(), "tok"); !errors.Is(err, tt.want) {
				t.Errorf("Approvals = %v, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

// cannedServer answers every request with status and body.
func cannedServer(t *testing.T, status int, body string) *Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, HTTP: srv.Client()}
}

func TestClientErrorMapping(t *testing.T) {
	two := 2
	tests := []struct {
		name                    string
		status                  int
		body                    string
		want                    *APIError
		wrongPIN, locked, ended bool
	}{
		{"wrong pin", 401, `{"error":"authentication_failed","message":"Die Freigabe ist fehlgeschlagen.","remaining_attempts":2}`,
			&APIError{401, "authentication_failed", "Die Freigabe ist fehlgeschlagen.", &two}, true, false, false},
		{"refused proof", 401, `{"error":"authentication_failed","message":"Die Freigabe ist fehlgeschlagen."}`,
			&APIError{401, "authentication_failed", "Die Freigabe ist fehlgeschlagen.", nil}, false, false, false},
		{"locked", 423, `{"error":"pin_locked","message":"Die PIN ist gesperrt."}`,
			&APIError{423, "pin_locked", "Die PIN ist gesperrt.", nil}, false, true, false},
		{"not pending", 409, `{"error":"not_pending","message":"Die Anfrage ist nicht mehr offen."}`,
			&APIError{409, "not_pending", "Die Anfrage ist nicht mehr offen.", nil}, false, false, true},
		{"expired", 410, `{"error":"expired","message":"Die Anfrage ist abgelaufen."}`,
			&APIError{410, "expired", "Die Anfrage ist abgelaufen.", nil}, false, false, true},
		{"too many devices", 409, `{"error":"too_many_devices","message":"Es sind schon drei Geräte gebunden."}`,
			&APIError{409, "too_many_devices", "Es sind schon drei Geräte gebunden.", nil}, false, false, false},
		{"extra members", 400, `{"error":"invalid_field","field":"name","message":"Der Name ist zu lang."}`,
			&APIError{400, "invalid_field", "Der Name ist zu lang.", nil}, false, false, false},
		{"negative remaining", 401, `{"error":"authentication_failed","message":"x","remaining_attempts":-1}`,
			&APIError{401, "authentication_failed", "x", nil}, false, false, false},
		{"proxy page", 502, `<html>Bad Gateway</html>`, &APIError{502, "", "Bad Gateway", nil}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cannedServer(t, tt.status, tt.body)
			_, err := c.Challenge(t.Context(), PurposeLogin, "dev_1")
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if _, ok := IsWrongPIN(err); ok != tt.wrongPIN {
				t.Errorf("IsWrongPIN = %v, want %v", ok, tt.wrongPIN)
			}
			if IsPINLocked(err) != tt.locked || IsDeclinedOrExpired(err) != tt.ended {
				t.Errorf("IsPINLocked, IsDeclinedOrExpired = %v, %v; want %v, %v", IsPINLocked(err), IsDeclinedOrExpired(err), tt.locked, tt.ended)
			}
		})
	}
}

func TestClientStrictResponses(t *testing.T) {
	nonce := B64(bytes.Repeat([]byte{1}, 16))
	ok := `{"challenge_id":"ch_1","nonce":"` + nonce + `","purpose":"login","expires_at":"2030-01-02T03:04:05Z"}`
	tests := []struct {
		name, body string
		wantErr    bool
	}{
		{"valid", ok, false},
		{"unknown member ignored", strings.TrimSuffix(ok, "}") + `,"hint":1}`, false},
		{"trailing data", ok + ` {}`, true},
		{"two values", ok + ok, true},
		{"missing nonce", `{"challenge_id":"ch_1","purpose":"login","expires_at":"2030-01-02T03:04:05Z"}`, true},
		{"other purpose", strings.Replace(ok, `"login"`, `"approve"`, 1), true},
		{"not an object", `[]`, true},
		{"too large", ok + strings.Repeat(" ", MaxResponseBytes), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cannedServer(t, http.StatusCreated, tt.body)
			_, err := c.Challenge(t.Context(), PurposeLogin, "dev_1")
			if (err != nil) != tt.wantErr {
				t.Errorf("Challenge: %v, want error %v", err, tt.wantErr)
			}
		})
	}
	// Required members of the other answers.
	c := cannedServer(t, http.StatusOK, `[{"device_id":"d","name":"n","model":"m","level":"high","bound_at":"2026-01-01T00:00:00Z"}]`)
	if _, err := c.Devices(t.Context(), "tok"); !errors.Is(err, ErrResponse) {
		t.Errorf("Devices without pin_locked: %v, want ErrResponse", err)
	}
	c = cannedServer(t, http.StatusOK, `[{"device_id":"d","name":"n","model":"m","level":"high","bound_at":"2026-01-01T00:00:00Z","pin_locked":"no"}]`)
	if _, err := c.Devices(t.Context(), "tok"); !errors.Is(err, ErrResponse) {
		t.Errorf("Devices with a string pin_locked: %v, want ErrResponse", err)
	}
}

func TestCheckServerURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://kasse.example", true},
		{"https://kasse.example:8443/pforte", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://kasse.example", false},
		{"http://10.0.0.1", false},
		{"ftp://kasse.example", false},
		{"kasse.example", false},
		{"https://user:pw@kasse.example", false},
		{"https://kasse.example/?x=1", false},
		{"https://kasse.example/#frag", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckServerURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckServerURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
	c := &Client{BaseURL: "http://kasse.example"}
	if _, err := c.Challenge(t.Context(), PurposeBind, ""); !errors.Is(err, ErrServerURL) {
		t.Errorf("Challenge over http to a public host: %v, want ErrServerURL", err)
	}
}
