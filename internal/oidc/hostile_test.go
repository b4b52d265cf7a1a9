package oidc_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestOIDCHostileInputs sends what an attacker or a broken relying party
// sends to the OpenID provider, on both databases: each refusal carries the
// error code of the specification, nothing is redirected where it was not
// registered, and nothing at all answers 5xx.
func TestOIDCHostileInputs(t *testing.T) {
	quietOP(t)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		h := newHostileOIDC(t, st)
		t.Run("authorize", h.authorize)
		t.Run("token", h.token)
		t.Run("callback", h.callback)
		t.Run("ciba", h.ciba)
		t.Run("malformed", h.malformed)
		t.Run("discovery", h.discovery)
		t.Run("end_session", h.endSession) // last: it ends the browser's session
	})
}

// hostileOIDC is a node with a bound phone and a browser signed in through
// the relying party "bonus".
type hostileOIDC struct {
	n        *oidcNode
	st       store.Store
	party    *nodetest.RelyingParty
	b        *nodetest.Browserless // signed in
	rpURL    string
	redirect string // registered for "bonus"
	tokenURL string
	tok      *oauth2.Token // of b's sign-in
	idToken  string
}

func newHostileOIDC(t *testing.T, st store.Store) *hostileOIDC {
	t.Helper()
	rp := nodetest.RPServer(t)
	h := &hostileOIDC{st: st, rpURL: rp.URL, redirect: rp.URL + "/callback"}
	h.n = newOIDCNode(t, st, h.redirect)
	h.n.bindPhone(t)
	h.party = nodetest.NewRelyingParty(t, h.n.issuer, h.redirect)
	h.tokenURL = h.party.Provider.Endpoint().TokenURL
	h.b = nodetest.NewBrowserless(rp.URL)
	s := h.party.Start()
	h.tok, _, _ = h.party.Finish(t, s, h.n.loginWithPhone(t, h.b, s.URL))
	h.idToken, _ = h.tok.Extra("id_token").(string)
	return h
}

// quietOP sends package op's log lines (it logs every refused request to
// slog's default logger) nowhere while the test runs.
func quietOP(t testing.TB) {
	old, w, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		slog.SetDefault(old)
		log.SetOutput(w)
		log.SetFlags(flags)
	})
}

// oidcAnswer is a response with its body read.
type oidcAnswer struct {
	status int
	header http.Header
	body   string
}

// errorCode is the "error" of an OAuth error object, or "".
func (a oidcAnswer) errorCode() string {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal([]byte(a.body), &e)
	return e.Error
}

// no5xx sends req and fails the test, naming the endpoint, the input and
// the answer, if the provider answers 5xx. It returns the transport's error.
func no5xx(t testing.TB, c *http.Client, req *http.Request, input string) (oidcAnswer, error) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		return oidcAnswer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a := oidcAnswer{resp.StatusCode, resp.Header, string(body)}
	if a.status >= 500 {
		t.Errorf("%s %s with %s: got %d %s, want < 500", req.Method, req.URL.Path, input, a.status, clipBody(a.body, 400))
	}
	return a, nil
}

