package oidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// endSession checks that a forged id_token_hint or an unregistered
// post_logout_redirect_uri ends nothing and redirects nowhere.
func (h *hostileOIDC) endSession(t *testing.T) {
	parts := strings.Split(h.idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q", h.idToken)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var hdr struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(header, &hdr)
	enc := base64.RawURLEncoding.EncodeToString
	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := foreign.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	jwk := fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":%q,"y":%q}`, enc(pub[1:33]), enc(pub[33:]))
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	claims["sub"] = "someone-else"
	otherSub, _ := json.Marshal(claims)
	resp, err := http.Get(h.n.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mac := hmac.New(sha256.New, jwks)
	hsInput := enc([]byte(`{"alg":"HS256","kid":"`+hdr.Kid+`"}`)) + "." + parts[1]
	mac.Write([]byte(hsInput))
	flipped := []byte(parts[2])
	if flipped[20] == 'A' {
		flipped[20] = 'B'
	} else {
		flipped[20] = 'A'
	}

	logout := h.redirect + "/abgemeldet"
	forged := []struct{ name, hint string }{
		{"signature altered", parts[0] + "." + parts[1] + "." + string(flipped)},
		{"claims altered", parts[0] + "." + enc(otherSub) + "." + parts[2]},
		{"signed by an unknown key with the provider's kid", signES256(foreign, []byte(`{"alg":"ES256","kid":"`+hdr.Kid+`"}`), payload)},
		{"signed by an unknown key with its own kid", signES256(foreign, []byte(`{"alg":"ES256","kid":"evil"}`), payload)},
		{"signed by a key in its own jwk header", signES256(foreign, []byte(`{"alg":"ES256","jwk":`+jwk+`}`), payload)},
		{"alg none", enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."},
		{"alg none with the signature", enc([]byte(`{"alg":"none","kid":"`+hdr.Kid+`"}`)) + "." + parts[1] + "." + parts[2]},
		{"HS256 keyed with the published keys", hsInput + "." + enc(mac.Sum(nil))},
		{"without signature", parts[0] + "." + parts[1]},
		{"five parts", h.idToken + ".x.y"},
		{"garbage", "not-a-token"},
		{"not UTF-8", "\xff\xfe.\xff.\xff"},
		{"of 100 kB", strings.Repeat("A", 100_000)},
	}
	c := stopAtRedirect(h.b.Client.Jar)
	check := func(t *testing.T, method string, q url.Values, what string) {
		t.Helper()
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, h.n.issuer+"/end_session?"+q.Encode(), nil)
		} else {
			req, _ = http.NewRequest(method, h.n.issuer+"/end_session", strings.NewReader(q.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		a, err := no5xx(t, c, req, what)
		if err != nil {
			t.Fatal(err)
		}
		if a.status != http.StatusBadRequest || a.errorCode() != "invalid_request" || a.header.Get("Location") != "" {
			t.Errorf("got %d %q to %q, want 400 invalid_request and no redirect", a.status, clipBody(a.body, 200), a.header.Get("Location"))
		}
		if u, _, _ := h.b.Get(t, h.n.base+"/konto"); u.Path != "/konto" {
			t.Fatalf("after %s the portal session is gone (/konto is at %s)", what, u)
		}
	}
	for _, f := range forged {
		t.Run("id_token_hint "+f.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				check(t, method, url.Values{"id_token_hint": {f.hint}, "post_logout_redirect_uri": {logout}, "state": {"bye"}}, f.name)
			}
		})
	}
	others := []struct {
		name string
		q    url.Values
	}{
		{"no id_token_hint", url.Values{"post_logout_redirect_uri": {logout}, "state": {"bye"}}},
		{"no id_token_hint but client_id", url.Values{"client_id": {rpID}, "post_logout_redirect_uri": {logout}}},
		{"empty id_token_hint", url.Values{"id_token_hint": {""}, "post_logout_redirect_uri": {logout}}},
		{"post_logout_redirect_uri elsewhere", url.Values{"id_token_hint": {h.idToken}, "post_logout_redirect_uri": {"https://evil.example/"}}},
		{"post_logout_redirect_uri with a trailing slash", url.Values{"id_token_hint": {h.idToken}, "post_logout_redirect_uri": {logout + "/"}}},
		{"post_logout_redirect_uri with a query", url.Values{"id_token_hint": {h.idToken}, "post_logout_redirect_uri": {logout + "?x=1"}}},
		{"post_logout_redirect_uri the login redirect", url.Values{"id_token_hint": {h.idToken}, "post_logout_redirect_uri": {h.redirect}}},
		{"post_logout_redirect_uri not a URL", url.Values{"id_token_hint": {h.idToken}, "post_logout_redirect_uri": {"http://[::1"}}},
		{"client_id of another client", url.Values{"id_token_hint": {h.idToken}, "client_id": {cibaID}, "post_logout_redirect_uri": {logout}}},
		{"client_id unknown", url.Values{"id_token_hint": {h.idToken}, "client_id": {"evil"}, "post_logout_redirect_uri": {logout}}},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) { check(t, http.MethodGet, o.q, o.name) })
	}

	// The genuine logout still works, and ends the session.
	back, _, body := h.b.Get(t, h.n.issuer+"/end_session?"+url.Values{"id_token_hint": {h.idToken},
		"post_logout_redirect_uri": {logout}, "state": {"bye"}}.Encode())
	if back.Path != "/callback/abgemeldet" || back.Query().Get("state") != "bye" {
		t.Fatalf("genuine logout ended at %s: %s", back, clipBody(body, 200))
	}
	if u, _, _ := h.b.Get(t, h.n.base+"/konto"); u.Path != "/anmelden" {
		t.Errorf("after the genuine logout /konto is at %s, want the login page", u)
	}
}

// signES256 signs a compact JWS with key.
func signES256(key *ecdsa.PrivateKey, header, payload []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	in := enc(header) + "." + enc(payload)
	d := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + enc(sig)
}

// assertion is an RFC 7523 JWT of iss and sub "bonus" for aud, signed by a
// key nobody registered.
func jwtAssertion(aud string, exp time.Time) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	claims, _ := json.Marshal(map[string]any{"iss": rpID, "sub": rpID, "aud": aud, "exp": exp.Unix(),
		"iat": time.Now().Unix(), "jti": rand.Text()})
	return signES256(key, []byte(`{"alg":"ES256","kid":"k1","typ":"JWT"}`), claims)
}
