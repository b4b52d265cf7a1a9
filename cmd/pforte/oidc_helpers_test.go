package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// The relying parties of the OpenID tests.
const (
	rpID       = "bonus"
	rpSecret   = "bonus-secret-0123456789abcdefghijklmnop"
	epaID      = "epa" // a client not allowed the KVNR, with public subjects
	epaSecret  = "epa-secret-0123456789abcdefghijklmnopqr"
	cibaID     = "kasse-app"
	cibaSecret = "ciba-secret-0123456789abcdefghijklmnop"
	phonePIN   = "482915"
)

// oidcNode is one node with the OpenID provider on, insured persons with a
// password, and the relying party's redirect URI registered.
type oidcNode struct {
	a        *node.Node
	st       *sqlstore.Store
	base     string // the portal, e.g. http://127.0.0.1:PORT
	issuer   string
	person   store.Person   // persons[0]
	persons  []store.Person // all with the same password
	others   []store.Person // persons without an account
	password string
	phone    *appclient.Device
	app      *appclient.Client
	cfg      Config
	addr     string // where this node listens (base names the first node of several)
}

// nodeOptions change what startOIDCNode sets up.
type nodeOptions struct {
	accounts int // persons given the password; at least 1
	// production keeps the default argon2id parameters (m=19 MiB, t=2,
	// p=1) instead of cheap ones for tests.
	production bool
	// peer makes this node another node of peer's installation: the same
	// configuration (public URL, keys, clients) on a store sharing peer's
	// database, its persons and accounts already there.
	peer *oidcNode
	// dailyCap sets letters.daily_cap (0: the default).
	dailyCap int
}

// newOIDCNode starts a node on st whose client "bonus" redirects to
// redirect (and after logout to redirect+"/abgemeldet"), "epa" to redirect
// too, and "kasse-app" uses CIBA; one person has a password.
func newOIDCNode(t testing.TB, st *sqlstore.Store, redirect string) *oidcNode {
	return startOIDCNode(t, st, redirect, nodeOptions{accounts: 1})
}

