package phone

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/letter"
)

// fakeAppServer answers the app API for one device. It checks what it can
// cheaply (single-use challenges bound to their purpose, the bind proof, the
// activation code, the login proof); fail injects an error answer per route.
type fakeAppServer struct {
	mu         sync.Mutex
	code       string
	challenges map[string]appclient.Challenge
	deviceKey  []byte
	pinKey     []byte
	approvals  []map[string]any
	fail       map[string]func(w http.ResponseWriter)
	seen       map[string]map[string]any // last body per route
	url        string
}

const (
	appTestCode     = "q2Xr8vN4kP1sT6wY9bC3dF"
	appTestPassword = "K7PX9MRT4QWZ"
	appTestPIN      = "582094"
)

func newFakeAppServer(t *testing.T) *fakeAppServer {
	f := &fakeAppServer{code: appTestCode, challenges: map[string]appclient.Challenge{},
		fail: map[string]func(http.ResponseWriter){}, seen: map[string]map[string]any{}}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request, body map[string]any)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			defer f.mu.Unlock()
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			f.seen[pattern] = body
			if fn := f.fail[pattern]; fn != nil {
				fn(w)
				return
			}
			h(w, r, body)
		})
	}
	refuse := func(w http.ResponseWriter) {
		reply(w, 401, map[string]string{"error": "authentication_failed", "message": "Die Freigabe ist fehlgeschlagen."})
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	b64 := func(m map[string]any, k string) []byte { b, _ := appclient.UnB64(str(m, k)); return b }
	take := func(m map[string]any, purpose string) (appclient.Challenge, bool) {
		ch, ok := f.challenges[str(m, "challenge_id")]
		delete(f.challenges, ch.ID)
		return ch, ok && ch.Purpose == purpose
	}
	route("POST /api/v1/app/challenges", func(w http.ResponseWriter, r *http.Request, m map[string]any) {
		ch := appclient.Challenge{ID: fmt.Sprintf("ch_%d", len(f.challenges)+len(f.seen)), Nonce: make([]byte, 32),
			Purpose: str(m, "purpose"), ExpiresAt: time.Now().Add(2 * time.Minute)}
		rand.Read(ch.Nonce)
		ch.ID += fmt.Sprintf("_%x", ch.Nonce[:4])
		f.challenges[ch.ID] = ch
		reply(w, 201, ch)
	})
	route("POST /api/v1/devices", func(w http.ResponseWriter, r *http.Request, m map[string]any) {
		ch, ok := take(m, appclient.PurposeBind)
		dk, pk := b64(m, "device_key"), b64(m, "pin_key")
		h := appclient.ContentHash(appclient.PurposeBind, "", appclient.BindContent(dk, pk, []byte(str(m, "kdf")), str(m, "name"), str(m, "model")))
		msg := appclient.SignedMessage(appclient.PurposeBind, ch.ID, ch.Nonce, h)
		p := appclient.Proof{DeviceSignature: b64(m, "device_signature"), PINSignature: b64(m, "pin_signature")}
		if devOK, pinOK := appclient.VerifyProof(dk, pk, msg, p); !ok || !devOK || !pinOK ||
			str(m, "activation_code") != f.code || str(m, "password") != appTestPassword {
			reply(w, 401, map[string]string{"error": "bind_refused", "message": "Die Bindung ist fehlgeschlagen."})
			return
		}
		f.deviceKey, f.pinKey = dk, pk
		reply(w, 201, map[string]string{"device_id": "dev_1", "level": "substantial"})
	})
	route("POST /api/v1/app/sessions", func(w http.ResponseWriter, r *http.Request, m map[string]any) {
		ch, ok := take(m, appclient.PurposeLogin)
		msg := appclient.SignedMessage(ch.Purpose, ch.ID, ch.Nonce, appclient.ContentHash(appclient.PurposeLogin, "", nil))
		p := appclient.Proof{DeviceSignature: b64(m, "device_signature"), PINSignature: b64(m, "pin_signature")}
		if devOK, pinOK := appclient.VerifyProof(f.deviceKey, f.pinKey, msg, p); !ok || !devOK || !pinOK {
			refuse(w)
			return
		}
		reply(w, 201, map[string]any{"session_token": "tok_1", "level": "substantial", "amr": []string{"hwk", str(m, "method")}})
	})
	route("GET /api/v1/app/approvals", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if r.Header.Get("Authorization") != "Bearer tok_1" {
			reply(w, 401, map[string]string{"error": "unauthenticated", "message": "Bitte melden Sie sich an."})
			return
		}
		out := f.approvals
		if out == nil {
			out = []map[string]any{}
		}
		reply(w, 200, out)
	})
	ok := func(w http.ResponseWriter, r *http.Request, _ map[string]any) { w.WriteHeader(http.StatusNoContent) }
	route("POST /api/v1/approvals/{id}/approve", ok)
	route("POST /api/v1/approvals/{id}/decline", ok)
	route("POST /api/v1/devices/{id}/pin", ok)
	route("DELETE /api/v1/devices/{id}", ok)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeAppServer) addApproval(id, action, text string, data []byte, choices []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := appclient.ContentHash(action, text, data)
	m := map[string]any{"approval_id": id, "action": action, "text": text, "data": appclient.B64(data),
		"content_hash": appclient.B64(h[:]), "created_at": time.Now().UTC(), "expires_at": time.Now().Add(5 * time.Minute).UTC()}
	if choices != nil {
		m["number_choices"] = choices
	}
	f.approvals = append(f.approvals, m)
}

