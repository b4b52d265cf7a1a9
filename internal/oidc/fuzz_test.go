package oidc_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store/testdb"
)

// FuzzOIDCEndpoints sends fuzzed queries and bodies, with fuzzed methods,
// content types and credentials, to every endpoint below the issuer; nothing
// may answer 5xx. The seeds are the malformed inputs of
// TestOIDCHostileInputs (the 2 MB ones shortened) and well-formed requests.
func FuzzOIDCEndpoints(f *testing.F) {
	quietOP(f)
	rp := nodetest.RPServer(f)
	redirect := rp.URL + "/callback"
	n := newOIDCNode(f, testdb.Open(f), redirect)
	for i, in := range hostileOIDCInputs(n.issuer, "x") {
		for p := range oidcPaths {
			f.Add(uint8(p), uint8(i), clipBody(in.query, 4096), clipBody(in.body, 4096))
		}
	}
	verifier := oauth2.GenerateVerifier()
	f.Add(uint8(1), uint8(0), url.Values{"client_id": {rpID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}.Encode(), "")
	f.Add(uint8(5), uint8(1|1<<5), "", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {redirect},
		"code_verifier": {verifier}}.Encode())
	f.Add(uint8(5), uint8(1|1<<5), "", "grant_type=refresh_token&refresh_token=x&scope=openid")
	f.Add(uint8(5), uint8(1|2<<5), "", "grant_type=urn:openid:params:grant-type:ciba&auth_req_id=x")
	f.Add(uint8(11), uint8(1|2<<5), "", "scope=openid&login_hint=X110411675&binding_message=x&authorization_details="+
		url.QueryEscape(cibaDetails))
	f.Add(uint8(9), uint8(0), "id_token_hint=a.b.c&post_logout_redirect_uri=x&state=y&ui_locales=de%20xx", "")
	f.Add(uint8(6), uint8(1|1<<5), "", "token=x&token_type_hint=access_token")
	f.Add(uint8(8), uint8(1|1<<5), "", "token=x&token_type_hint=refresh_token")

	jar, _ := cookiejar.New(nil)
	c := stopAtRedirect(jar)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodHead,
		http.MethodPatch, "PROPFIND"}
	ctypes := []string{"application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=x", ""}
	auths := []string{"", "Basic " + base64.StdEncoding.EncodeToString([]byte(rpID+":"+rpSecret)),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(cibaID+":"+cibaSecret)), "Bearer eyJhbGciOiJub25lIn0.e30."}
	f.Fuzz(func(t *testing.T, where, how uint8, query, body string) {
		path := oidcPaths[int(where)%len(oidcPaths)]
		target := n.issuer + path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(methods[int(how)%len(methods)], target, strings.NewReader(body))
		if err != nil {
			return // not a URL a client can send
		}
		if ct := ctypes[int(how>>3)%len(ctypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if auth := auths[int(how>>5)%len(auths)]; auth != "" {
			req.Header.Set("Authorization", auth)
		}
		no5xx(t, c, req, fmt.Sprintf("query %q body %q", clipBody(query, 200), clipBody(body, 200)))
	})
}
