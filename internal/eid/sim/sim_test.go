package sim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const (
	clientID    = "pforte"
	secret      = "s3cret/with+special&chars"
	redirectURI = "http://rp.example/eid/callback"
)

func identities() []Identity {
	return []Identity{
		{
			Label: "Passt zum Register: Jürgen Müller", FamilyName: "Müller", GivenNames: "Jürgen Karl",
			BirthDate: "1970-03-14", Nationality: "DE",
			Address: Address{Street: "Musterstraße 12a", PostalCode: "10115", City: "Berlin", Country: "DE"},
		},
		{
			Label: "Verifizierte Angaben (OIDC4IA): Anna Schmidt", FamilyName: "Schmidt", GivenNames: "Anna",
			BirthName: "Meier", BirthDate: "1985-07", UseVerifiedClaims: true,
		},
		{Label: "Nur substantiell", FamilyName: "Low", BirthDate: "1990", ACR: ACRSubstantial},
		{Label: "Falsche Signatur", FamilyName: "Rogue", BirthDate: "1990", SignWithUnpublishedKey: true},
	}
}

type harness struct {
	sim      *Simulator
	srv      *httptest.Server
	clock    *clock
	provider *oidc.Provider
	rp       oauth2.Config
	browser  *Browser
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}}
	h.srv = httptest.NewUnstartedServer(nil)
	issuer := "http://" + h.srv.Listener.Addr().String()
	sim, err := New(Config{
		Insecure:   true,
		Issuer:     issuer,
		Clients:    []Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirectURI}}},
		Identities: identities(),
		Now:        h.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sim = sim
	h.srv.Config.Handler = sim.Handler()
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	h.provider, err = oidc.NewProvider(h.ctx(t), issuer)
	if err != nil {
		t.Fatal(err)
	}
	h.rp = oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURI,
		Endpoint: h.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "address"},
	}
	h.browser = &Browser{Client: h.srv.Client()}
	return h
}

func (h *harness) ctx(t *testing.T) context.Context {
	return oidc.ClientContext(t.Context(), h.srv.Client())
}

// flow is one authorization request of the relying party.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
}

func (h *harness) authURL(f flow) string {
	return h.rp.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce))
}

// code runs the browser part and returns the code.
func (h *harness) code(t *testing.T, f flow, identity int) string {
	t.Helper()
	loc, err := h.browser.Authorize(t.Context(), h.authURL(f), Choice{Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	if q.Get("state") != f.state || q.Get("iss") != h.sim.Issuer() || q.Get("code") == "" {
		t.Fatalf("redirect query %v lacks code, state or iss", q)
	}
	return q.Get("code")
}

func (h *harness) verifier() *oidc.IDTokenVerifier {
	return h.provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{oidc.ES256}, Now: h.clock.Now})
}

type tokenClaims struct {
	Nonce       string   `json:"nonce"`
	ACR         string   `json:"acr"`
	AMR         []string `json:"amr"`
	AuthTime    int64    `json:"auth_time"`
	FamilyName  string   `json:"family_name"`
	GivenName   string   `json:"given_name"`
	Birthdate   string   `json:"birthdate"`
	BirthFamily string   `json:"birth_family_name"`
	Address     struct {
		Street   string `json:"street_address"`
		Postal   string `json:"postal_code"`
		Locality string `json:"locality"`
	} `json:"address"`
	Verified *struct {
		Verification struct {
			TrustFramework string `json:"trust_framework"`
			Txn            string `json:"txn"`
		} `json:"verification"`
		Claims struct {
			FamilyName  string `json:"family_name"`
			BirthFamily string `json:"birth_family_name"`
			Birthdate   string `json:"birthdate"`
		} `json:"claims"`
	} `json:"verified_claims"`
	Txn string `json:"txn"`
}