func (f *fakeAppServer) failWith(route string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[route] = func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

func (f *fakeAppServer) body(route string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[route]
}

// boundState writes a state file of a device bound to server as dev_1 with
// cheap KDF parameters, and tells f its keys.
func boundState(t *testing.T, f *fakeAppServer) string {
	t.Helper()
	d, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: appclient.MinKDFMemory, Threads: 1}
	d.ID, d.Server = "dev_1", f.url
	k, err := d.PINKey(appTestPIN)
	if err != nil {
		t.Fatal(err)
	}
	f.deviceKey, f.pinKey = d.PublicKey(), []byte(k.Public().(ed25519.PublicKey))
	path := filepath.Join(t.TempDir(), "phone.json")
	if err := writeAppState(path, &appState{device: d}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAppUsage(t *testing.T) {
	c := newCLI(t)
	state := filepath.Join(t.TempDir(), "s.json")
	act := []string{"app", "activate", "--server", "http://127.0.0.1:1", "--state", state, "--kvnr", "X110411675",
		"--password", "pw", "--code-url", "http://127.0.0.1:1/app/activate#abc"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"app"}, "Subcommands"},
		{"unknown subcommand", []string{"app", "frobnicate"}, "Subcommands"},
		{"unknown flag", []string{"app", "login", "--frob"}, "frob"},
		{"activate without flags", []string{"app", "activate"}, "--kvnr, --password, --pin, --server, --state required"},
		{"activate trivial pin", append(act, "--pin", "123456"), "too easy"},
		{"activate same digits", append(act, "--pin", "777777"), "too easy"},
		{"activate short pin", append(act, "--pin", "1234"), "6 digits"},
		{"activate letter and url", append(act, "--pin", appTestPIN, "--letter", "x.pdf"), "exactly one"},
		{"activate plain http", []string{"app", "activate", "--server", "http://kasse.example", "--state", state, "--kvnr", "K",
			"--password", "pw", "--pin", appTestPIN, "--code-url", "x"}, "https"},
		{"login without pin", []string{"app", "login", "--state", state}, "--pin required"},
		{"login bad method", []string{"app", "login", "--state", state, "--pin", appTestPIN, "--method", "iris"}, "--method"},
		{"approve without id", []string{"app", "approve", "--state", state, "--pin", appTestPIN}, "--id required"},
		{"decline without state", []string{"app", "decline", "--id", "a"}, "--state required"},
		{"change-pin trivial", []string{"app", "change-pin", "--state", state, "--pin", appTestPIN, "--new-pin", "654321"}, "--new-pin"},
		{"unbind letters as pin", []string{"app", "unbind", "--state", state, "--pin", "abcdef"}, "6 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := c.run("", tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit code %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
	if code, _, _ := c.run("", "app", "login", "-h"); code != 0 {
		t.Errorf("app login -h: exit code %d, want 0", code)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("a usage error left a state file: %v", err)
	}
}

func TestAppStateFile(t *testing.T) {
	f := newFakeAppServer(t)
	path := boundState(t, f)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	st, err := readAppState(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.device.ID != "dev_1" || st.device.Server != f.url || st.SessionToken != "" {
		t.Errorf("read back %v, token %q", st.device, st.SessionToken)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("state directory holds %d entries, want only the state file (no temporary files left)", len(entries))
	}

	c := newCLI(t)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c.run("", "app", "login", "--state", path, "--pin", appTestPIN); code != 1 || !strings.Contains(errOut, "chmod 600") {
		t.Errorf("login with a 0644 state file: exit code %d, stderr %q; want 1 and a chmod hint", code, errOut)
	}
	os.Chmod(path, 0o600)
	if code, _, errOut := c.run("", "app", "approvals", "--state", path); code != 1 || !strings.Contains(errOut, "pforte app login") {
		t.Errorf("approvals without a session: exit code %d, stderr %q", code, errOut)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	os.WriteFile(garbage, []byte(`{"version":1,"device":{},"extra":1}`), 0o600)
	if code, _, _ := c.run("", "app", "login", "--state", garbage, "--pin", appTestPIN); code != 1 {
		t.Errorf("login with a malformed state file: exit code %d, want 1", code)
	}
	if code, _, errOut := c.run("", "app", "activate", "--server", f.url, "--state", path, "--kvnr", "X110411675",
		"--password", appTestPassword, "--pin", appTestPIN, "--code-url", f.url+"/app/activate#"+appTestCode); code != 1 || !strings.Contains(errOut, "already") {
		t.Errorf("activate over a bound state: exit code %d, stderr %q", code, errOut)
	}
}

func TestAppCommands(t *testing.T) {
	f := newFakeAppServer(t)
	path := boundState(t, f)
	c := newCLI(t)
	code, out, errOut := c.run("", "app", "login", "--state", path, "--pin", appTestPIN, "--method", "face", "--json")
	if code != 0 {
		t.Fatalf("login: exit code %d, stderr %q", code, errOut)
	}
	var login struct {
		Level string   `json:"level"`
		AMR   []string `json:"amr"`
	}
	if err := json.Unmarshal([]byte(out), &login); err != nil || login.Level != "substantial" || strings.Join(login.AMR, " ") != "hwk face" {
		t.Errorf("login --json printed %q (%v)", out, err)
	}
	if st, err := readAppState(path); err != nil || st.SessionToken != "tok_1" {
		t.Fatalf("session token not stored: %v", err)
	}

	f.addApproval("apr_addr", "address.change", "Neue Anschrift:\nKönigstraße 12, 70173 Stuttgart", []byte(`{"street":"Königstraße 12"}`), nil)
	f.addApproval("apr_login", appclient.ActionPortalLogin, "Anmeldung im Portal", []byte(`{}`), []int{17, 42, 83})
	code, out, errOut = c.run("", "app", "approvals", "--state", path)
	if code != 0 {
		t.Fatalf("approvals: exit code %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"2 pending", "apr_addr", "Königstraße 12, 70173 Stuttgart", "apr_login", "[17 42 83]"} {
		if !strings.Contains(out, want) {
			t.Errorf("approvals output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = c.run("", "app", "approvals", "--state", path, "--json")
	var list []approvalJSON
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 || list[1].Choices[1] != 42 {
		t.Errorf("approvals --json: code %d, %v, %q", code, err, out)
	}

	if code, _, errOut := c.run("", "app", "approve", "--state", path, "--id", "apr_login", "--pin", appTestPIN); code != 2 || !strings.Contains(errOut, "--number") {
		t.Errorf("approve portal login without --number: code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := c.run("", "app", "approve", "--state", path, "--id", "apr_login", "--pin", appTestPIN, "--number", "42"); code != 0 {
		t.Errorf("approve: code %d, stderr %q", code, errOut)
	}
	if b := f.body("POST /api/v1/approvals/{id}/approve"); b["number"] != float64(42) || b["device_id"] != "dev_1" {
		t.Errorf("approve sent %v", b)
	}
	if code, _, errOut := c.run("", "app", "approve", "--state", path, "--id", "apr_gone", "--pin", appTestPIN); code != 5 {
		t.Errorf("approve of an unknown approval: code %d, stderr %q; want 5", code, errOut)
	}
	if code, _, errOut := c.run("", "app", "decline", "--state", path, "--id", "apr_addr", "--not-me"); code != 0 {
		t.Errorf("decline: code %d, stderr %q", code, errOut)
	}
	if b := f.body("POST /api/v1/approvals/{id}/decline"); b["not_me"] != true || b["pin_signature"] != nil {
		t.Errorf("decline sent %v", b)
	}
	if code, _, errOut := c.run("", "app", "change-pin", "--state", path, "--pin", appTestPIN, "--new-pin", "905173"); code != 0 {
		t.Errorf("change-pin: code %d, stderr %q", code, errOut)
	}
	code, out, errOut = c.run("", "app", "unbind", "--state", path, "--pin", "905173", "--json")
	if code != 0 || !strings.Contains(out, `"unbound"`) {
		t.Errorf("unbind: code %d, out %q, stderr %q", code, out, errOut)
	}
	st, err := readAppState(path)
	if err != nil || st.device.ID != "" || st.SessionToken != "" {
		t.Errorf("after unbind the state still names a device or session: %v", err)
	}
	if code, _, errOut := c.run("", "app", "login", "--state", path, "--pin", appTestPIN); code != 1 || !strings.Contains(errOut, "activate") {
		t.Errorf("login after unbind: code %d, stderr %q", code, errOut)
	}
}

func TestAppExitCodes(t *testing.T) {
	const (
		sessions = "POST /api/v1/app/sessions"
		approve  = "POST /api/v1/approvals/{id}/approve"
		decline  = "POST /api/v1/approvals/{id}/decline"
		unbind   = "DELETE /api/v1/devices/{id}"
	)
	wrong := `{"error":"authentication_failed","message":"Die Freigabe ist fehlgeschlagen.","remaining_attempts":2}`
	locked := `{"error":"pin_locked","message":"Die Freigabe-PIN ist gesperrt."}`
	tests := []struct {
		name   string
		route  string
		status int
		body   string
		args   []string
		want   int
		stderr string
	}{
		{"login wrong pin", sessions, 401, wrong, []string{"login", "--pin", "000007"}, 3, "2 attempt(s) remaining"},
		{"login refused proof", sessions, 401, `{"error":"authentication_failed","message":"Die Freigabe ist fehlgeschlagen."}`,
			[]string{"login", "--pin", appTestPIN}, 1, "authentication_failed"},
		{"login locked", sessions, 423, locked, []string{"login", "--pin", appTestPIN}, 4, "gesperrt"},
		{"approve wrong pin", approve, 401, wrong, []string{"approve", "--id", "apr_1", "--pin", "000007"}, 3, "remaining"},
		{"approve locked", approve, 423, locked, []string{"approve", "--id", "apr_1", "--pin", appTestPIN}, 4, "locked"},
		{"approve not pending", approve, 409, `{"error":"not_pending","message":"Die Anfrage ist nicht mehr offen."}`,
			[]string{"approve", "--id", "apr_1", "--pin", appTestPIN}, 5, "nicht mehr offen"},
		{"decline expired", decline, 410, `{"error":"expired","message":"Die Anfrage ist abgelaufen."}`,
			[]string{"decline", "--id", "apr_1"}, 5, "abgelaufen"},
		{"unbind server error", unbind, 500, `{"error":"internal","message":"Ein Fehler ist aufgetreten."}`,
			[]string{"unbind", "--pin", appTestPIN}, 1, "500"},
		{"unbind wrong pin", unbind, 401, wrong, []string{"unbind", "--pin", "000007"}, 3, "remaining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAppServer(t)
			path := boundState(t, f)
			st, err := readAppState(path)
			if err != nil {
				t.Fatal(err)
			}
			st.SessionToken = "tok_1"
			if err := writeAppState(path, st); err != nil {
				t.Fatal(err)
			}
			f.addApproval("apr_1", "bank.change", "Neue Bankverbindung", []byte(`{"iban":"DE02"}`), nil)
			f.failWith(tt.route, tt.status, tt.body)
			args := append([]string{"app", tt.args[0], "--state", path}, tt.args[1:]...)
			code, _, errOut := newCLI(t).run("", args...)
			if code != tt.want || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, errOut, tt.want, tt.stderr)
			}
			if after, err := readAppState(path); err != nil || after.device.ID != "dev_1" {
				t.Errorf("a failed command changed the device id in the state (%v)", err)
			}
		})
	}
}

func TestAppActivateFromLetter(t *testing.T) {
	f := newFakeAppServer(t)
	r, err := letter.NewRenderer(letter.Sender{Name: "Beispiel-Krankenkasse Süd", Street: "Königstraße 12",
		PostalCity: "70173 Stuttgart", Phone: "0800 123 456 7", Web: "www.beispiel-kasse.de"})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := r.Render(letter.Letter{ID: "PB-2026-000123", Kind: letter.KindPassword,
		Date:      time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		Recipient: letter.Recipient{Lines: []string{"Frau Änne Müller", "Straße des 17. Juni 5", "80331 München"}},
		KVNR:      "X110411675", InitialPassword: appTestPassword, ActivationURL: f.url + "/app/activate#" + appTestCode,
		ValidUntil: time.Date(2026, 12, 29, 23, 59, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	letterPath, state := filepath.Join(dir, "letter.pdf"), filepath.Join(dir, "phone.json")
	if err := os.WriteFile(letterPath, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	code, out, errOut := c.run(appTestPassword+"\n", "app", "activate", "--server", f.url, "--state", state, "--letter", letterPath,
		"--kvnr", "X110411675", "--password", "-", "--pin", appTestPIN, "--name", "Pixel 8 von Änne", "--json")
	if code != 0 {
		t.Fatalf("activate --letter: exit code %d, stderr %q", code, errOut)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["device_id"] != "dev_1" || got["level"] != "substantial" {
		t.Errorf("activate --json printed %q (%v)", out, err)
	}
	if b := f.body("POST /api/v1/devices"); b["activation_code"] != appTestCode || b["name"] != "Pixel 8 von Änne" {
		t.Errorf("bind sent activation code %v, name %v; want %q", b["activation_code"], b["name"], appTestCode)
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v", fi, err)
	}
	st, err := readAppState(state)
	if err != nil || st.device.ID != "dev_1" || st.device.Server != f.url {
		t.Fatalf("state after activate: %v", err)
	}
	raw, _ := os.ReadFile(state)
	for _, secret := range []string{appTestPIN, appTestPassword, appTestCode} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("state file contains %q", secret)
		}
	}
	// The PIN chosen at activation works for the login.
	if code, out, errOut := c.run("", "app", "login", "--state", state, "--pin", appTestPIN); code != 0 || !strings.Contains(out, "substantial") {
		t.Errorf("login after activate: code %d, out %q, stderr %q", code, out, errOut)
	}

	// A PDF without the letter's link: the command says what to do instead.
	other := filepath.Join(dir, "other.pdf")
	if err := os.WriteFile(other, bytes.ReplaceAll(pdf, []byte("/URI ("), []byte("/URX (")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = c.run("", "app", "activate", "--server", f.url, "--state", filepath.Join(dir, "other.json"), "--letter", other,
		"--kvnr", "X110411675", "--password", appTestPassword, "--pin", appTestPIN)
	if code != 1 || !strings.Contains(errOut, "no activation link") || !strings.Contains(errOut, "--code-url") {
		t.Errorf("activate with a letter without its link: code %d, stderr %q", code, errOut)
	}
}

func TestActivationCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://portal.beispiel-kasse.de/app/activate#q2Xr8vN4", "q2Xr8vN4", true},
		{"  q2Xr8vN4\n", "q2Xr8vN4", true},
		{"https://portal.beispiel-kasse.de/app/activate", "", false},
		{"https://evil.example/other#q2Xr8vN4", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := activationCode(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("activationCode(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestAppEndToEnd drives the real server (`pforte demo`) with `pforte app` as
// the phone: a password letter is requested, its initial password replaced,
// then the letter's QR code binds the device; login, a wrong PIN, a PIN change
// and unbinding follow.

// cli runs `pforte app` as the command does.
type cli struct{ t *testing.T }

func newCLI(t *testing.T) cli { return cli{t: t} }

// run runs the command line args, which start with "app" as typed.
func (c cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	if len(args) == 0 || args[0] != "app" {
		c.t.Fatalf("not an app command line: %q", args)
	}
	var out, errOut bytes.Buffer
	code = Run(c.t.Context(), Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}, args[1:])
	return code, out.String(), errOut.String()
}
