package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store/testdb"
)

// balancer is a transport that sends each request, whatever its host, to the
// next of several nodes in turn, like a load balancer without stickiness.
type balancer struct {
	addrs []string
	next  atomic.Int64
	hits  []atomic.Int64
}

func newBalancer(addrs ...string) (*balancer, *http.Transport) {
	lb := &balancer{addrs: addrs, hits: make([]atomic.Int64, len(addrs))}
	var d net.Dialer
	return lb, &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		i := int(lb.next.Add(1)-1) % len(lb.addrs)
		lb.hits[i].Add(1)
		return d.DialContext(ctx, network, lb.addrs[i])
	}}
}

// TestOIDCAcrossNodes runs a sign-in, the code exchange, refresh with
// rotation and reuse detection, and CIBA across two nodes sharing one
// PostgreSQL database, every request going to the other node than the one
// before: no step depends on the node that did the step before.
func TestOIDCAcrossNodes(t *testing.T) {
	st := openBackend(t, "postgres") // skips without PFORTE_TEST_POSTGRES
	rp := nodetest.RPServer(t)
	redirect := rp.URL + "/callback"
	a := newOIDCNode(t, st, redirect)
	b := a.another(t)
	a.bindPhone(t)
	lb, tr := newBalancer(a.Addr, b.Addr)

	ctx := gooidc.ClientContext(t.Context(), &http.Client{Transport: tr, Timeout: 10 * time.Second})
	p, err := gooidc.NewProvider(ctx, a.issuer)
	if err != nil {
		t.Fatal(err)
	}
	party := &nodetest.RelyingParty{Ctx: ctx, Provider: p,
		Conf: oauth2.Config{ClientID: rpID, ClientSecret: rpSecret, Endpoint: p.Endpoint(), RedirectURL: redirect,
			Scopes: []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess}},
		Verifier: p.VerifierContext(ctx, &gooidc.Config{ClientID: rpID, SupportedSigningAlgs: []string{"ES256"}})}
	browser := nodetest.NewBrowserless(rp.URL)
	browser.Client.Transport = tr
	a.AppHTTP = &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	s := party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/substantial"))
	back := a.loginWithPhone(t, browser, s.URL)
	tok, _, claims := party.Finish(t, s, back)
	checkPhoneLogin(t, claims, "")
	next, err := party.Refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh on the other node: %v", err)
	}
	if _, err := party.Refresh(tok.RefreshToken); err == nil {
		t.Error("the rotated refresh token was accepted again on the other node")
	}
	if _, err := party.Refresh(next.RefreshToken); err == nil {
		t.Error("after the reuse the family still refreshes")
	}
	// CIBA: asked on one node, approved through the other, polled on both.
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	status, res := nodetest.TokenPostWith(t, hc, a.issuer+"/bc-authorize", cibaID, cibaSecret, url.Values{"scope": {"openid"},
		"login_hint": {a.person.KVNR}, "binding_message": {"ZAHLUNG-1"}, "authorization_details": {cibaDetails}})
	if status != http.StatusOK {
		t.Fatalf("backchannel request: %d %v", status, res)
	}
	id, _ := res["auth_req_id"].(string)
	poll := url.Values{"grant_type": {"urn:openid:params:grant-type:ciba"}, "auth_req_id": {id}}
	status, body := nodetest.TokenPostWith(t, hc, a.issuer+"/oauth/token", cibaID, cibaSecret, poll)
	wantError(t, "pending", status, body, http.StatusBadRequest, "authorization_pending")
	status, body = nodetest.TokenPostWith(t, hc, a.issuer+"/oauth/token", cibaID, cibaSecret, poll)
	wantError(t, "polled at once on the other node", status, body, http.StatusBadRequest, "slow_down")
	ap, _ := a.pending(t, approval.ActionClientRequest)
	if err := a.App().Approve(t.Context(), a.phone.Device, ap, phonePIN, "pin", 0); err != nil {
		t.Fatal(err)
	}
	ageLastPoll(t, a.Store, id, 11*time.Second)
	status, body = nodetest.TokenPostWith(t, hc, a.issuer+"/oauth/token", cibaID, cibaSecret, poll)
	if status != http.StatusOK || body["authorization_details"] == nil {
		t.Fatalf("poll after approval: %d %v", status, body)
	}
	ageLastPoll(t, a.Store, id, 11*time.Second)
	status, body = nodetest.TokenPostWith(t, hc, a.issuer+"/oauth/token", cibaID, cibaSecret, poll)
	wantError(t, "second redemption on the other node", status, body, http.StatusBadRequest, "invalid_grant")

	for i := range lb.hits {
		if lb.hits[i].Load() < 5 {
			t.Errorf("node %d answered %d requests; the balancer did not spread them", i, lb.hits[i].Load())
		}
	}
}

// TestOIDCSigningKeyRotation: the next signing key is published (in the
// JWKS every node serves) a day before it signs, while tokens keep being
// signed, and verified, with the current one.
func TestOIDCSigningKeyRotation(t *testing.T) {
	rp := nodetest.RPServer(t)
	redirect := rp.URL + "/callback"
	n := newOIDCNode(t, testdb.Open(t), redirect)
	party := nodetest.NewRelyingParty(t, n.issuer, redirect)
	b := nodetest.NewBrowserless(rp.URL)
	signIn := func() (string, *gooidc.IDToken) {
		t.Helper()
		s := party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/low"))
		u, _, _ := b.Get(t, s.URL)
		if u.Path == "/anmelden" {
			u, _, _ = b.Post(t, n.base, "/anmelden", url.Values{"kvnr": {n.person.KVNR}, "password": {n.password},
				"weiter": {u.Query().Get("weiter")}})
		}
		tok, idt, _ := party.Finish(t, s, u)
		raw, _ := tok.Extra("id_token").(string)
		return raw, idt
	}
	kid := func(raw string) string {
		parts := strings.Split(raw, ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		var head struct {
			Kid string `json:"kid"`
		}
		json.Unmarshal(h, &head)
		return head.Kid
	}
	first, _ := signIn()
	ring := n.Cfg.Keys
	// A node whose clock is a day before the current key retires adds the
	// next one; this node sees it at its next rotation check.
	later := signkey.New(n.Store, ring, func() time.Time { return time.Now().Add(29 * 24 * time.Hour) }, n.Cfg.SigningKeys)
	if err := later.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := n.Keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(n.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 2 || set.Keys[0].Alg != "ES256" || set.Keys[1].Alg != "ES256" {
		t.Fatalf("JWKS after the next key was added: %+v, want two ES256 keys", set.Keys)
	}
	second, _ := signIn()
	if kid(second) != kid(first) {
		t.Errorf("the new key signs before its time: %s, then %s", kid(first), kid(second))
	}
	if _, err := party.Verifier.Verify(party.Ctx, first); err != nil {
		t.Errorf("a token of the current key no longer verifies: %v", err)
	}
}
