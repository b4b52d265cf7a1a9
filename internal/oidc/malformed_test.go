package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// oidcPaths are every path below the issuer that a client or browser can
// reach, op's own included, and one that does not exist.
var oidcPaths = []string{
	"/.well-known/openid-configuration", "/authorize", "/authorize/callback", "/login", "/login/abbrechen",
	"/oauth/token", "/oauth/introspect", "/userinfo", "/revoke", "/end_session", "/keys", "/bc-authorize",
	"/healthz", "/ready", "/device_authorization", "/nirgends",
}

// oidcInput is one malformed request: its query, body and headers.
type oidcInput struct {
	name    string
	query   string
	body    string
	ctype   string
	header  map[string]string
	chunked bool // send the body without a Content-Length
	session bool // with the signed-in browser's cookies
}

// hostileOIDCInputs are the malformed requests every endpoint gets; bearer
// and the client's credentials are added where a test has them.
func hostileOIDCInputs(issuer, bearer string) []oidcInput {
	form := "application/x-www-form-urlencoded"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(rpID+":"+rpSecret))
	two := "x=" + strings.Repeat("a", 2<<20)
	jwt := jwtAssertion(issuer, time.Now().Add(time.Hour))
	repeated := strings.TrimSuffix(strings.Repeat("scope=openid&", 10_000), "&")
	return []oidcInput{
		{name: "nothing"},
		{name: "a 2 MB form body", body: two, ctype: form},
		{name: "a 2 MB form body without length", body: two, ctype: form, chunked: true},
		{name: "%zz in the query", query: "client_id=%zz&id=%zz&token=%zz&id_token_hint=%zz"},
		{name: "%zz in the body", body: "grant_type=%zz&code=%zz&token=%zz&login_hint=%zz", ctype: form},
		{name: "%zz in a name", query: "%zz=1", body: "%zz=1", ctype: form},
		{name: "a semicolon separator", query: "client_id=bonus;scope=openid", body: "grant_type=x;code=y", ctype: form},
		{name: "invalid UTF-8 in the query", query: "client_id=%ff%fe&state=%c3%28&scope=openid%ff&id=%ff&id_token_hint=%ff"},
		{name: "invalid UTF-8 in the body", body: "grant_type=%ff&code=\xff\xfe&token=%c3%28&auth_req_id=%ff", ctype: form},
		{name: "NUL bytes", query: "client_id=bonus%00&state=%00&id=%00", body: "grant_type=%00&code=%00&token=%00", ctype: form},
		{name: "10000 repeated parameters in the query", query: repeated},
		{name: "10000 repeated parameters in the body", body: repeated, ctype: form},
		{name: "10001 repeated parameters", query: repeated + "&scope=openid", body: repeated + "&scope=openid", ctype: form},
		{name: "huge header values", header: map[string]string{"Authorization": "Bearer " + strings.Repeat("A", 200_000),
			"Cookie": "__Host-pforte_session=" + strings.Repeat("C", 200_000), "X-Junk": strings.Repeat("J", 200_000)}},
		{name: "a JSON body", body: `{"grant_type":"authorization_code","code":"x","client_id":"bonus","token":"x"}`, ctype: "application/json"},
		{name: "a broken multipart body", body: "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nrefresh", ctype: "multipart/form-data; boundary=x"},
		{name: "a multipart body without boundary", body: "grant_type=refresh_token", ctype: "multipart/form-data"},
		{name: "an odd content type", body: "grant_type=refresh_token", ctype: "application/x-www-form-urlencoded; charset=utf-16"},
		{name: "the client, with garbage", body: "grant_type=refresh_token&refresh_token=%ff&token=" + strings.Repeat("T", 3000) +
			"&token_type_hint=refresh_token&auth_req_id=x", ctype: form, header: map[string]string{"Authorization": basic}},
		{name: "undecodable Basic credentials", body: "grant_type=authorization_code&code=x", ctype: form,
			header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%zz"))}},
		{name: "Basic credentials not base64", body: "token=x", ctype: form, header: map[string]string{"Authorization": "Basic !!!"}},
		{name: "a bearer token, with garbage", query: "id=%ff&id_token_hint=x.y.z&post_logout_redirect_uri=%00",
			header: map[string]string{"Authorization": "Bearer " + bearer}},
		{name: "a forged bearer token", header: map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}},
		{name: "the session, with garbage", query: "id=AAAAAAAAAAAAAAAAAAAAAA&id_token_hint=x&state=%ff", session: true},
		{name: "an unknown client", query: "client_id=evil&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2F"},
		{name: "JWT assertions of an unknown key", body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + jwt +
			"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + jwt +
			"&token=x&scope=openid", ctype: form},
		{name: "a CORS preflight", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization"}},
	}
}

