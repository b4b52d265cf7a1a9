package oidc

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// invalidToken is the challenge of every refused access token.
const invalidToken = `Bearer error="invalid_token", error_description="the access token is invalid, expired or revoked"`

func userinfoGet(o *testOP, authorization string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, o.issuer+"/userinfo", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

// revokeAccess revokes the access token at the revocation endpoint as the
// client that holds it.
func (o *testOP) revokeAccess(t *testing.T, access string) {
	t.Helper()
	if a := do(t, o.post("/revoke", testRP, testSecret, url.Values{"token": {access}, "token_type_hint": {"access_token"}})); a.status != http.StatusOK {
		t.Fatalf("revocation: %d %s", a.status, a.body)
	}
}

// TestUserinfoAnswers: userinfo answers as RFC 6750 3 says, so that a
// client can tell a token to refresh from a request to fix: a refused token
// is 401 invalid_token with a JSON body, no token at all a bare Bearer
// challenge, a token without openid 403 insufficient_scope.
func TestUserinfoAnswers(t *testing.T) {
	tests := []struct {
		name      string
		clock     time.Duration // the provider's clock against real time
		req       func(t *testing.T, o *testOP) *http.Request
		status    int
		challenge string // "" for none
		code      string // the JSON body's error; "" for none
	}{
		{"live token", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "Bearer "+o.login(t).AccessToken)
		}, http.StatusOK, "", ""},
		{"live token in a form body", 0, func(t *testing.T, o *testOP) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, o.issuer+"/userinfo", strings.NewReader(url.Values{"access_token": {o.login(t).AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, http.StatusOK, "", ""},
		{"revoked at the revocation endpoint", 0, func(t *testing.T, o *testOP) *http.Request {
			access := o.login(t).AccessToken
			o.revokeAccess(t, access)
			return userinfoGet(o, "Bearer "+access)
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"expired at the provider's clock", 0, func(t *testing.T, o *testOP) *http.Request {
			access := o.login(t).AccessToken
			o.clock.advance(5*time.Minute + time.Second)
			return userinfoGet(o, "Bearer "+access)
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		// The provider's clock runs two hours late: the stored token is live
		// by it, the JWT's exp is past.
		// (x/oauth2 cannot read the exchange's answer: op counts expires_in
		// from real time, and the negative number wraps.)
		{"a JWT past its exp", -2 * time.Hour, func(t *testing.T, o *testOP) *http.Request {
			code, verifier := o.authorize(t)
			a := do(t, o.post("/oauth/token", testRP, testSecret, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {verifier}, "redirect_uri": {testRedirect}}))
			access, _ := a.fields["access_token"].(string)
			if a.status != http.StatusOK || access == "" {
				t.Fatalf("exchange: %d %s", a.status, a.body)
			}
			return userinfoGet(o, "Bearer "+access)
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"garbage", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "Bearer bm90LWEtdG9rZW4")
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"a forged JWT", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwianRpIjoieCJ9.")
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"not a token68", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, `Bearer a b "c"`)
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"an empty bearer", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "Bearer ")
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"too long", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "Bearer "+strings.Repeat("A", 9000))
		}, http.StatusUnauthorized, invalidToken, "invalid_token"},
		{"no token", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "")
		}, http.StatusUnauthorized, "Bearer", ""},
		{"another scheme", 0, func(t *testing.T, o *testOP) *http.Request {
			return userinfoGet(o, "Basic Ym9udXM6eA==")
		}, http.StatusUnauthorized, "Bearer", ""},
		{"token in the URL", 0, func(t *testing.T, o *testOP) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, o.issuer+"/userinfo?access_token="+o.login(t).AccessToken, nil)
			return req
		}, http.StatusBadRequest, `Bearer error="invalid_request", error_description="send the access token in the Authorization header, not in the URL"`, "invalid_request"},
		{"token in header and form", 0, func(t *testing.T, o *testOP) *http.Request {
			access := o.login(t).AccessToken
			req, _ := http.NewRequest(http.MethodPost, o.issuer+"/userinfo", strings.NewReader(url.Values{"access_token": {access}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+access)
			return req
		}, http.StatusBadRequest, `Bearer error="invalid_request", error_description="send the access token in one way only"`, "invalid_request"},
		{"a token without openid", 0, func(t *testing.T, o *testOP) *http.Request {
			tok := o.login(t)
			a := do(t, o.post("/oauth/token", testRP, testSecret, url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {tok.RefreshToken}, "scope": {ScopeOfflineAccess}}))
			access, _ := a.fields["access_token"].(string)
			if a.status != http.StatusOK || access == "" {
				t.Fatalf("refresh narrowed to offline_access: %d %s", a.status, a.body)
			}
			return userinfoGet(o, "Bearer "+access)
		}, http.StatusForbidden, `Bearer error="insufficient_scope", error_description="the access token lacks the scope openid", scope="openid"`, "insufficient_scope"},
		{"PUT", 0, func(t *testing.T, o *testOP) *http.Request {
			req, _ := http.NewRequest(http.MethodPut, o.issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+o.login(t).AccessToken)
			return req
		}, http.StatusMethodNotAllowed, "", "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOPAt(t, tt.clock)
			a := do(t, tt.req(t, o))
			if a.status != tt.status || a.challenge != tt.challenge {
				t.Fatalf("got %d with WWW-Authenticate %q, want %d with %q (body %s)", a.status, a.challenge, tt.status, tt.challenge, a.body)
			}
			switch {
			case tt.status == http.StatusOK:
				if sub, _ := a.fields["sub"].(string); sub == "" || a.ctype != "application/json" {
					t.Errorf("userinfo %s (%s), want JSON with sub", a.body, a.ctype)
				}
			case tt.code == "":
				if a.body != "" {
					t.Errorf("body %q, want none: a request without a token gets no error information (RFC 6750 3.1)", a.body)
				}
			default:
				if a.fields["error"] != tt.code || a.ctype != "application/json" {
					t.Errorf("body %s (%s), want a JSON error %q", a.body, a.ctype, tt.code)
				}
			}
		})
	}
}

// TestUserinfoRelyingParty: go-oidc reads userinfo with a live token and
// gets an error, not claims, once the token is revoked or expired.
func TestUserinfoRelyingParty(t *testing.T) {
	o := newTestOP(t)
	ctx := gooidc.ClientContext(t.Context(), o.srv.Client())
	tok := o.login(t)
	info, err := o.rp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject == "" {
		t.Fatalf("userinfo with a live token: %v %v", info, err)
	}
	o.revokeAccess(t, tok.AccessToken)
	if _, err := o.rp.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("userinfo with a revoked token: %v, want a 401", err)
	}
	other := o.login(t)
	o.clock.advance(time.Hour)
	if _, err := o.rp.UserInfo(ctx, oauth2.StaticTokenSource(other)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("userinfo with an expired token: %v, want a 401", err)
	}
}

// TestUserinfoCORS: a browser application reads the refusal and its
// challenge from another origin, without cookies.
func TestUserinfoCORS(t *testing.T) {
	o := newTestOP(t)
	req := userinfoGet(o, "Bearer bm90LWEtdG9rZW4")
	req.Header.Set("Origin", "https://spa.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if h.Get("Access-Control-Allow-Origin") != "https://spa.example" || h.Get("Access-Control-Allow-Credentials") != "" ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Www-Authenticate") {
		t.Errorf("CORS headers %v, want the origin allowed, no credentials, WWW-Authenticate exposed", h)
	}
}