func clipBody(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// stopAtRedirect is a client that stops at the first redirect; jar may be nil.
func stopAtRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// withParam and withoutParam change one parameter of a request.
func withParam(k, v string) func(url.Values) { return func(q url.Values) { q.Set(k, v) } }
func withoutParam(k string) func(url.Values) { return func(q url.Values) { q.Del(k) } }

// How an authorization request ends.
const (
	authToLogin        = iota // on to the login glue
	authRefused               // 400 here, redirected nowhere
	authErrorRedirect         // the error at the registered redirect URI with the state
	authLoginOrInvalid        // authToLogin or authErrorRedirect with invalid_request, never server_error
)

func (h *hostileOIDC) authorize(t *testing.T) {
	verifier := oauth2.GenerateVerifier()
	base := func() url.Values {
		return url.Values{"client_id": {rpID}, "redirect_uri": {h.redirect}, "response_type": {"code"},
			"scope": {"openid profile"}, "state": {"st-123"}, "nonce": {"n-123"},
			"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}
	}
	u, _ := url.Parse(h.redirect)
	port, _ := strconv.Atoi(u.Port())
	invalid := []string{"invalid_request"}
	cases := []struct {
		name   string
		mod    func(url.Values)
		want   int
		codes  []string // for authErrorRedirect
		may400 bool     // authErrorRedirect may instead be refused
	}{
		{"well-formed", nil, authToLogin, nil, false},
		{"redirect_uri with a trailing slash", withParam("redirect_uri", h.redirect+"/"), authRefused, nil, false},
		{"redirect_uri on another port", withParam("redirect_uri", fmt.Sprintf("http://127.0.0.1:%d/callback", port+1)), authRefused, nil, false},
		{"redirect_uri with an extra query", withParam("redirect_uri", h.redirect+"?x=1"), authRefused, nil, false},
		{"redirect_uri with an empty query", withParam("redirect_uri", h.redirect+"?"), authRefused, nil, false},
		{"redirect_uri with a fragment", withParam("redirect_uri", h.redirect+"#x"), authRefused, nil, false},
		{"redirect_uri on localhost", withParam("redirect_uri", fmt.Sprintf("http://localhost:%d/callback", port)), authRefused, nil, false},
		{"redirect_uri in capitals", withParam("redirect_uri", strings.Replace(h.redirect, "/callback", "/Callback", 1)), authRefused, nil, false},
		{"redirect_uri percent-encoded", withParam("redirect_uri", strings.Replace(h.redirect, "/callback", "/%63allback", 1)), authRefused, nil, false},
		{"redirect_uri with dot segments", withParam("redirect_uri", h.redirect+"/../callback"), authRefused, nil, false},
		{"redirect_uri with user info", withParam("redirect_uri", strings.Replace(h.redirect, "http://", "http://evil@", 1)), authRefused, nil, false},
		{"redirect_uri over https", withParam("redirect_uri", strings.Replace(h.redirect, "http://", "https://", 1)), authRefused, nil, false},
		{"redirect_uri elsewhere", withParam("redirect_uri", "https://evil.example/callback"), authRefused, nil, false},
		{"redirect_uri missing", withoutParam("redirect_uri"), authRefused, nil, false},
		{"client_id unknown", withParam("client_id", "evil"), authRefused, nil, false},
		{"client_id missing", withoutParam("client_id"), authRefused, nil, false},
		{"client_id of the CIBA client", withParam("client_id", cibaID), authRefused, nil, false},
		{"code_challenge missing", withoutParam("code_challenge"), authErrorRedirect, invalid, true},
		{"code_challenge_method plain", func(q url.Values) { q.Set("code_challenge_method", "plain"); q.Set("code_challenge", verifier) },
			authErrorRedirect, invalid, true},
		{"code_challenge_method missing", withoutParam("code_challenge_method"), authErrorRedirect, invalid, true},
		{"code_challenge_method unknown", withParam("code_challenge_method", "S512"), authErrorRedirect, invalid, true},
		{"code_challenge one character short", withParam("code_challenge", s256(verifier)[1:]), authErrorRedirect, invalid, true},
		{"code_challenge one character long", withParam("code_challenge", s256(verifier)+"A"), authErrorRedirect, invalid, true},
		{"code_challenge in standard base64", withParam("code_challenge", strings.Repeat("+/", 21)+"A"), authErrorRedirect, invalid, true},
		{"code_challenge padded", withParam("code_challenge", s256(verifier)[:42]+"="), authErrorRedirect, invalid, true},
		{"code_challenge not ASCII", withParam("code_challenge", strings.Repeat("ä", 21)+"A"), authErrorRedirect, invalid, true},
		{"response_type token", withParam("response_type", "token"), authErrorRedirect,
			[]string{"unsupported_response_type", "unauthorized_client", "invalid_request"}, true},
		{"response_type id_token", withParam("response_type", "id_token"), authErrorRedirect,
			[]string{"unsupported_response_type", "unauthorized_client", "invalid_request"}, true},
		{"response_type code token", withParam("response_type", "code token"), authErrorRedirect,
			[]string{"unsupported_response_type", "unauthorized_client", "invalid_request"}, true},
		{"response_type missing", withoutParam("response_type"), authErrorRedirect, []string{"invalid_request", "unsupported_response_type"}, true},
		{"response_mode fragment", withParam("response_mode", "fragment"), authErrorRedirect, invalid, true},
		{"response_mode form_post", withParam("response_mode", "form_post"), authErrorRedirect, invalid, true},
		{"state of 512 bytes", withParam("state", strings.Repeat("s", 512)), authToLogin, nil, false},
		{"state of 513 bytes", withParam("state", strings.Repeat("s", 513)), authErrorRedirect, invalid, true},
		{"state of 100 kB", withParam("state", strings.Repeat("s", 100_000)), authErrorRedirect, invalid, true},
		{"nonce of 512 bytes", withParam("nonce", strings.Repeat("n", 512)), authToLogin, nil, false},
		{"nonce of 513 bytes", withParam("nonce", strings.Repeat("n", 513)), authErrorRedirect, invalid, true},
		{"state with a NUL", withParam("state", "a\x00b"), authLoginOrInvalid, invalid, true},
		{"state with control characters", withParam("state", "a\x01\x1b\x7fb"), authLoginOrInvalid, invalid, true},
		{"state not UTF-8", withParam("state", "a\xff\xfeb"), authLoginOrInvalid, invalid, true},
		{"nonce with a NUL", withParam("nonce", "a\x00b"), authLoginOrInvalid, invalid, true},
		{"nonce not UTF-8", withParam("nonce", "a\xffb"), authLoginOrInvalid, invalid, true},
		{"acr_values not UTF-8", withParam("acr_values", "urn:\xff"), authLoginOrInvalid, invalid, true},
		{"acr_values with a NUL", withParam("acr_values", "urn:\x00"), authLoginOrInvalid, invalid, true},
		{"prompt not UTF-8", withParam("prompt", "\xff"), authLoginOrInvalid, invalid, true},
		{"acr_values unknown only", withParam("acr_values", "urn:unknown:acr"), authToLogin, nil, false},
		{"acr_values unknown and substantial", withParam("acr_values", "urn:unknown:acr http://eidas.europa.eu/LoA/substantial"), authToLogin, nil, false},
		{"acr_values nine", withParam("acr_values", strings.Repeat("urn:x ", 9)), authErrorRedirect, invalid, true},
		{"prompt none and login", withParam("prompt", "none login"), authErrorRedirect, invalid, true},
		{"scope missing", withoutParam("scope"), authErrorRedirect, invalid, true},
		{"max_age negative", withParam("max_age", "-1"), authRefused, nil, false},
		{"max_age not a number", withParam("max_age", "soon"), authRefused, nil, false},
		{"request object", withParam("request", "eyJhbGciOiJub25lIn0.e30."), authErrorRedirect,
			[]string{"request_not_supported", "invalid_request"}, true},
		{"id_token_hint forged", withParam("id_token_hint", "eyJhbGciOiJub25lIn0.e30."), authErrorRedirect,
			[]string{"login_required", "invalid_request"}, true},
	}
	c := stopAtRedirect(nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			if tc.mod != nil {
				tc.mod(q)
			}
			req, _ := http.NewRequest(http.MethodGet, h.n.issuer+"/authorize?"+q.Encode(), nil)
			a, err := no5xx(t, c, req, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			loc := a.header.Get("Location")
			switch {
			case tc.want == authToLogin || (tc.want == authLoginOrInvalid && strings.HasPrefix(loc, "/oidc/")):
				if a.status != http.StatusFound || !strings.HasPrefix(loc, "/oidc/login?id=") {
					t.Errorf("got %d to %q, want 302 to the login glue: %s", a.status, loc, clipBody(a.body, 200))
				}
			case tc.want == authRefused || (tc.may400 && a.status == http.StatusBadRequest):
				if a.status != http.StatusBadRequest || loc != "" {
					t.Errorf("got %d to %q, want 400 and no redirect: %s", a.status, loc, clipBody(a.body, 200))
				}
			default:
				h.wantErrorRedirect(t, a, q.Get("state"), tc.codes)
			}
		})
	}

	// prompt=none in a browser without a session: login_required at the
	// relying party, with the state.
	s := h.party.Start(oauth2.SetAuthURLParam("prompt", "none"))
	back, status, body := nodetest.NewBrowserless(h.rpURL).Get(t, s.URL)
	q := back.Query()
	if !strings.HasPrefix(back.String(), h.redirect+"?") || q.Get("error") != "login_required" ||
		q.Get("state") != s.State || q.Has("code") {
		t.Errorf("prompt=none without a session ended at %s (%d): %s, want login_required at the relying party", back, status, clipBody(body, 200))
	}
}

// wantErrorRedirect checks a 302 to the registered redirect URI carrying an
// error of codes and the request's state, and no code.
func (h *hostileOIDC) wantErrorRedirect(t *testing.T, a oidcAnswer, state string, codes []string) {
	t.Helper()
	loc, err := url.Parse(a.header.Get("Location"))
	if a.status != http.StatusFound || err != nil {
		t.Errorf("got %d to %q, want 302 to the redirect URI with an error", a.status, a.header.Get("Location"))
		return
	}
	q := loc.Query()
	if loc.Fragment != "" { // response_mode=fragment, as the client asked
		q, _ = url.ParseQuery(loc.Fragment)
		loc.Fragment = ""
	}
	if at := loc.Scheme + "://" + loc.Host + loc.Path; at != h.redirect || loc.Fragment != "" {
		t.Errorf("redirected to %s, want the registered %s", loc, h.redirect)
	}
	if !slices.Contains(codes, q.Get("error")) || q.Get("state") != state || q.Has("code") || q.Has("access_token") {
		t.Errorf("redirected with error %q state %q code %q, want one of %v and the state", q.Get("error"),
			clipBody(q.Get("state"), 40), q.Get("code"), codes)
	}
}

// code runs a new authorization request through b's live session and
// returns its code.
func (h *hostileOIDC) code(t *testing.T) (nodetest.AuthStart, string) {
	t.Helper()
	s := h.party.Start()
	back, _, body := h.b.Get(t, s.URL)
	code := back.Query().Get("code")
	if code == "" {
		t.Fatalf("no code at %s: %s", back, clipBody(body, 200))
	}
	return s, code
}

func (h *hostileOIDC) exchange(s nodetest.AuthStart, code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {h.redirect},
		"code_verifier": {s.Verifier}}
}

