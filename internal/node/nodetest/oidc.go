package nodetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/store"
)

// The standard relying parties (StandardClients) and their secrets.
const (
	// Bonus is a bonus programme: every level, the KVNR, refresh tokens,
	// pairwise subjects.
	Bonus       = "bonus"
	BonusSecret = "bonus-secret-0123456789abcdefghijklmnop"
	// EPA is a client not allowed the KVNR, with public subjects.
	EPA       = "epa"
	EPASecret = "epa-secret-0123456789abcdefghijklmnopqr"
	// KasseApp asks for approvals by CIBA.
	KasseApp       = "kasse-app"
	KasseAppSecret = "ciba-secret-0123456789abcdefghijklmnop"
)

// StandardClients are the relying parties of the OpenID tests, for
// Options.Clients: Bonus ("Bonusprogramm") redirects to redirect and after
// a logout to redirect+"/abgemeldet", EPA ("ePA") to redirect too, and
// KasseApp ("Kasse-App") uses CIBA with payment_initiation and
// claim_submission details.
func StandardClients(redirect string) []oidc.ClientConfig {
	return []oidc.ClientConfig{
		{ID: Bonus, Name: "Bonusprogramm", Secret: BonusSecret, RedirectURIs: []string{redirect},
			PostLogoutRedirectURIs: []string{redirect + "/abgemeldet"},
			Scopes:                 []string{oidc.ScopeProfile, oidc.ScopeKVNR, oidc.ScopeOfflineAccess},
			Levels:                 []string{"low", "substantial", "high"}},
		{ID: EPA, Name: "ePA", Secret: EPASecret, RedirectURIs: []string{redirect}, SubjectType: oidc.SubjectPublic,
			Scopes: []string{oidc.ScopeProfile}},
		KasseAppClient(),
	}
}

// KasseAppClient is the client KasseApp of StandardClients alone
// ("Kasse-App"): it asks for approvals by CIBA, with payment_initiation
// and claim_submission details, and needs no redirect URI.
func KasseAppClient() oidc.ClientConfig {
	return oidc.ClientConfig{ID: KasseApp, Name: "Kasse-App", Secret: KasseAppSecret, CIBA: true, Scopes: []string{oidc.ScopeProfile},
		AuthorizationDetailsTypes: []string{"payment_initiation", "claim_submission"}}
}

// Issuer is the OpenID provider's issuer URL (with Options.Clients).
func (n *Node) Issuer() string { return n.URL + "/oidc" }

// RPServer serves a relying party's redirect target until the test ends: a
// page saying "Relying party" at every path. Browserless stops before it, a
// real browser lands on it.
func RPServer(t testing.TB) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write([]byte("<!DOCTYPE html><title>RP</title><main>Relying party</main>"))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// RelyingParty is the client Bonus as go-oidc and x/oauth2 make it: what a
// relying party's own code does. Tests may change Conf and Verifier for
// another client.
type RelyingParty struct {
	Conf     oauth2.Config
	Verifier *gooidc.IDTokenVerifier
	Provider *gooidc.Provider
	// Ctx carries the HTTP client go-oidc and x/oauth2 use.
	Ctx context.Context
}

// NewRelyingParty discovers the provider at issuer and returns Bonus with
// redirect as its redirect URI, asking for openid, profile, kvnr and
// offline_access, accepting ES256 ID tokens.
func NewRelyingParty(t testing.TB, issuer, redirect string) *RelyingParty {
	t.Helper()
	ctx := gooidc.ClientContext(t.Context(), &http.Client{Timeout: 10 * time.Second})
	p, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &RelyingParty{Ctx: ctx, Provider: p,
		Conf: oauth2.Config{ClientID: Bonus, ClientSecret: BonusSecret, Endpoint: p.Endpoint(), RedirectURL: redirect,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "kvnr", gooidc.ScopeOfflineAccess}},
		Verifier: p.VerifierContext(ctx, &gooidc.Config{ClientID: Bonus, SupportedSigningAlgs: []string{"ES256"}})}
}

// AuthStart is one authorization request as the relying party sends it:
// the URL to open and what the relying party keeps to finish it.
type AuthStart struct {
	URL, State, Nonce, Verifier string
}

