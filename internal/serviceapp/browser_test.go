package serviceapp_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/serviceapp"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
)

// appServer serves the app and, for the tests, GET /api/v1/probe (a JSON
// answer like the API's) and a switch that takes the whole server
// offline (every request's connection is dropped).
type appServer struct {
	*httptest.Server
	down   atomic.Bool
	probes atomic.Int64
}

func newAppServer(t *testing.T) *appServer {
	t.Helper()
	s := &appServer{}
	mux := http.NewServeMux()
	for pattern, h := range serviceapp.New(serviceapp.Config{InsurerName: "Testkasse", Phone: "0800 000"}).Routes() {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("GET /api/v1/probe", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store") // as every API answer
		fmt.Fprintf(w, `{"n":%d}`, s.probes.Add(1))
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			panic(http.ErrAbortHandler) // the connection drops: the network is gone
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

type vectorCase struct {
	Purpose            string `json:"purpose"`
	DataHex            string `json:"data_hex"`
	ContentEncodingHex string `json:"content_encoding_hex"`
	ContentHashHex     string `json:"content_hash_hex"`
	ContentHashB64     string `json:"content_hash_b64"`
	SignedMessageHex   string `json:"signed_message_hex"`
	SignedMessageB64   string `json:"signed_message_b64"`
	PINSignatureHex    string `json:"pin_signature_hex"`
}

type vectors struct {
	DevicePublicKeyHex string       `json:"device_public_key_hex"`
	DevicePublicKeyB64 string       `json:"device_public_key_b64"`
	KDF                string       `json:"kdf"`
	PINSeedHex         string       `json:"pin_seed_hex"`
	PINPublicKeyHex    string       `json:"pin_public_key_hex"`
	PINPublicKeyB64    string       `json:"pin_public_key_b64"`
	Cases              []vectorCase `json:"cases"`
}

type browserCase struct {
	vectorCase
	ReferenceDeviceSignatureValid bool   `json:"reference_device_signature_valid"`
	ReferencePINSignatureValid    bool   `json:"reference_pin_signature_valid"`
	TamperedDeviceSignatureValid  bool   `json:"tampered_device_signature_valid"`
	TamperedPINSignatureValid     bool   `json:"tampered_pin_signature_valid"`
	BrowserDeviceSignatureHex     string `json:"browser_device_signature_hex"`
}

type browserVectors struct {
	ImportError        string        `json:"import_error"`
	KDFCanonical       string        `json:"kdf_canonical"`
	KDFMillis          float64       `json:"kdf_ms"`
	PINSeedHex         string        `json:"pin_seed_hex"`
	PINPublicKeyHex    string        `json:"pin_public_key_hex"`
	PINPublicKeyB64    string        `json:"pin_public_key_b64"`
	DevicePublicKeyB64 string        `json:"device_public_key_b64"`
	Cases              []browserCase `json:"cases"`
	B64Refused         []bool        `json:"b64_refused"`
	PINRefused         []bool        `json:"pin_refused"`
	PINAccepted        []bool        `json:"pin_accepted"`
	KDFRefused         []bool        `json:"kdf_refused"`
	NewKeyExtractable  bool          `json:"new_key_extractable"`
	NewKeyExported     bool          `json:"new_key_exported"`
}

// The app's protocol code, as the page loads it, recomputes the protocol's
// test vectors byte for byte; its device signatures verify with the Go
// reference. Any deviation of the JavaScript fails here.
func TestBrowserProtocolVectors(t *testing.T) {
	ctx := browsertest.Start(t)
	srv := newAppServer(t)
	raw, err := os.ReadFile("../../appclient/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var want vectors
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/vectors.js")
	if err != nil {
		t.Fatal(err)
	}
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	var got browserVectors
	res, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte]("("+string(script)+")("+string(raw)+")", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run the vectors in the browser: %v", err)
	}
	if err := json.Unmarshal(res, &got); err != nil {
		t.Fatal(err)
	}
	if got.ImportError != "" {
		t.Errorf("the device key of the vectors does not import: %s", got.ImportError)
	}
	eq := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", what, got, want)
		}
	}
	eq("kdf", got.KDFCanonical, want.KDF)
	eq("pin seed", got.PINSeedHex, want.PINSeedHex)
	eq("pin public key", got.PINPublicKeyHex, want.PINPublicKeyHex)
	eq("pin public key b64", got.PINPublicKeyB64, want.PINPublicKeyB64)
	eq("device public key b64", got.DevicePublicKeyB64, want.DevicePublicKeyB64)
	if len(got.Cases) != len(want.Cases) || len(want.Cases) == 0 {
		t.Fatalf("%d cases, want %d", len(got.Cases), len(want.Cases))
	}
	pub, _ := hex.DecodeString(want.DevicePublicKeyHex)
	for i, w := range want.Cases {
		g := got.Cases[i]
		eq(w.Purpose+" data", g.DataHex, w.DataHex)
		eq(w.Purpose+" content encoding", g.ContentEncodingHex, w.ContentEncodingHex)
		eq(w.Purpose+" content hash", g.ContentHashHex, w.ContentHashHex)
		eq(w.Purpose+" content hash b64", g.ContentHashB64, w.ContentHashB64)
		eq(w.Purpose+" signed message", g.SignedMessageHex, w.SignedMessageHex)
		eq(w.Purpose+" signed message b64", g.SignedMessageB64, w.SignedMessageB64)
		eq(w.Purpose+" pin signature", g.PINSignatureHex, w.PINSignatureHex)
		if !g.ReferenceDeviceSignatureValid || !g.ReferencePINSignatureValid {
			t.Errorf("%s: the reference signatures do not verify in the browser", w.Purpose)
		}
		if g.TamperedDeviceSignatureValid || g.TamperedPINSignatureValid {
			t.Errorf("%s: a signature verifies over a changed message", w.Purpose)
		}
		msg, _ := hex.DecodeString(w.SignedMessageHex)
		sig, err := hex.DecodeString(g.BrowserDeviceSignatureHex)
		if err != nil || !appclient.VerifyDeviceSignature(pub, msg, sig) {
			t.Errorf("%s: the browser's device signature %q does not verify with appclient", w.Purpose, g.BrowserDeviceSignatureHex)
		}
		pinSig, _ := hex.DecodeString(g.PINSignatureHex)
		pinPub, _ := hex.DecodeString(want.PINPublicKeyHex)
		if !appclient.VerifyPINSignature(pinPub, msg, pinSig) {
			t.Errorf("%s: the browser's PIN signature does not verify with appclient", w.Purpose)
		}
	}
	all := func(what string, bs []bool, n int) {
		t.Helper()
		if len(bs) != n || slices.Contains(bs, false) {
			t.Errorf("%s: %v", what, bs)
		}
	}
	all("strict base64url refuses", got.B64Refused, 6)
	all("trivial PINs refused", got.PINRefused, 11)
	all("good PINs accepted", got.PINAccepted, 3)
	all("non-canonical KDF refused", got.KDFRefused, 5)
	if got.NewKeyExtractable || got.NewKeyExported {
		t.Errorf("a new device key is extractable (%v) or exported (%v)", got.NewKeyExtractable, got.NewKeyExported)
	}
	t.Logf("PIN key derivation at the default KDF parameters %s in headless Chromium: %.0f ms", want.KDF, got.KDFMillis)
	if os.Getenv("PFORTE_FIGURES") != "" {
		fmt.Printf("FIGURE pin_key_derivation_ms %.0f (Argon2id %s, headless Chromium)\n", got.KDFMillis, want.KDF)
	}
}

// The page's Content-Security-Policy is in force: an injected inline script
// does not run and an inline style does not apply.
func TestBrowserCSPBlocksInline(t *testing.T) {
	ctx := browsertest.Start(t)
	srv := newAppServer(t)
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	type result struct {
		Ran      bool   `json:"ran"`
		Violated string `json:"violated"`
		Color    string `json:"color"`
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[result](`new Promise((resolve) => {
		let violated = "";
		document.addEventListener("securitypolicyviolation", (e) => { violated = violated || e.effectiveDirective; });
		const s = document.createElement("script");
		s.textContent = "window.__inline = true";
		document.body.append(s);
		const d = document.createElement("p");
		d.setAttribute("style", "color: rgb(255, 0, 0)");
		d.textContent = "x";
		document.body.append(d);
		setTimeout(() => resolve({ran: window.__inline === true, violated, color: getComputedStyle(d).color}), 300);
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if r.Ran || !strings.HasPrefix(r.Violated, "script-src") || r.Color == "rgb(255, 0, 0)" {
		t.Errorf("inline code or style is not blocked: %+v", r)
	}
}

// The service worker keeps the shell and nothing else: answers of /api/ never
// land in its cache and are never answered from it, even offline; the app
// opens offline from the shell and says that it is offline.
func TestBrowserServiceWorkerShellOnly(t *testing.T) {
	ctx := browsertest.Start(t)
	srv := newAppServer(t)
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.serviceWorker.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	// Reload so the worker controls the page, then ask the API.
	apptest.Do(t, ctx, "reload", chromedp.Reload())
	apptest.Screen(t, ctx, "Willkommen")
	controlled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.serviceWorker.controller !== null`))
	if err != nil || !controlled {
		t.Fatalf("the service worker does not control the page (%v)", err)
	}
	for range 2 {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/v1/probe").then(r => r.json()).then(j => j.n)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
	}
	cached := func() []string {
		t.Helper()
		paths, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
			const out = [];
			for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) out.push(new URL(r.url).pathname);
			return out.sort();
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return paths
	}
	paths := cached()
	if !slices.Contains(paths, "/app/") || !slices.Contains(paths, "/app/app.js") {
		t.Errorf("the shell is not cached: %v", paths)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/app/") {
			t.Errorf("the service worker cached %s", p)
		}
	}

	// The server is gone: the shell opens from the cache, the API does not.
	srv.down.Store(true)
	apptest.Do(t, ctx, "reload offline", chromedp.Reload())
	apptest.Screen(t, ctx, "Willkommen")
	answered, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/v1/probe").then(r => "answered " + r.status, () => "failed")`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if answered != "failed" {
		t.Errorf("offline, GET /api/v1/probe was %s from the service worker", answered)
	}
	for _, p := range cached() {
		if strings.HasPrefix(p, "/api/") {
			t.Errorf("an API answer is in the cache: %s", p)
		}
	}
	// The browser says it is offline: the app shows it.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true,
		DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	apptest.Do(t, ctx, "offline notice", chromedp.WaitVisible("#offline"))
	text, err := chromedp.Run(ctx, chromedp.Text("#offline"))
	if err != nil || !strings.Contains(text, "Sie sind offline") {
		t.Errorf("offline notice %q (%v)", text, err)
	}
	_ = cdp.Empty{}
}

