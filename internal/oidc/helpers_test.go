package oidc

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// The clients of the provider tests.
const (
	testRP       = "bonus"
	testSecret   = "bonus-secret-0123456789abcdefghijklmnop"
	testPublic   = "spa"
	testCIBA     = "kasse-app"
	testCIBAKey  = "ciba-secret-0123456789abcdefghijklmnop"
	testRedirect = "http://127.0.0.1:1/cb"
	testPerson   = store.PersonID(7)
)

// testClock is the provider's clock in these tests: real time until a test
// moves it.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// signedIn is the browser whose portal session completes every
// authorization request: a person signed in with password and phone.
type signedIn struct{ clock *testClock }

func (b signedIn) Session(*http.Request) (store.Session, bool) {
	now := b.clock.now()
	return store.Session{TokenHash: []byte("browser-session-hash"), PersonID: testPerson, Kind: "browser",
		Level: "substantial", AMR: []string{"pwd", "hwk"}, CreatedAt: now, LastSeenAt: now,
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}, true
}

func (signedIn) EndSession(http.ResponseWriter, *http.Request) error { return nil }

// Language is what the browser asks for, as the portal's is without a
// choice.
func (signedIn) Language(r *http.Request) lang.Language {
	return lang.Negotiate(r.Header.Get("Accept-Language"))
}

// testOP is the provider on SQLite, served by an httptest server, with the
// relying party "bonus" as a go-oidc and x/oauth2 client.
type testOP struct {
	p      *Provider
	st     *sqlstore.Store
	clock  *testClock
	srv    *httptest.Server
	issuer string
	rp     *gooidc.Provider
	conf   oauth2.Config
}

func newTestOP(t *testing.T) *testOP {
	t.Helper()
	return newTestOPAt(t, 0)
}

// newTestOPAt is newTestOP with the provider's clock offset from real time.
func newTestOPAt(t *testing.T, offset time.Duration) *testOP {
	t.Helper()
	ctx := t.Context()
	o := &testOP{st: sqltest.SQLite(t), clock: &testClock{offset: offset}}
	var handler http.Handler
	o.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { handler.ServeHTTP(rw, r) }))
	t.Cleanup(o.srv.Close)
	o.issuer = o.srv.URL + "/oidc"
	key, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := signkey.New(o.st, ring, o.clock.now, signkey.Config{})
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	cfg := Config{Issuer: o.issuer, SubjectKey: []byte(strings.Repeat("k", 32)), Clients: []ClientConfig{
		{ID: testRP, Name: "Bonusprogramm", Secret: testSecret, RedirectURIs: []string{testRedirect},
			Scopes: []string{ScopeProfile, ScopeOfflineAccess}},
		{ID: testPublic, Name: "Web-App", Public: true, RedirectURIs: []string{"https://spa.example/cb"}},
		{ID: testCIBA, Name: "Kasse-App", Secret: testCIBAKey, CIBA: true, AuthorizationDetailsTypes: []string{"payment_initiation"}},
	}}
	// No approvals: these tests never reach a phone.
	o.p, err = New(cfg, o.st, keys, o.st, nil, audit.New(o.st, audit.GenerateKey(), o.clock.now, logger), signedIn{o.clock}, o.clock.now, logger)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for pattern, h := range o.p.Routes() {
		mux.Handle(pattern, h)
	}
	handler = mux
	o.rp, err = gooidc.NewProvider(gooidc.ClientContext(ctx, o.srv.Client()), o.issuer)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := o.rp.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	o.conf = oauth2.Config{ClientID: testRP, ClientSecret: testSecret, Endpoint: endpoint, RedirectURL: testRedirect,
		Scopes: []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess}}
	return o
}

// login runs the code flow of "bonus" with the signed-in browser and
// x/oauth2, and returns the tokens.
func (o *testOP) login(t *testing.T) *oauth2.Token {
	t.Helper()
	code, verifier := o.authorize(t)
	tok, err := o.conf.Exchange(gooidc.ClientContext(t.Context(), o.srv.Client()), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// authorize runs the authorization request of "bonus" with the signed-in
// browser and returns the code and its PKCE verifier.
func (o *testOP) authorize(t *testing.T) (code, verifier string) {
	t.Helper()
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	browser := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), testRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(o.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("state") != state || back.Query().Get("code") == "" {
		t.Fatalf("authorization ended %d at %q, want the redirect with a code", resp.StatusCode, resp.Header.Get("Location"))
	}
	return back.Query().Get("code"), verifier
}

// answer is a response as the header checks read it.
type answer struct {
	status    int
	challenge string // WWW-Authenticate
	ctype     string
	body      string
	fields    map[string]any // the JSON body, if any
}

// do sends req and reads the answer.
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, challenge: strings.Join(resp.Header.Values("WWW-Authenticate"), ", "),
		ctype: resp.Header.Get("Content-Type"), body: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &a.fields); err != nil && !errors.Is(err, io.EOF) {
			a.fields = nil
		}
	}
	return a
}

// post builds a form POST to path below the issuer, with Basic credentials
// unless id is empty.
func (o *testOP) post(path, id, secret string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, o.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return req
}
