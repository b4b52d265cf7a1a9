package oidc

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// leaks are texts of Pforte's or op's internal errors that no answer may
// carry.
var leaks = []string{"oidc:", "signkey", "parent", "unknown client or wrong secret", "no client credentials", "crypto", "sql"}

// checkClientRefused checks a refused client authentication: 401, the Basic
// challenge (RFC 6749 5.2), a JSON invalid_client, nothing internal.
func checkClientRefused(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusUnauthorized || a.challenge != basicChallenge || !strings.HasPrefix(a.challenge, `Basic realm="`) {
		t.Errorf("got %d with WWW-Authenticate %q, want 401 with %q (body %s)", a.status, a.challenge, basicChallenge, a.body)
	}
	if a.fields["error"] != "invalid_client" || a.ctype != "application/json" {
		t.Errorf("body %q (%s), want a JSON invalid_client", a.body, a.ctype)
	}
	for _, l := range leaks {
		if strings.Contains(strings.ToLower(a.body), l) {
			t.Errorf("body %q reveals %q", a.body, l)
		}
	}
}

// TestClientAuthRefused: every endpoint where a client authenticates with
// HTTP Basic answers a failed authentication alike: 401 invalid_client in
// JSON with the Basic challenge, never op's text/plain error chain.
func TestClientAuthRefused(t *testing.T) {
	o := newTestOP(t)
	access := o.login(t).AccessToken
	wrong := func(path string, form url.Values) func() *http.Request {
		return func() *http.Request { return o.post(path, testRP, "wrong-secret-0123456789abcdefghijklmnop", form) }
	}
	introspect := url.Values{"token": {access}}
	ciba := url.Values{"scope": {"openid"}, "login_hint": {"X110411675"}, "authorization_details": {`[{"type":"payment_initiation"}]`}}
	cibaGrant := url.Values{"grant_type": {cibaGrantType}, "auth_req_id": {"x"}}
	tests := []struct {
		name string
		req  func() *http.Request
	}{
		{"introspection, wrong secret", wrong("/oauth/introspect", introspect)},
		{"introspection, no credentials", func() *http.Request { return o.post("/oauth/introspect", "", "", introspect) }},
		{"introspection, unknown client", func() *http.Request { return o.post("/oauth/introspect", "evil", "x", introspect) }},
		{"introspection, a public client", func() *http.Request { return o.post("/oauth/introspect", testPublic, "", introspect) }},
		{"introspection, secret in the form", func() *http.Request {
			return o.post("/oauth/introspect", "", "", url.Values{"token": {access}, "client_id": {testRP}, "client_secret": {testSecret}})
		}},
		{"introspection, Basic not base64", func() *http.Request {
			req := o.post("/oauth/introspect", "", "", introspect)
			req.Header.Set("Authorization", "Basic !!!")
			return req
		}},
		{"introspection, undecodable id", func() *http.Request {
			req := o.post("/oauth/introspect", "", "", introspect)
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("%zz:%zz")))
			return req
		}},
		{"revocation, wrong secret", wrong("/revoke", url.Values{"token": {access}})},
		{"revocation, unknown client", func() *http.Request { return o.post("/revoke", "evil", "x", url.Values{"token": {access}}) }},
		{"revocation, secret in the form", func() *http.Request {
			return o.post("/revoke", "", "", url.Values{"token": {access}, "client_id": {testRP}, "client_secret": {testSecret}})
		}},
		{"revocation, a confidential client without secret", func() *http.Request {
			return o.post("/revoke", "", "", url.Values{"token": {access}, "client_id": {testRP}})
		}},
		// op itself refuses this one (Pforte lets a public client name
		// itself in the header): the challenge is added to op's answer.
		{"revocation, a public client in Basic", func() *http.Request { return o.post("/revoke", testPublic, "", url.Values{"token": {access}}) }},
		{"token, wrong secret", wrong("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})},
		{"token, CIBA grant, wrong secret", wrong("/oauth/token", cibaGrant)},
		{"token, secret in the form", func() *http.Request {
			return o.post("/oauth/token", "", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {testRP}, "client_secret": {testSecret}})
		}},
		{"backchannel, wrong secret", func() *http.Request { return o.post("/bc-authorize", testCIBA, "wrong", ciba) }},
		{"backchannel, no credentials", func() *http.Request { return o.post("/bc-authorize", "", "", ciba) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkClientRefused(t, do(t, tt.req()))
		})
	}
	// The token is still live: no refused request revoked it.
	if a := do(t, o.post("/oauth/introspect", testRP, testSecret, introspect)); a.fields["active"] != true {
		t.Errorf("introspection after the refused requests: %s, want active", a.body)
	}
}