func (h *hostileOIDC) token(t *testing.T) {
	grant, client := []string{"invalid_grant"}, []string{"invalid_client"}
	unsupported := []string{"unsupported_grant_type"}
	// Pforte registers no client keys: the JWT profile grant (RFC 7523)
	// cannot succeed, and is refused as unsupported or as a bad grant.
	const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	jwtRefusal := []string{"unsupported_grant_type", "unauthorized_client", "invalid_grant", "invalid_request"}
	cases := []struct {
		name       string
		id, secret string
		mod        func(url.Values)
		status     int
		codes      []string
	}{
		{"wrong code_verifier", rpID, rpSecret, withParam("code_verifier", oauth2.GenerateVerifier()), 400, grant},
		{"code_verifier missing", rpID, rpSecret, withoutParam("code_verifier"), 400, []string{"invalid_grant", "invalid_request"}},
		{"code_verifier too short", rpID, rpSecret, withParam("code_verifier", "abc"), 400, []string{"invalid_grant", "invalid_request"}},
		{"code_verifier is the challenge", rpID, rpSecret, func(q url.Values) { q.Set("code_verifier", s256(q.Get("code_verifier"))) }, 400, grant},
		{"redirect_uri differs", rpID, rpSecret, withParam("redirect_uri", "https://evil.example/callback"), 400, grant},
		{"redirect_uri with a trailing slash", rpID, rpSecret, func(q url.Values) { q.Set("redirect_uri", q.Get("redirect_uri")+"/") }, 400, grant},
		{"redirect_uri missing", rpID, rpSecret, withoutParam("redirect_uri"), 400, []string{"invalid_grant", "invalid_request"}},
		{"another client's credentials", cibaID, cibaSecret, nil, 0, []string{"invalid_grant", "invalid_client"}},
		{"wrong client secret", rpID, "wrong-secret", nil, 401, client},
		{"no client credentials", "", "", nil, 401, client},
		{"unknown client", "evil", "evil-secret", nil, 401, client},
		{"client_id in the body only", "", "", withParam("client_id", rpID), 401, client},
		{"credentials in the body as well", rpID, rpSecret, func(q url.Values) { q.Set("client_id", rpID); q.Set("client_secret", rpSecret) },
			400, []string{"invalid_request"}},
		{"unknown code", rpID, rpSecret, withParam("code", "AAAAAAAAAAAAAAAAAAAAAA"), 400, grant},
		{"code of 5000 bytes", rpID, rpSecret, withParam("code", strings.Repeat("A", 5000)), 400, grant},
		{"code missing", rpID, rpSecret, withoutParam("code"), 400, []string{"invalid_request", "invalid_grant"}},
		{"grant_type unknown", rpID, rpSecret, withParam("grant_type", "urn:example:evil"), 400, unsupported},
		{"grant_type password", rpID, rpSecret, withParam("grant_type", "password"), 400, unsupported},
		{"grant_type client_credentials", rpID, rpSecret, withParam("grant_type", "client_credentials"), 400, []string{"unsupported_grant_type", "unauthorized_client"}},
		{"grant_type device_code", rpID, rpSecret, withParam("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), 400, []string{"unsupported_grant_type", "unauthorized_client"}},
		{"grant_type token-exchange", rpID, rpSecret, withParam("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), 400, []string{"unsupported_grant_type", "unauthorized_client"}},
		{"grant_type jwt-bearer without assertion", rpID, rpSecret, withParam("grant_type", jwtBearer), 400, jwtRefusal},
		{"grant_type jwt-bearer, assertion of an unknown key", "", "", func(q url.Values) {
			q.Set("grant_type", jwtBearer)
			q.Set("assertion", jwtAssertion(h.n.issuer, time.Now().Add(time.Minute)))
		}, 400, jwtRefusal},
		{"grant_type jwt-bearer, assertion for another audience", "", "", func(q url.Values) {
			q.Set("grant_type", jwtBearer)
			q.Set("assertion", jwtAssertion("https://evil.example", time.Now().Add(time.Minute)))
		}, 400, jwtRefusal},
		{"grant_type jwt-bearer, expired assertion", "", "", func(q url.Values) {
			q.Set("grant_type", jwtBearer)
			q.Set("assertion", jwtAssertion(h.n.issuer, time.Now().Add(-time.Minute)))
		}, 400, jwtRefusal},
		{"client_assertion of an unknown key", "", "", func(q url.Values) {
			q.Set("client_id", rpID)
			q.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			q.Set("client_assertion", jwtAssertion(h.n.issuer, time.Now().Add(time.Minute)))
		}, 401, client},
		{"grant_type missing", rpID, rpSecret, withoutParam("grant_type"), 400, []string{"invalid_request", "unsupported_grant_type"}},
		{"unknown refresh token", rpID, rpSecret, func(q url.Values) { q.Set("grant_type", "refresh_token"); q.Set("refresh_token", "x") }, 400, grant},
		{"refresh token of 5000 bytes", rpID, rpSecret, func(q url.Values) {
			q.Set("grant_type", "refresh_token")
			q.Set("refresh_token", strings.Repeat("R", 5000))
		}, 400, grant},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, code := h.code(t)
			form := h.exchange(s, code)
			if tc.mod != nil {
				tc.mod(form)
			}
			status, body := nodetest.TokenPost(t, h.tokenURL, tc.id, tc.secret, form)
			if status >= 500 || (tc.status != 0 && status != tc.status) || (tc.status == 0 && status != 400 && status != 401) ||
				!slices.Contains(tc.codes, fmt.Sprint(body["error"])) || body["access_token"] != nil {
				t.Errorf("got %d %v, want %d and one of %v", status, body, tc.status, tc.codes)
			}
		})
	}

	t.Run("replayed code", func(t *testing.T) {
		s, code := h.code(t)
		status, first := nodetest.TokenPost(t, h.tokenURL, rpID, rpSecret, h.exchange(s, code))
		access, _ := first["access_token"].(string)
		refresh, _ := first["refresh_token"].(string)
		if status != http.StatusOK || access == "" || refresh == "" {
			t.Fatalf("first exchange: %d %v", status, first)
		}
		if got := h.userinfo(t, access); got != http.StatusOK {
			t.Fatalf("userinfo before the replay: %d", got)
		}
		status, body := nodetest.TokenPost(t, h.tokenURL, rpID, rpSecret, h.exchange(s, code))
		wantError(t, "replay", status, body, http.StatusBadRequest, "invalid_grant")
		if got := h.userinfo(t, access); got != http.StatusUnauthorized && got != http.StatusForbidden {
			t.Errorf("userinfo with the first exchange's access token after the replay: %d, want 401 or 403", got)
		}
		status, body = nodetest.TokenPost(t, h.tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		wantError(t, "refresh after the replay", status, body, http.StatusBadRequest, "invalid_grant")
	})

	// RFC 6749 4.1.3: the client is authenticated before the code is looked
	// at. Someone who saw a used code (browser history, a log, a Referer)
	// but holds no client credentials must not be able to revoke the
	// client's tokens with it.
	t.Run("replay without client credentials revokes nothing", func(t *testing.T) {
		s, code := h.code(t)
		status, first := nodetest.TokenPost(t, h.tokenURL, rpID, rpSecret, h.exchange(s, code))
		access, _ := first["access_token"].(string)
		if status != http.StatusOK || access == "" {
			t.Fatalf("exchange: %d %v", status, first)
		}
		for _, cred := range [][2]string{{"", ""}, {rpID, "wrong-secret"}, {"evil", "evil-secret"}} {
			status, body := nodetest.TokenPost(t, h.tokenURL, cred[0], cred[1], h.exchange(s, code))
			if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("replay with credentials %q: %d %v, want 401 invalid_client", cred, status, body)
			}
		}
		if got := h.userinfo(t, access); got != http.StatusOK {
			t.Errorf("userinfo after replays without client credentials: %d, want 200 (the client's tokens stay valid)", got)
		}
	})

	t.Run("code presented without client credentials stays usable", func(t *testing.T) {
		s, code := h.code(t)
		status, body := nodetest.TokenPost(t, h.tokenURL, rpID, "wrong-secret", h.exchange(s, code))
		wantError(t, "wrong secret", status, body, http.StatusUnauthorized, "invalid_client")
		status, body = nodetest.TokenPost(t, h.tokenURL, rpID, rpSecret, h.exchange(s, code))
		if status != http.StatusOK {
			t.Errorf("the client's own exchange after a stranger's attempt: %d %v, want 200", status, body)
		}
	})

	t.Run("expired code", func(t *testing.T) {
		s, code := h.code(t)
		ctx := t.Context()
		r, err := h.st.AuthRequestByCode(ctx, digestOf(code))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.st.UpdateAuthRequest(ctx, r.ID, func(r *store.AuthRequest) error {
			r.CodeExpiresAt = time.Now().Add(-time.Second)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		status, body := nodetest.TokenPost(t, h.tokenURL, rpID, rpSecret, h.exchange(s, code))
		wantError(t, "expired code", status, body, http.StatusBadRequest, "invalid_grant")
	})
}

// userinfo returns the status of a userinfo request with access.
func (h *hostileOIDC) userinfo(t *testing.T, access string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.n.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	a, err := no5xx(t, http.DefaultClient, req, "an access token")
	if err != nil {
		t.Fatal(err)
	}
	return a.status
}

// callback checks that the code goes only to the browser whose session
// completed the request.
func (h *hostileOIDC) callback(t *testing.T) {
	// The signed-in browser, stopped before it fetches its code.
	stop := &http.Client{Jar: h.b.Client.Jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/oidc/authorize/callback" || strings.HasPrefix(r.URL.String(), h.rpURL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	s := h.party.Start()
	resp, err := stop.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || callback.Path != "/oidc/authorize/callback" {
		t.Fatalf("the signed-in browser went to %q, want the callback", resp.Header.Get("Location"))
	}
	id := callback.Query().Get("id")

	// A request that no login completed.
	fresh := stopAtRedirect(nil)
	resp, err = fresh.Get(h.party.Start().URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	login, _ := url.Parse(resp.Header.Get("Location"))
	pending := login.Query().Get("id")
	if pending == "" {
		t.Fatalf("authorization request led to %q, want the login glue", resp.Header.Get("Location"))
	}

	other := nodetest.NewBrowserless(h.rpURL)
	signedIn := nodetest.NewBrowserless(h.rpURL) // the same person, in a session of its own
	h.n.loginWithPhone(t, signedIn, h.party.Start().URL)
	at := func(id string) string { return h.n.base + "/oidc/authorize/callback?id=" + url.QueryEscape(id) }
	cases := []struct {
		name string
		b    *nodetest.Browserless
		url  string
	}{
		{"another browser without a session", other, at(id)},
		{"another browser of the same person", signedIn, at(id)},
		{"another browser at the login glue", other, h.n.base + "/oidc/login?id=" + id},
		{"a request no login completed", h.b, at(pending)},
		{"no id", h.b, h.n.base + "/oidc/authorize/callback"},
		{"an unknown id", h.b, at("AAAAAAAAAAAAAAAAAAAAAA")},
		{"an id with a foreign character", h.b, at(id[:21] + "*")},
		{"an id of 5000 bytes", h.b, at(strings.Repeat("A", 5000))},
		{"an id twice", h.b, h.n.base + "/oidc/authorize/callback?id=AAAAAAAAAAAAAAAAAAAAAA&id=" + id},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, status, body := tc.b.Get(t, tc.url)
			if status != http.StatusBadRequest || strings.HasPrefix(u.String(), h.rpURL) || u.Query().Has("code") {
				t.Errorf("got %d at %s, want 400 and no code: %s", status, u, clipBody(body, 200))
			}
		})
	}
	// The browser that logged in gets its code, once.
	back, _, body := h.b.Get(t, callback.String())
	if !strings.HasPrefix(back.String(), h.redirect+"?") {
		t.Fatalf("the signed-in browser's callback ended at %s: %s", back, clipBody(body, 200))
	}
	h.party.Finish(t, s, back)
	if u, status, _ := h.b.Get(t, callback.String()); status != http.StatusBadRequest || u.Query().Has("code") {
		t.Errorf("callback a second time: %d at %s, want 400", status, u)
	}
}

func (h *hostileOIDC) ciba(t *testing.T) {
	const unknownKVNR = "X110411675" // valid, of nobody: every check but the person's
	kvnr := h.n.person.KVNR
	wrongCheck := kvnr[:9] + strconv.Itoa((int(kvnr[9]-'0')+1)%10)
	details := cibaDetails
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"type":"claim_submission"},`, 9), ",") + "]"
	big := `[{"type":"claim_submission","note":"` + strings.Repeat("x", 2048) + `"}]`
	long := `[{"type":"claim_submission","note":"` + strings.Repeat("x", 600) + `"}]`
	const badDetails = "invalid_authorization_details"
	cases := []struct {
		name       string
		id, secret string
		mod        func(url.Values)
		status     int
		code       string
	}{
		{"well-formed", cibaID, cibaSecret, nil, 200, ""},
		{"login_hint missing", cibaID, cibaSecret, withoutParam("login_hint"), 400, "invalid_request"},
		{"login_hint not a KVNR", cibaID, cibaSecret, withParam("login_hint", "max.mustermann"), 400, "invalid_request"},
		{"login_hint with a wrong check digit", cibaID, cibaSecret, withParam("login_hint", wrongCheck), 400, "invalid_request"},
		{"login_hint in lower case", cibaID, cibaSecret, withParam("login_hint", strings.ToLower(kvnr)), 400, "invalid_request"},
		{"login_hint of 5000 bytes", cibaID, cibaSecret, withParam("login_hint", strings.Repeat("A", 5000)), 400, "invalid_request"},
		{"login_hint_token", cibaID, cibaSecret, withParam("login_hint_token", "eyJhbGciOiJub25lIn0.e30."), 400, "invalid_request"},
		{"id_token_hint", cibaID, cibaSecret, withParam("id_token_hint", h.idToken), 400, "invalid_request"},
		{"request object", cibaID, cibaSecret, withParam("request", "eyJhbGciOiJub25lIn0.e30."), 400, "invalid_request"},
		{"user_code", cibaID, cibaSecret, withParam("user_code", "1234"), 400, "invalid_request"},
		{"binding_message of 64 characters", cibaID, cibaSecret, withParam("binding_message", strings.Repeat("ä", 64)), 200, ""},
		{"binding_message of 65 characters", cibaID, cibaSecret, withParam("binding_message", strings.Repeat("ä", 65)), 400, "invalid_binding_message"},
		{"binding_message with a line feed", cibaID, cibaSecret, withParam("binding_message", "ZAHLUNG\n4711"), 400, "invalid_binding_message"},
		{"binding_message with a NUL", cibaID, cibaSecret, withParam("binding_message", "ZAHLUNG\x004711"), 400, "invalid_binding_message"},
		{"binding_message with ESC", cibaID, cibaSecret, withParam("binding_message", "\x1b[2J"), 400, "invalid_binding_message"},
		{"binding_message with DEL", cibaID, cibaSecret, withParam("binding_message", "A\x7f"), 400, "invalid_binding_message"},
		{"binding_message with a C1 control", cibaID, cibaSecret, withParam("binding_message", "A\u0085B"), 400, "invalid_binding_message"},
		{"binding_message with a line separator", cibaID, cibaSecret, withParam("binding_message", "A\u2028B"), 400, "invalid_binding_message"},
		{"binding_message not UTF-8", cibaID, cibaSecret, withParam("binding_message", "ZAHLUNG\xff"), 400, "invalid_binding_message"},
		{"authorization_details missing", cibaID, cibaSecret, withoutParam("authorization_details"), 400, badDetails},
		{"authorization_details not JSON", cibaID, cibaSecret, withParam("authorization_details", "payment please"), 400, badDetails},
		{"authorization_details an object", cibaID, cibaSecret, withParam("authorization_details", `{"type":"payment_initiation"}`), 400, badDetails},
		{"authorization_details empty", cibaID, cibaSecret, withParam("authorization_details", `[]`), 400, badDetails},
		{"authorization_details of strings", cibaID, cibaSecret, withParam("authorization_details", `["payment_initiation"]`), 400, badDetails},
		{"authorization_details null entry", cibaID, cibaSecret, withParam("authorization_details", `[null]`), 400, badDetails},
		{"authorization_details type not allowed", cibaID, cibaSecret, withParam("authorization_details", `[{"type":"account_information"}]`), 400, badDetails},
		{"authorization_details without type", cibaID, cibaSecret, withParam("authorization_details", `[{"amount":"1.00"}]`), 400, badDetails},
		{"authorization_details type a number", cibaID, cibaSecret, withParam("authorization_details", `[{"type":1}]`), 400, badDetails},
		{"authorization_details trailing data", cibaID, cibaSecret, withParam("authorization_details", details+`x`), 400, badDetails},
		{"authorization_details two arrays", cibaID, cibaSecret, withParam("authorization_details", details+details), 400, badDetails},
		{"authorization_details nine entries", cibaID, cibaSecret, withParam("authorization_details", many), 400, badDetails},
		{"authorization_details over 2048 bytes", cibaID, cibaSecret, withParam("authorization_details", big), 400, badDetails},
		{"authorization_details too long for the phone", cibaID, cibaSecret, withParam("authorization_details", long), 400, badDetails},
		{"authorization_details with a control character", cibaID, cibaSecret,
			withParam("authorization_details", `[{"type":"claim_submission","note":"a\u0007b"}]`), 400, badDetails},
		{"authorization_details with a line separator", cibaID, cibaSecret,
			withParam("authorization_details", `[{"type":"claim_submission","note":"a\u2028b"}]`), 400, badDetails},
		{"authorization_details with an empty name", cibaID, cibaSecret,
			withParam("authorization_details", `[{"type":"claim_submission","":"x"}]`), 400, badDetails},
		{"authorization_details not UTF-8", cibaID, cibaSecret,
			withParam("authorization_details", "[{\"type\":\"claim_submission\",\"note\":\"\xff\"}]"), 400, badDetails},
		{"authorization_details deeply nested", cibaID, cibaSecret,
			withParam("authorization_details", strings.Repeat("[", 1000)+strings.Repeat("]", 1000)), 400, badDetails},
		{"scope without openid", cibaID, cibaSecret, withParam("scope", "profile"), 400, "invalid_scope"},
		{"scope missing", cibaID, cibaSecret, withoutParam("scope"), 400, "invalid_scope"},
		{"scope offline_access", cibaID, cibaSecret, withParam("scope", "openid offline_access"), 400, "invalid_scope"},
		{"scope not allowed to the client", cibaID, cibaSecret, withParam("scope", "openid kvnr"), 400, "invalid_scope"},
		{"scope unknown", cibaID, cibaSecret, withParam("scope", "openid admin"), 400, "invalid_scope"},
		{"scope of nine values", cibaID, cibaSecret, withParam("scope", strings.Repeat("openid ", 9)), 400, "invalid_scope"},
		{"acr_values unknown only", cibaID, cibaSecret, withParam("acr_values", "urn:unknown:acr"), 200, ""},
		{"non-CIBA client", rpID, rpSecret, nil, 400, "unauthorized_client"},
		{"no credentials", "", "", nil, 401, "invalid_client"},
		{"wrong secret", cibaID, "wrong-secret", nil, 401, "invalid_client"},
		{"unknown client", "evil", "evil-secret", nil, 401, "invalid_client"},
		{"credentials in the body", "", "", func(q url.Values) { q.Set("client_id", cibaID); q.Set("client_secret", cibaSecret) }, 401, "invalid_client"},
		{"client_id without secret", cibaID, "", nil, 401, "invalid_client"},
		{"client_id malformed", "%zz", cibaSecret, nil, 401, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"scope": {"openid profile"}, "login_hint": {unknownKVNR}, "binding_message": {"ZAHLUNG-4711"},
				"authorization_details": {details}, "acr_values": {"http://eidas.europa.eu/LoA/substantial"}}
			if tc.mod != nil {
				tc.mod(form)
			}
			id := tc.id
			if id == "%zz" {
				id = "" // sent raw below
			}
			status, body := h.backchannel(t, id, tc.secret, tc.id == "%zz", form)
			if tc.status == http.StatusOK {
				if status != http.StatusOK || body["auth_req_id"] == nil {
					t.Errorf("got %d %v, want 200 with an auth_req_id", status, body)
				}
				return
			}
			wantError(t, tc.name, status, body, tc.status, tc.code)
		})
	}

	polls := []struct {
		name       string
		id, secret string
		form       url.Values
		status     int
		codes      []string
	}{
		{"unknown auth_req_id", cibaID, cibaSecret, url.Values{"auth_req_id": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, 400, []string{"invalid_grant"}},
		{"auth_req_id missing", cibaID, cibaSecret, url.Values{}, 400, []string{"invalid_request"}},
		{"auth_req_id of 5000 bytes", cibaID, cibaSecret, url.Values{"auth_req_id": {strings.Repeat("A", 5000)}}, 400, []string{"invalid_request", "invalid_grant"}},
		{"auth_req_id not UTF-8", cibaID, cibaSecret, url.Values{"auth_req_id": {"\xff\xfe"}}, 400, []string{"invalid_request", "invalid_grant"}},
		{"no credentials", "", "", url.Values{"auth_req_id": {"AAAA"}}, 401, []string{"invalid_client"}},
		{"wrong secret", cibaID, "wrong-secret", url.Values{"auth_req_id": {"AAAA"}}, 401, []string{"invalid_client"}},
		{"non-CIBA client", rpID, rpSecret, url.Values{"auth_req_id": {"AAAA"}}, 400, []string{"invalid_grant", "unauthorized_client"}},
	}
	for _, tc := range polls {
		t.Run("poll: "+tc.name, func(t *testing.T) {
			tc.form.Set("grant_type", "urn:openid:params:grant-type:ciba")
			status, body := nodetest.TokenPost(t, h.tokenURL, tc.id, tc.secret, tc.form)
			if status != tc.status || !slices.Contains(tc.codes, fmt.Sprint(body["error"])) {
				t.Errorf("got %d %v, want %d and one of %v", status, body, tc.status, tc.codes)
			}
		})
	}
}

// backchannel posts a backchannel authentication request; raw sends
// "%zz:secret" as Basic credentials, which do not decode.
func (h *hostileOIDC) backchannel(t *testing.T, id, secret string, raw bool, form url.Values) (int, map[string]any) {
	t.Helper()
	if !raw {
		return nodetest.TokenPost(t, h.n.issuer+"/bc-authorize", id, secret, form)
	}
	req, _ := http.NewRequest(http.MethodPost, h.n.issuer+"/bc-authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("%zz", secret)
	a, err := no5xx(t, http.DefaultClient, req, "undecodable Basic credentials")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal([]byte(a.body), &body)
	return a.status, body
}