// malformed sends every hostile input to every endpoint, with GET and POST,
// and every endpoint wrong methods.
func (h *hostileOIDC) malformed(t *testing.T) {
	plain, withSession := stopAtRedirect(nil), stopAtRedirect(h.b.Client.Jar)
	seen := map[int]int{}
	for _, in := range hostileOIDCInputs(h.n.issuer, h.tok.AccessToken) {
		for _, path := range oidcPaths {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				a, err := h.send(t, plain, withSession, method, path, in)
				if err != nil {
					if in.body != "" && len(in.body) > 1<<20 {
						continue // the server may close the connection on a body it will not read
					}
					t.Errorf("%s %s with %s: %v", method, path, in.name, err)
					continue
				}
				seen[a.status]++
			}
		}
	}
	for _, path := range oidcPaths {
		for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions,
			http.MethodHead, http.MethodTrace, "PROPFIND"} {
			in := oidcInput{name: "method " + method, body: "grant_type=refresh_token", ctype: "application/x-www-form-urlencoded"}
			a, err := h.send(t, plain, withSession, method, path, in)
			if err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			seen[a.status]++
		}
	}
	if seen[400] == 0 || seen[401] == 0 || seen[413] == 0 {
		t.Errorf("answers by status %v: the inputs did not reach the handlers", seen)
	}
	t.Logf("answers by status: %v", seen)
}

// discovery checks that the provider advertises no grant or endpoint that
// cannot work: a relying party (or a scanner) takes the document at its word.
func (h *hostileOIDC) discovery(t *testing.T) {
	var doc struct {
		Grants        []string `json:"grant_types_supported"`
		ResponseTypes []string `json:"response_types_supported"`
		Device        string   `json:"device_authorization_endpoint"`
	}
	resp, err := http.Get(h.n.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	works := []string{"authorization_code", "refresh_token", "urn:openid:params:grant-type:ciba"}
	for _, g := range doc.Grants {
		if !slices.Contains(works, g) {
			t.Errorf("grant_types_supported lists %q, which no client can use (response types %v)", g, doc.ResponseTypes)
		}
	}
	if doc.Device != "" {
		t.Errorf("device_authorization_endpoint %q is advertised, but no client may use the device grant", doc.Device)
	}
}

// send sends one input to path below the issuer.
func (h *hostileOIDC) send(t testing.TB, plain, withSession *http.Client, method, path string, in oidcInput) (oidcAnswer, error) {
	t.Helper()
	target := h.n.issuer + path
	if in.query != "" {
		target += "?" + in.query
	}
	var body io.Reader
	if in.body != "" {
		body = strings.NewReader(in.body)
		if in.chunked {
			body = struct{ io.Reader }{body}
		}
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatalf("%s %s with %s: %v", method, path, in.name, err)
	}
	if in.ctype != "" {
		req.Header.Set("Content-Type", in.ctype)
	}
	for k, v := range in.header {
		req.Header.Set(k, v)
	}
	c := plain
	if in.session {
		c = withSession
	}
	return no5xx(t, c, req, in.name)
}