// Start makes an authorization request with a fresh state, nonce and PKCE
// verifier (S256), and opts.
func (rp *RelyingParty) Start(opts ...oauth2.AuthCodeOption) AuthStart {
	s := AuthStart{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	opts = append(opts, oauth2.S256ChallengeOption(s.Verifier), gooidc.Nonce(s.Nonce))
	s.URL = rp.Conf.AuthCodeURL(s.State, opts...)
	return s
}

// Finish checks the redirect's state, exchanges the code with the verifier
// and verifies the ID token and its nonce. It fails the test on any error.
func (rp *RelyingParty) Finish(t testing.TB, s AuthStart, redirected *url.URL) (*oauth2.Token, *gooidc.IDToken, IDClaims) {
	t.Helper()
	q := redirected.Query()
	if q.Get("state") != s.State {
		t.Fatalf("state: got %q, want %q (redirect %s)", q.Get("state"), s.State, redirected)
	}
	if q.Get("error") != "" {
		t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	tok, err := rp.Conf.Exchange(rp.Ctx, q.Get("code"), oauth2.VerifierOption(s.Verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(rp.Ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != s.Nonce {
		t.Fatalf("nonce: got %q, want %q", idt.Nonce, s.Nonce)
	}
	var c IDClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, idt, c
}

// Refresh uses the refresh token rt once, through x/oauth2.
func (rp *RelyingParty) Refresh(rt string) (*oauth2.Token, error) {
	return rp.Conf.TokenSource(rp.Ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// IDClaims are the ID token claims the tests look at.
type IDClaims struct {
	Sub      string   `json:"sub"`
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
	AuthTime int64    `json:"auth_time"`
	KVNR     string   `json:"kvnr"`
}

// Browserless is a cookie-keeping HTTP client that follows redirects within
// Pforte and stops at those to the relying party (URLs starting with
// Redirect), standing in for a browser where a test does not need the pages
// rendered.
type Browserless struct {
	Client   *http.Client
	Redirect string
}

// NewBrowserless returns a browser without cookies that stops at redirects
// to URLs starting with redirect.
func NewBrowserless(redirect string) *Browserless {
	jar, _ := cookiejar.New(nil)
	b := &Browserless{Redirect: redirect}
	b.Client = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), b.Redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// Get follows redirects within Pforte and returns the final response's URL
// (the relying party's, if it got there), status and body.
func (b *Browserless) Get(t testing.TB, u string) (*url.URL, int, string) {
	t.Helper()
	resp, err := b.Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return b.read(t, resp)
}

// Post submits a form of the portal at base+path as a page of the same
// origin does, and returns what Get returns.
func (b *Browserless) Post(t testing.TB, base, path string, form url.Values) (*url.URL, int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return b.read(t, resp)
}

func (b *Browserless) read(t testing.TB, resp *http.Response) (*url.URL, int, string) {
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

// LoginWithPhone runs a whole sign-in of the client Bonus through the
// portal without a browser: the authorization request at authURL, the login
// of p with the password pw, the approval of the portal login (which names
// the application) on phone with the number the page shows, and back to
// the relying party, whose URL it returns. The app reports "face" as its
// method.
func (n *Node) LoginWithPhone(t testing.TB, b *Browserless, authURL string, p store.Person, pw string, phone *Phone) *url.URL {
	t.Helper()
	u, _, page := b.Get(t, authURL)
	if u.Path != "/anmelden" || !strings.Contains(page, "Die Anwendung „Bonusprogramm“") {
		t.Fatalf("authorization request led to %s, want the login page naming the application: %s", u, page)
	}
	u, _, body := b.Post(t, n.URL, "/anmelden", url.Values{"kvnr": {p.KVNR}, "password": {pw},
		"weiter": {u.Query().Get("weiter")}})
	if u.Path != "/anmelden/freigabe" {
		t.Fatalf("login led to %s, want the phone confirmation page: %s", u, body)
	}
	number := NumberOnPage(t, body)
	a, _ := n.Pending(t, phone, approval.ActionPortalLogin)
	if !strings.HasPrefix(a.Text, "Anmeldung bei „Bonusprogramm“ über das Online-Portal am ") || !strings.Contains(string(a.Data), `"client":"bonus"`) {
		t.Errorf("the phone is asked %q with %s, want the application named", a.Text, a.Data)
	}
	// The app reports "face"; the token says what the server verified.
	if err := n.App().Approve(t.Context(), phone.Device, a, phone.PIN, "face", number); err != nil {
		t.Fatal(err)
	}
	u, _, body = b.Get(t, u.String())
	if !strings.HasPrefix(u.String(), b.Redirect) {
		t.Fatalf("after the phone's approval the browser is at %s, want the relying party: %s", u, body)
	}
	return u
}

// NumberOnPage reads the number the portal's waiting page asks to tap.
func NumberOnPage(t testing.TB, body string) int {
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

// TokenPost posts form to an endpoint of the provider (token, revocation,
// introspection, backchannel) with the client's Basic credentials (none if
// id is empty) and returns the status and the decoded JSON answer.
func TokenPost(t testing.TB, endpoint, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	return TokenPostWith(t, http.DefaultClient, endpoint, id, secret, form)
}

// TokenPostWith is TokenPost through c.
func TokenPostWith(t testing.TB, c *http.Client, endpoint, id, secret string, form url.Values) (int, map[string]any) {
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
