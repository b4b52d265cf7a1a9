package oidc_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestOIDCCodeFlow runs the code flow at substantial with the phone's
// approval, then refresh with rotation, reuse detection and logout, on
// both databases.
func TestOIDCCodeFlow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		rp := nodetest.RPServer(t)
		redirect := rp.URL + "/callback"
		n := newOIDCNode(t, st, redirect)
		n.bindPhone(t)
		party := nodetest.NewRelyingParty(t, n.issuer, redirect)
		b := nodetest.NewBrowserless(rp.URL)

		s := party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/substantial"))
		back := n.loginWithPhone(t, b, s.URL)
		tok, idt, claims := party.Finish(t, s, back)
		checkPhoneLogin(t, claims, n.person.KVNR)
		if strings.Contains(idt.Subject, n.person.KVNR) || idt.Subject == "" {
			t.Errorf("sub %q is empty or shows the KVNR", idt.Subject)
		}
		info, err := party.Provider.UserInfo(party.Ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Subject != idt.Subject {
			t.Errorf("userinfo sub %q, ID token sub %q", info.Subject, idt.Subject)
		}

		// High cannot be reached with a letter-bound phone: the portal says
		// so and offers the way back, which tells the client access_denied.
		s = party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/high"))
		page, code, html := b.Get(t, s.URL)
		if page.Path != "/anmelden/hoeher" || code != http.StatusForbidden || !strings.Contains(html, "hoch") {
			t.Fatalf("a sign-in at high led to %s (%d): %s", page, code, html)
		}
		cancel := regexp.MustCompile(`href="(/oidc/login/abbrechen\?id=[A-Za-z0-9_-]+)"`).FindStringSubmatch(html)
		if cancel == nil {
			t.Fatalf("no way back to the application on the page: %s", html)
		}
		back, _, _ = b.Get(t, n.base+cancel[1])
		if q := back.Query(); !strings.HasPrefix(back.String(), redirect) || q.Get("error") != "access_denied" || q.Get("state") != s.State {
			t.Errorf("cancelling returned to %s, want the client with access_denied and its state", back)
		}

		// Refresh rotates: a new refresh token, the old one is used up.
		first := tok.RefreshToken
		if first == "" {
			t.Fatal("no refresh token for offline_access")
		}
		next, err := party.Refresh(first)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if next.RefreshToken == "" || next.RefreshToken == first {
			t.Fatalf("refresh did not rotate the refresh token")
		}
		raw, _ := next.Extra("id_token").(string)
		rid, err := party.Verifier.Verify(party.Ctx, raw)
		if err != nil {
			t.Fatalf("refreshed ID token: %v", err)
		}
		var rc nodetest.IDClaims
		rid.Claims(&rc)
		if rc.Sub != idt.Subject || rc.ACR != claims.ACR || rc.AuthTime != claims.AuthTime {
			t.Errorf("refreshed ID token sub/acr/auth_time = %q/%q/%d, want %q/%q/%d", rc.Sub, rc.ACR, rc.AuthTime,
				idt.Subject, claims.ACR, claims.AuthTime)
		}
		// Reusing the first refresh token revokes the family: the rotated
		// one stops working too.
		tokenURL := party.Provider.Endpoint().TokenURL
		status, body := nodetest.TokenPost(t, tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v, want 400 invalid_grant", status, body)
		}
		status, body = nodetest.TokenPost(t, tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("rotated token after reuse: %d %v, want 400 invalid_grant", status, body)
		}
		if _, err := party.Provider.UserInfo(party.Ctx, oauth2.StaticTokenSource(next)); err == nil {
			t.Error("the access token of a revoked family still reads userinfo")
		}

		// A second sign-in reuses the portal session (no new login), then
		// RP-initiated logout ends it and revokes the client's tokens.
		s = party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/substantial"))
		back, _, body2 := b.Get(t, s.URL)
		if !strings.HasPrefix(back.String(), rp.URL) {
			t.Fatalf("second sign-in did not return to the relying party: %s %s", back, body2)
		}
		tok2, _, c2 := party.Finish(t, s, back)

		// A client not allowed the scope kvnr gets no KVNR however it asks,
		// and its public sub differs from bonus's pairwise one.
		epa := nodetest.NewRelyingParty(t, n.issuer, redirect)
		epa.Conf.ClientID, epa.Conf.ClientSecret = epaID, epaSecret
		epa.Verifier = epa.Provider.VerifierContext(epa.Ctx, &gooidc.Config{ClientID: epaID, SupportedSigningAlgs: []string{"ES256"}})
		s = epa.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/substantial"))
		back, _, _ = b.Get(t, s.URL)
		etok, eidt, ec := epa.Finish(t, s, back)
		if ec.KVNR != "" || ec.Sub == c2.Sub || ec.Sub == "" {
			t.Errorf("epa: kvnr %q (want none), sub %q (bonus has %q)", ec.KVNR, ec.Sub, c2.Sub)
		}
		var einfo map[string]any
		if info, err := epa.Provider.UserInfo(epa.Ctx, oauth2.StaticTokenSource(etok)); err != nil {
			t.Fatal(err)
		} else if info.Claims(&einfo); einfo["kvnr"] != nil || einfo["family_name"] != n.person.FamilyName || info.Subject != eidt.Subject {
			t.Errorf("epa userinfo %v", einfo)
		}
		// Introspection answers for the client's own live tokens only;
		// revoking the access token ends it at once, revoking the refresh
		// token ends the family.
		s = party.Start()
		back, _, _ = b.Get(t, s.URL)
		rtok, _, _ := party.Finish(t, s, back)
		introspect := func(id, secret, token string) map[string]any {
			t.Helper()
			_, body := nodetest.TokenPost(t, n.issuer+"/oauth/introspect", id, secret, url.Values{"token": {token}})
			return body
		}
		if got := introspect(rpID, rpSecret, rtok.AccessToken); got["active"] != true || got["sub"] != c2.Sub ||
			got["client_id"] != rpID || got["acr"] != c2.ACR {
			t.Errorf("introspection of a live token: %v", got)
		}
		if got := introspect(epaID, epaSecret, rtok.AccessToken); got["active"] != false {
			t.Errorf("another client's introspection: %v, want inactive", got)
		}
		revoke := func(token string) {
			t.Helper()
			if status, body := nodetest.TokenPost(t, n.issuer+"/revoke", rpID, rpSecret, url.Values{"token": {token}}); status != http.StatusOK {
				t.Fatalf("revoke: %d %v", status, body)
			}
		}
		revoke(rtok.AccessToken)
		if got := introspect(rpID, rpSecret, rtok.AccessToken); got["active"] != false {
			t.Errorf("introspection after revocation: %v", got)
		}
		if _, err := party.Provider.UserInfo(party.Ctx, oauth2.StaticTokenSource(rtok)); err == nil {
			t.Error("a revoked access token still reads userinfo")
		}
		revoke(rtok.RefreshToken)
		status, body = nodetest.TokenPost(t, tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rtok.RefreshToken}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh after revocation: %d %v", status, body)
		}

		// max_age=0 asks for a new login although the session is live; a
		// login during the request satisfies it.
		time.Sleep(1100 * time.Millisecond) // auth_time has whole seconds
		s = party.Start(oauth2.SetAuthURLParam("max_age", "0"))
		back = n.loginWithPhone(t, b, s.URL)
		if _, _, c3 := party.Finish(t, s, back); c3.AuthTime <= c2.AuthTime {
			t.Errorf("max_age=0: auth_time %d not after the earlier %d", c3.AuthTime, c2.AuthTime)
		}
		raw, _ = tok2.Extra("id_token").(string)
		logout := n.issuer + "/end_session?" + url.Values{"id_token_hint": {raw},
			"post_logout_redirect_uri": {redirect + "/abgemeldet"}, "state": {"bye"}}.Encode()
		back, _, _ = b.Get(t, logout)
		if back.Path != "/callback/abgemeldet" || back.Query().Get("state") != "bye" {
			t.Fatalf("logout returned to %s", back)
		}
		if u, _, _ := b.Get(t, n.base+"/konto"); u.Path != "/anmelden" {
			t.Errorf("after logout /konto is at %s, want the login page", u)
		}
		status, body = nodetest.TokenPost(t, tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2.RefreshToken}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh after logout: %d %v, want 400 invalid_grant", status, body)
		}
		events := auditEvents(t, st)
		for _, e := range []string{"oidc.login", "oidc.token_issued", "oidc.refresh_reused", "oidc.token_revoked", "oidc.logout"} {
			if !slices.Contains(events, e) {
				t.Errorf("the audit trail lacks %s: %v", e, events)
			}
		}
	})
}