// TestIntrospection: the asking client learns about its own live access
// tokens only; a malformed request is a JSON invalid_request.
func TestIntrospection(t *testing.T) {
	o := newTestOP(t)
	tok := o.login(t)
	revoked := o.login(t).AccessToken
	o.revokeAccess(t, revoked)
	tests := []struct {
		name   string
		id     string
		secret string
		form   url.Values
		status int
		want   map[string]any // members the answer must have
	}{
		{"live", testRP, testSecret, url.Values{"token": {tok.AccessToken}}, http.StatusOK,
			map[string]any{"active": true, "client_id": testRP, "token_type": "Bearer"}},
		{"revoked", testRP, testSecret, url.Values{"token": {revoked}}, http.StatusOK, map[string]any{"active": false}},
		{"garbage", testRP, testSecret, url.Values{"token": {"bm90LWEtdG9rZW4"}}, http.StatusOK, map[string]any{"active": false}},
		{"a refresh token", testRP, testSecret, url.Values{"token": {tok.RefreshToken}}, http.StatusOK, map[string]any{"active": false}},
		{"another client's token", testCIBA, testCIBAKey, url.Values{"token": {tok.AccessToken}}, http.StatusOK, map[string]any{"active": false}},
		{"no token", testRP, testSecret, url.Values{}, http.StatusBadRequest, map[string]any{"error": "invalid_request"}},
		{"two tokens", testRP, testSecret, url.Values{"token": {tok.AccessToken, revoked}}, http.StatusBadRequest, map[string]any{"error": "invalid_request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, o.post("/oauth/introspect", tt.id, tt.secret, tt.form))
			if a.status != tt.status || a.ctype != "application/json" {
				t.Fatalf("got %d (%s) %s, want %d JSON", a.status, a.ctype, a.body, tt.status)
			}
			for k, v := range tt.want {
				if a.fields[k] != v {
					t.Errorf("%s = %v, want %v (body %s)", k, a.fields[k], v, a.body)
				}
			}
			if a.fields["active"] == false && len(a.fields) != 1 {
				t.Errorf("an inactive token's answer says more than active: %s", a.body)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, o.issuer+"/oauth/introspect?token="+tok.AccessToken, nil)
	req.SetBasicAuth(testRP, testSecret)
	if a := do(t, req); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET introspection: %d %s, want 405", a.status, a.body)
	}
}

// TestTokenOnlyPOST: the token and revocation endpoints answer POST only
// (RFC 6749 3.2, RFC 7009 2.1). op would take a GET's query as the form,
// past Pforte's checks in front of it.
func TestTokenOnlyPOST(t *testing.T) {
	o := newTestOP(t)
	tok := o.login(t)
	for _, path := range []string{"/oauth/token", "/revoke"} {
		q := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "token": {tok.RefreshToken}}
		req, _ := http.NewRequest(http.MethodGet, o.issuer+path+"?"+q.Encode(), nil)
		req.SetBasicAuth(testRP, testSecret)
		if a := do(t, req); a.status != http.StatusMethodNotAllowed || a.fields["error"] != "invalid_request" {
			t.Errorf("GET %s: %d %s, want 405 invalid_request", path, a.status, a.body)
		}
	}
	// The refresh token was neither used nor revoked.
	a := do(t, o.post("/oauth/token", testRP, testSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}))
	if a.status != http.StatusOK {
		t.Errorf("refresh after the GETs: %d %s", a.status, a.body)
	}
}