// The screens reachable without a server meet WCAG 2.1 A and AA, on a phone's
// screen with touch, and work from the keyboard.
func TestBrowserStaticScreensAccessible(t *testing.T) {
	apptest.NeedAxe(t)
	ctx := browsertest.Start(t)
	srv := newAppServer(t)
	apptest.Do(t, ctx, "open the app on a phone",
		chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	apptest.A11y(t, ctx, "Willkommen")
	apptest.Do(t, ctx, "register", chromedp.Tap(apptest.Button("Registrieren")))
	apptest.Screen(t, ctx, "Registrieren")
	apptest.A11y(t, ctx, "Registrieren")
	// Submitting empty shows the problems, focused, with links to the fields.
	apptest.Do(t, ctx, "submit empty", chromedp.Tap(apptest.Button("Weiter")))
	text := apptest.WaitText(t, ctx, "Es gibt 4 Probleme")
	if !strings.Contains(text, "Bitte geben Sie eine Postleitzahl mit fünf Ziffern an.") {
		t.Errorf("problems: %s", text)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`))
	if err != nil || focused != "error-summary" {
		t.Errorf("the problem summary has no focus (%q, %v)", focused, err)
	}
	apptest.A11y(t, ctx, "Registrieren mit Fehlern")
	apptest.Do(t, ctx, "back", chromedp.Tap(apptest.Button("Zurück zum Start")))
	apptest.Screen(t, ctx, "Willkommen")
	// Keyboard only: Tab to "Brief ist da", Enter.
	for range 3 {
		apptest.Do(t, ctx, "tab", chromedp.KeyEvent("\t"))
		name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`))
		if strings.Contains(name, "Brief ist da") {
			break
		}
	}
	apptest.Do(t, ctx, "enter", chromedp.KeyEvent("\r"))
	apptest.Screen(t, ctx, "Brief ist da: App aktivieren")
	apptest.A11y(t, ctx, "Brief ist da")
	apptest.Do(t, ctx, "a wrong code", apptest.Fill("code", "kein code"), chromedp.Tap(`//form//button[normalize-space()="Weiter"]`))
	apptest.WaitText(t, ctx, "Das ist kein Code aus dem Brief")
	apptest.A11y(t, ctx, "Brief ist da mit Fehler")
	apptest.Do(t, ctx, "a typed link", apptest.Fill("code", srv.URL+"/app/activate#q2Xr8vN4kP1sT6wY9bC3dF"),
		chromedp.Tap(`//form//button[normalize-space()="Weiter"]`))
	apptest.Screen(t, ctx, "App aktivieren: Anmeldedaten")
	apptest.A11y(t, ctx, "Anmeldedaten")
	// The letter's link lands with the code taken, and the code leaves the address.
	apptest.Do(t, ctx, "open the letter's link", chromedp.Navigate(srv.URL+"/app/activate#q2Xr8vN4kP1sT6wY9bC3dF"))
	apptest.Screen(t, ctx, "App aktivieren: Anmeldedaten")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != srv.URL+"/app/" {
		t.Errorf("the code stays in the address: %q (%v)", loc, err)
	}
	apptest.Do(t, ctx, "forgot", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	apptest.Do(t, ctx, "forgot", chromedp.Tap(apptest.Button("Passwort vergessen")))
	apptest.Screen(t, ctx, "Passwort vergessen")
	apptest.A11y(t, ctx, "Passwort vergessen")
	apptest.Do(t, ctx, "404", chromedp.Navigate(srv.URL+"/app/gibt-es-nicht"))
	apptest.A11y(t, ctx, "404")
	for _, f := range []string{"eid?fehler=abgebrochen", "eid"} {
		apptest.Do(t, ctx, "eid return", chromedp.Navigate(srv.URL+"/app/"+f))
		apptest.WaitText(t, ctx, "Ausweis")
		apptest.A11y(t, ctx, "/app/"+f)
	}
}