// auditEvents lists the events of the audit trail in order.
func auditEvents(t testing.TB, st store.Store) []string {
	t.Helper()
	var out []string
	for after := int64(0); ; {
		list, err := st.AuditEntries(t.Context(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			return out
		}
		for _, e := range list {
			out = append(out, e.Event)
			after = e.Seq
		}
	}
}

// TestOIDCFirstLoginWithLetterPassword: a person whose first login (with the
// letter's initial password) happens in an application's sign-in chooses a
// password and is then back at the application.
func TestOIDCFirstLoginWithLetterPassword(t *testing.T) {
	rp := nodetest.RPServer(t)
	redirect := rp.URL + "/callback"
	n := newOIDCNode(t, testdb.Open(t), redirect)
	p := n.others[0]
	const initial = "ABCDEFGHJKLMNPQR"
	if _, err := n.Accounts.SetInitialPassword(t.Context(), p.ID, initial); err != nil {
		t.Fatal(err)
	}
	party := nodetest.NewRelyingParty(t, n.issuer, redirect)
	b := nodetest.NewBrowserless(rp.URL)
	s := party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/low"))
	u, _, _ := b.Get(t, s.URL)
	next := u.Query().Get("weiter")
	// A wrong password keeps the application's name and the way back.
	_, status, body := b.Post(t, n.base, "/anmelden", url.Values{"kvnr": {p.KVNR}, "password": {"falsch"}, "weiter": {next}})
	if status/100 != 4 || !strings.Contains(body, "Die Anwendung „Bonusprogramm“") || !strings.Contains(body, `name="weiter" value="`+next+`"`) {
		t.Fatalf("a failed login (%d) lost the application: %s", status, body)
	}
	u, _, body = b.Post(t, n.base, "/anmelden", url.Values{"kvnr": {p.KVNR}, "password": {initial}, "weiter": {next}})
	if u.Path != "/passwort-aendern" || !strings.Contains(body, `name="weiter" value="`+next+`"`) {
		t.Fatalf("the first login led to %s: %s", u, body)
	}
	chosen := "Kastanienbaum im Herbstwind"
	back, _, body := b.Post(t, n.base, "/passwort-aendern", url.Values{"current_password": {initial},
		"new_password": {chosen}, "new_password_repeat": {chosen}, "weiter": {next}})
	if !strings.HasPrefix(back.String(), redirect) {
		t.Fatalf("after choosing a password the browser is at %s, want the application: %s", back, body)
	}
	if _, _, c := party.Finish(t, s, back); c.ACR != "http://eidas.europa.eu/LoA/low" || !slices.Contains(c.AMR, "pwd") {
		t.Errorf("acr %q amr %v", c.ACR, c.AMR)
	}
}