func startOIDCNode(t testing.TB, st *sqlstore.Store, redirect string, o nodeOptions) *oidcNode {
	t.Helper()
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.peer != nil {
		return o.peer.another(t, st, ln)
	}
	base := "http://" + ln.Addr().String()
	k, _ := seal.GenerateKey("t1")
	cfg := defaultConfig()
	cfg.DataKeys = k.Encode()
	cfg.Audit.Key = testAuditKeyText
	cfg.PublicURL = base
	if !o.production {
		cfg.Password.MemoryKiB, cfg.Password.Time = 8*1024, 1
	}
	cfg.HTTP.LoginRatePerIP, cfg.HTTP.LoginBurstPerIP = 1_000_000, 1_000_000
	if o.dailyCap > 0 {
		cfg.Letters.DailyCap = o.dailyCap
	}
	cfg.OIDC.SubjectKey = newSubjectKey()
	cfg.OIDC.Clients = []oidc.ClientConfig{
		{ID: rpID, Name: "Bonusprogramm", Secret: rpSecret, RedirectURIs: []string{redirect},
			PostLogoutRedirectURIs: []string{redirect + "/abgemeldet"},
			Scopes:                 []string{oidc.ScopeProfile, oidc.ScopeKVNR, oidc.ScopeOfflineAccess},
			Levels:                 []string{"low", "substantial", "high"}},
		{ID: epaID, Name: "ePA", Secret: epaSecret, RedirectURIs: []string{redirect}, SubjectType: oidc.SubjectPublic,
			Scopes: []string{oidc.ScopeProfile}},
		{ID: cibaID, Name: "Kasse-App", Secret: cibaSecret, CIBA: true, Scopes: []string{oidc.ScopeProfile},
			AuthorizationDetailsTypes: []string{"payment_initiation", "claim_submission"}},
	}
	if problems := cfg.validate(needs{keys: true, http: true}); len(problems) > 0 {
		t.Fatal(problems)
	}
	a, logger := serveNode(t, cfg, st, ln)

	accounts := max(o.accounts, 1)
	var csv bytes.Buffer
	if err := registry.Generate(&csv, max(accounts, 3), 7, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	ring, _ := cfg.keyring()
	im := registry.NewImporter(st, ring, importAuditor{audit.New(st, testAuditKey(), time.Now, logger)}, time.Now)
	if _, err := im.Import(ctx, bytes.NewReader(csv.Bytes()), registry.ImportOptions{BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	all, err := firstPersons(ctx, st, csv.Bytes(), max(accounts, 3))
	if err != nil {
		t.Fatal(err)
	}
	persons := all[:accounts]
	pw, err := loadAccountPassword(a.Accounts, persons)
	if err != nil {
		t.Fatal(err)
	}
	if err := prepareAccounts(ctx, a, persons, pw); err != nil {
		t.Fatal(err)
	}
	return &oidcNode{a: a, st: st, base: base, issuer: base + "/oidc", person: persons[0], persons: persons, password: pw,
		others: all[accounts:], app: &appclient.Client{BaseURL: base}, cfg: cfg, addr: ln.Addr().String()}
}

// serveNode builds a node of cfg on st and serves it on ln until the test
// ends.
func serveNode(t testing.TB, cfg Config, st *sqlstore.Store, ln net.Listener) (*node.Node, *slog.Logger) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := buildNode(t.Context(), cfg, logger, st)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return a, logger
}

// another starts a second node of n's installation on st (which shares n's
// database), listening on ln.
func (n *oidcNode) another(t testing.TB, st *sqlstore.Store, ln net.Listener) *oidcNode {
	t.Helper()
	a, _ := serveNode(t, n.cfg, st, ln)
	m := *n
	m.a, m.st, m.addr, m.phone = a, st, ln.Addr().String(), nil
	return &m
}

// bindPhone binds the reference app client as the person's phone, with an
// activation letter's code and the password (level substantial).
func (n *oidcNode) bindPhone(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	code, err := proofing.NewActivationCode()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.st.PutOneTime(ctx, store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
		Subject: "person:" + strconv.FormatInt(int64(n.person.ID), 10), CreatedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	if _, _, err := n.app.Bind(ctx, phone, n.person.KVNR, n.password, code, phonePIN, "Testtelefon", "Pixel 8"); err != nil {
		t.Fatal(err)
	}
	n.phone = phone
}

// pending waits until the phone sees a pending request of action and
// returns it with an app session token.
func (n *oidcNode) pending(t testing.TB, action string) (appclient.Approval, string) {
	t.Helper()
	ctx := t.Context()
	s, err := n.app.Login(ctx, n.phone, phonePIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		list, err := n.app.Approvals(ctx, s.Token)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if a.Action == action {
				return a, s.Token
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pending %s request reached the phone", action)
	return appclient.Approval{}, ""
}

// relyingParty is a go-oidc and x/oauth2 client of the node.
type relyingParty struct {
	conf     oauth2.Config
	verifier *gooidc.IDTokenVerifier
	provider *gooidc.Provider
	ctx      context.Context
}

func newRelyingParty(t testing.TB, issuer, redirect string) *relyingParty {
	t.Helper()
	ctx := gooidc.ClientContext(t.Context(), &http.Client{Timeout: 10 * time.Second})
	p, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &relyingParty{ctx: ctx, provider: p,
		conf: oauth2.Config{ClientID: rpID, ClientSecret: rpSecret, Endpoint: p.Endpoint(), RedirectURL: redirect,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "kvnr", gooidc.ScopeOfflineAccess}},
		verifier: p.VerifierContext(ctx, &gooidc.Config{ClientID: rpID, SupportedSigningAlgs: []string{"ES256"}})}
}

// authStart is one authorization request as the relying party sends it.
type authStart struct {
	url, state, nonce, verifier string
}

func (rp *relyingParty) start(opts ...oauth2.AuthCodeOption) authStart {
	s := authStart{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts = append(opts, oauth2.S256ChallengeOption(s.verifier), gooidc.Nonce(s.nonce))
	s.url = rp.conf.AuthCodeURL(s.state, opts...)
	return s
}

// finish checks the redirect's state, exchanges the code with the verifier
// and verifies the ID token and its nonce.
func (rp *relyingParty) finish(t testing.TB, s authStart, redirected *url.URL) (*oauth2.Token, *gooidc.IDToken, idClaims) {
	t.Helper()
	q := redirected.Query()
	if q.Get("state") != s.state {
		t.Fatalf("state: got %q, want %q (redirect %s)", q.Get("state"), s.state, redirected)
	}
	if q.Get("error") != "" {
		t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	tok, err := rp.conf.Exchange(rp.ctx, q.Get("code"), oauth2.VerifierOption(s.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(rp.ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != s.nonce {
		t.Fatalf("nonce: got %q, want %q", idt.Nonce, s.nonce)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, idt, c
}

// refresh uses the refresh token rt once, through x/oauth2.
func (rp *relyingParty) refresh(rt string) (*oauth2.Token, error) {
	return rp.conf.TokenSource(rp.ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// idClaims are the ID token claims the tests look at.
type idClaims struct {
	Sub      string   `json:"sub"`
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
	AuthTime int64    `json:"auth_time"`
	KVNR     string   `json:"kvnr"`
}

// checkPhoneLogin checks the claims of a sign-in confirmed on the phone
// just now: acr substantial, amr password, phone, PIN and mfa (and no
// app-reported biometrics), a recent
// auth_time, and the KVNR in its claim (when kvnr is set: the client is
// allowed the scope and asked for it).
func checkPhoneLogin(t testing.TB, claims idClaims, kvnr string) {
	t.Helper()
	if claims.ACR != "http://eidas.europa.eu/LoA/substantial" {
		t.Errorf("acr = %q, want substantial", claims.ACR)
	}
	for _, m := range []string{"pwd", "hwk", "pin", "mfa"} {
		if !slices.Contains(claims.AMR, m) {
			t.Errorf("amr %v lacks %s", claims.AMR, m)
		}
	}
	// fpt and face are what an app may report, never what the server
	// verified (docs/oidc.md).
	for _, m := range []string{"fpt", "face"} {
		if slices.Contains(claims.AMR, m) {
			t.Errorf("amr %v has the app-reported %s", claims.AMR, m)
		}
	}
	if d := time.Since(time.Unix(claims.AuthTime, 0)); d < 0 || d > time.Minute {
		t.Errorf("auth_time is %v ago", d)
	}
	if kvnr != "" && claims.KVNR != kvnr {
		t.Errorf("kvnr claim = %q, want the person's %q", claims.KVNR, kvnr)
	}
}

// browserless is a cookie-keeping HTTP client that stops at redirects to
// the relying party, standing in for a browser where a test does not need
// the pages rendered.
type browserless struct {
	c        *http.Client
	redirect string
}

func newBrowserless(redirect string) *browserless {
	jar, _ := cookiejar.New(nil)
	b := &browserless{redirect: redirect}
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), b.redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// get follows redirects within Pforte and returns the final response's URL
// (the relying party's, if it got there), status and body.
func (b *browserless) get(t testing.TB, u string) (*url.URL, int, string) {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return b.read(t, resp)
}

func (b *browserless) read(t testing.TB, resp *http.Response) (*url.URL, int, string) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		u, err := resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u, resp.StatusCode, string(body)
	}
	return resp.Request.URL, resp.StatusCode, string(body)
}

// post submits a form of the portal (same origin).
func (b *browserless) post(t testing.TB, base, path string, form url.Values) (*url.URL, int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return b.read(t, resp)
}

// loginWithPhone runs a whole sign-in of the client "bonus" through the
// portal without a browser: the authorization request, the password login,
// the phone's approval of the portal login (which names the application) with
// the right number, and back to the relying party.
func (n *oidcNode) loginWithPhone(t testing.TB, b *browserless, authURL string) *url.URL {
	t.Helper()
	u, _, page := b.get(t, authURL)
	if u.Path != "/anmelden" || !strings.Contains(page, "Die Anwendung „Bonusprogramm“") {
		t.Fatalf("authorization request led to %s, want the login page naming the application: %s", u, page)
	}
	u, _, body := b.post(t, n.base, "/anmelden", url.Values{"kvnr": {n.person.KVNR}, "password": {n.password},
		"weiter": {u.Query().Get("weiter")}})
	if u.Path != "/anmelden/freigabe" {
		t.Fatalf("login led to %s, want the phone confirmation page: %s", u, body)
	}
	number := numberOnPage(t, body)
	a, _ := n.pending(t, approval.ActionPortalLogin)
	if !strings.HasPrefix(a.Text, "Anmeldung bei „Bonusprogramm“ über das Online-Portal am ") || !strings.Contains(string(a.Data), `"client":"bonus"`) {
		t.Errorf("the phone is asked %q with %s, want the application named", a.Text, a.Data)
	}
	// The app reports "face"; the token says what the server verified.
	if err := n.app.Approve(t.Context(), n.phone, a, phonePIN, "face", number); err != nil {
		t.Fatal(err)
	}
	u, _, body = b.get(t, u.String())
	if !strings.HasPrefix(u.String(), b.redirect) {
		t.Fatalf("after the phone's approval the browser is at %s, want the relying party: %s", u, body)
	}
	return u
}

// numberOnPage reads the number the waiting page asks to tap.
func numberOnPage(t testing.TB, body string) int {
	t.Helper()
	const marker = `<p class="number" aria-hidden="true">`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no number on the page: %s", body)
	}
	rest := body[i+len(marker):]
	n, err := strconv.Atoi(rest[:strings.Index(rest, "<")])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tokenPost posts form to the token endpoint with the client's Basic
// credentials and returns the status and decoded JSON body.
func tokenPost(t testing.TB, endpoint, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	return tokenPostWith(t, http.DefaultClient, endpoint, id, secret, form)
}

// tokenPostWith is tokenPost through c.
func tokenPostWith(t testing.TB, c *http.Client, endpoint, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("token endpoint answered %d without JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// s256 is the PKCE challenge of verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func digestOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