func TestRoundTrip(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name     string
		identity int
		style    oauth2.AuthStyle
	}{
		{"plain claims, client_secret_basic", 0, oauth2.AuthStyleInHeader},
		{"verified claims, client_secret_post", 1, oauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := h.rp
			rp.Endpoint.AuthStyle = tc.style
			f := newFlow()
			tok, err := rp.Exchange(h.ctx(t), h.code(t, f, tc.identity), oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := h.verifier().Verify(h.ctx(t), raw)
			if err != nil {
				t.Fatal(err)
			}
			var c tokenClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Nonce != f.nonce || c.ACR != ACRHigh || c.AuthTime != h.clock.Now().Unix() {
				t.Errorf("nonce, acr, auth_time = %q, %q, %d", c.Nonce, c.ACR, c.AuthTime)
			}
			if diff := cmp.Diff([]string{"hwk", "pin"}, c.AMR); diff != "" {
				t.Errorf("amr (-want +got):\n%s", diff)
			}
			if !idt.Expiry.Equal(h.clock.Now().Add(TokenLifetime)) {
				t.Errorf("exp = %v, want 5 minutes from now", idt.Expiry)
			}
			if again := h.sim.subject(h.sim.identities[tc.identity], clientID); idt.Subject != again || idt.Subject == "" {
				t.Errorf("sub = %q, want the stable pseudonym %q", idt.Subject, again)
			}
			switch tc.identity {
			case 0:
				if c.FamilyName != "Müller" || c.GivenName != "Jürgen Karl" || c.Birthdate != "1970-03-14" ||
					c.Address.Postal != "10115" || c.Txn == "" || c.Verified != nil {
					t.Errorf("plain claims = %+v", c)
				}
			case 1:
				if c.Verified == nil || c.Verified.Verification.TrustFramework != "eidas" || c.Verified.Verification.Txn == "" ||
					c.Verified.Claims.FamilyName != "Schmidt" || c.Verified.Claims.BirthFamily != "Meier" ||
					c.Verified.Claims.Birthdate != "1985-07" || c.FamilyName != "" {
					t.Errorf("verified claims = %+v", c)
				}
			}
			info, err := h.provider.UserInfo(h.ctx(t), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var ic tokenClaims
			if err := info.Claims(&ic); err != nil {
				t.Fatal(err)
			}
			if info.Subject != idt.Subject {
				t.Errorf("userinfo sub = %q, want %q", info.Subject, idt.Subject)
			}
			if ic.FamilyName != c.FamilyName || (ic.Verified == nil) != (c.Verified == nil) {
				t.Errorf("userinfo claims %+v differ from the ID token's %+v", ic, c)
			}
		})
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	h := newHarness(t)
	f := newFlow()
	good := func() url.Values {
		u, _ := url.Parse(h.authURL(f))
		return u.Query()
	}
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string // "" for an error page without redirect
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "other") }, ""},
		{"no client", func(v url.Values) { v.Del("client_id") }, ""},
		{"wrong redirect URI", func(v url.Values) { v.Set("redirect_uri", redirectURI+"/x") }, ""},
		{"redirect URI prefix", func(v url.Values) { v.Set("redirect_uri", "http://rp.example/eid") }, ""},
		{"repeated client", func(v url.Values) { v.Add("client_id", clientID) }, ""},
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"PKCE without method", func(v url.Values) { v.Del("code_challenge_method") }, "invalid_request"},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, "invalid_request"},
		{"no nonce", func(v url.Values) { v.Del("nonce") }, "invalid_request"},
		{"no state", func(v url.Values) { v.Del("state") }, "invalid_request"},
		{"repeated state", func(v url.Values) { v.Add("state", "x") }, "invalid_request"},
		{"implicit flow", func(v url.Values) { v.Set("response_type", "id_token") }, "unsupported_response_type"},
		{"no openid scope", func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := good()
			tc.edit(v)
			resp, body, err := h.browser.Get(t.Context(), h.sim.Issuer()+"/authorize?"+v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, `role="alert"`) {
					t.Errorf("status %d, Location %q; want 400 page without redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("status %d, no redirect: %v", resp.StatusCode, err)
			}
			if got := loc.Query().Get("error"); got != tc.wantError {
				t.Errorf("error = %q, want %q", got, tc.wantError)
			}
			if len(v["state"]) == 1 && loc.Query().Get("state") != f.state {
				t.Errorf("state not returned: %v", loc.Query())
			}
		})
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	f := newFlow()
	loc, err := h.browser.Authorize(t.Context(), h.authURL(f), Choice{Cancel: true})
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != f.state || q.Has("code") {
		t.Errorf("cancel redirect query = %v, want error=access_denied with state", q)
	}
}

func TestChoiceRefuses(t *testing.T) {
	h := newHarness(t)
	f := newFlow()
	_, page, err := h.browser.Get(t.Context(), h.authURL(f))
	if err != nil {
		t.Fatal(err)
	}
	form, err := Pick(page, Choice{Identity: 0})
	if err != nil {
		t.Fatal(err)
	}
	target := h.sim.Issuer() + "/authorize"
	tests := []struct {
		name   string
		edit   func(v url.Values)
		header http.Header
		wait   time.Duration
		want   int
	}{
		{"forged value", func(v url.Values) { v.Set("form_mac", strings.Repeat("A", 43)) }, nil, 0, http.StatusForbidden},
		{"no value", func(v url.Values) { v.Del("form_mac") }, nil, 0, http.StatusForbidden},
		{"nonce changed", func(v url.Values) { v.Set("nonce", "other") }, nil, 0, http.StatusForbidden},
		{"challenge changed", func(v url.Values) {
			v.Set("code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		}, nil, 0, http.StatusForbidden},
		{"page too old", nil, nil, pageLifetime + time.Second, http.StatusForbidden},
		{"cross-site post", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}}, 0, http.StatusForbidden},
		{"foreign origin", nil, http.Header{"Origin": {"https://evil.example"}}, 0, http.StatusForbidden},
		{"unknown identity", func(v url.Values) { v.Set("identity", "99") }, nil, 0, http.StatusBadRequest},
		{"same-origin post", nil, http.Header{"Sec-Fetch-Site": {"same-origin"}}, 0, http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range form.Values {
				v[k] = append([]string(nil), vs...)
			}
			if tc.edit != nil {
				tc.edit(v)
			}
			h.clock.Advance(tc.wait)
			defer h.clock.Advance(-tc.wait)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, vs := range tc.header {
				req.Header[k] = vs
			}
			client := *h.srv.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestTokenRefuses(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name      string
		run       func(t *testing.T, f flow, code string) error
		wantError string
	}{
		{"wrong verifier", func(t *testing.T, f flow, code string) error {
			_, err := h.rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant"},
		{"no verifier", func(t *testing.T, f flow, code string) error {
			_, err := h.rp.Exchange(h.ctx(t), code)
			return err
		}, "invalid_grant"},
		{"reused code", func(t *testing.T, f flow, code string) error {
			tok, err := h.rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			if _, uerr := h.provider.UserInfo(h.ctx(t), oauth2.StaticTokenSource(tok)); uerr == nil {
				t.Error("the access token of a replayed code still works")
			}
			return err
		}, "invalid_grant"},
		{"expired code", func(t *testing.T, f flow, code string) error {
			h.clock.Advance(CodeLifetime + time.Second)
			_, err := h.rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
		{"other redirect URI", func(t *testing.T, f flow, code string) error {
			rp := h.rp
			rp.RedirectURL = redirectURI + "2"
			_, err := rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
		{"bad client secret", func(t *testing.T, f flow, code string) error {
			rp := h.rp
			rp.ClientSecret = "wrong"
			rp.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			_, err := rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_client"},
		{"bad client secret in body", func(t *testing.T, f flow, code string) error {
			rp := h.rp
			rp.ClientSecret = "wrong"
			rp.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			_, err := rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_client"},
		{"unknown client", func(t *testing.T, f flow, code string) error {
			rp := h.rp
			rp.ClientID = "other"
			rp.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			_, err := rp.Exchange(h.ctx(t), code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_client"},
		{"unknown code", func(t *testing.T, f flow, code string) error {
			_, err := h.rp.Exchange(h.ctx(t), code+"x", oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := h.clock.Now()
			defer func() { h.clock.mu.Lock(); h.clock.t = now; h.clock.mu.Unlock() }()
			f := newFlow()
			err := tc.run(t, f, h.code(t, f, 0))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *oauth2.RetrieveError", err)
			}
			if re.ErrorCode != tc.wantError {
				t.Errorf("error = %q (%s), want %q", re.ErrorCode, re.ErrorDescription, tc.wantError)
			}
		})
	}
}

func TestIDTokenChecksFailAtTheClient(t *testing.T) {
	h := newHarness(t)
	exchange := func(t *testing.T, identity int) string {
		f := newFlow()
		tok, err := h.rp.Exchange(h.ctx(t), h.code(t, f, identity), oauth2.VerifierOption(f.verifier))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		return raw
	}
	t.Run("unpublished key", func(t *testing.T) {
		if _, err := h.verifier().Verify(h.ctx(t), exchange(t, 3)); err == nil {
			t.Error("a token signed with an unpublished key verified")
		}
	})
	t.Run("expired", func(t *testing.T) {
		raw := exchange(t, 0)
		h.clock.Advance(TokenLifetime + time.Second)
		defer h.clock.Advance(-TokenLifetime - time.Second)
		var expired *oidc.TokenExpiredError
		if _, err := h.verifier().Verify(h.ctx(t), raw); !errors.As(err, &expired) {
			t.Errorf("err = %v, want *oidc.TokenExpiredError", err)
		}
	})
}

func TestUserInfoRefuses(t *testing.T) {
	h := newHarness(t)
	for _, auth := range []string{"", "Bearer", "Bearer unknown", "Basic x"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.sim.Issuer()+"/userinfo", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("Authorization %q: status %d, want 401 with invalid_token", auth, resp.StatusCode)
		}
	}
}

func TestPage(t *testing.T) {
	h := newHarness(t)
	resp, page, err := h.browser.Get(t.Context(), h.authURL(newFlow()))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<html lang="de">`, "<main>", "</main>", "<h1>Simulierter Personalausweis</h1>",
		"Nur für Entwicklung und Tests — kein echter Ausweis", "Passt zum Register: Jürgen Müller", ">Abbrechen</button>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	buttons := regexp.MustCompile(`(?s)<button[^>]*>(.*?)</button>`).FindAllStringSubmatch(page, -1)
	if len(buttons) != len(identities())+1 {
		t.Errorf("page has %d buttons, want one per identity and Abbrechen", len(buttons))
	}
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, b := range buttons {
		if strings.TrimSpace(tags.ReplaceAllString(b[1], "")) == "" {
			t.Errorf("button %q has no label", b[0])
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self' http://rp.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

func TestNew(t *testing.T) {
	good := Config{
		Insecure:   true,
		Issuer:     "http://127.0.0.1:8081",
		Clients:    []Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirectURI}}},
		Identities: identities(),
	}
	if _, err := New(good); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	notAsked := good
	notAsked.Insecure = false
	if _, err := New(notAsked); !errors.Is(err, ErrNotInsecure) {
		t.Errorf("New without Insecure = %v, want ErrNotInsecure", err)
	}
	bad := Config{
		Insecure:   true,
		Issuer:     "ftp://x/path",
		Clients:    []Client{{ID: "a"}, {ID: "a", Secret: "s", RedirectURIs: []string{"relative"}}},
		Identities: []Identity{{Label: "x", FamilyName: "y", BirthDate: "1970", ACR: "gold"}, {}},
	}
	_, err := New(bad)
	if err == nil {
		t.Fatal("New(bad) succeeded")
	}
	for _, want := range []string{"issuer", "client a: no secret", "listed twice", "relative", "acr", "identity 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
	s, _ := New(good)
	if got := s.Identities()[0].ACR; got != ACRHigh {
		t.Errorf("default ACR = %q, want %q", got, ACRHigh)
	}
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{
		Insecure:   true,
		Issuer:     "http://" + ln.Addr().String(),
		Clients:    []Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirectURI}}},
		Identities: identities(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	if _, err := oidc.NewProvider(t.Context(), s.Issuer()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
}
