package oidc_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

const cibaDetails = `[{"type":"payment_initiation","amount":"42.00","currency":"EUR","creditor":"Apotheke am Markt","iban":"DE02120300000000202051"}]`

// cibaStart posts a backchannel authentication request and returns the
// auth_req_id.
func cibaStart(t *testing.T, n *oidcNode, kvnr, bindingMessage, details string) (int, map[string]any) {
	t.Helper()
	return nodetest.TokenPost(t, n.issuer+"/bc-authorize", cibaID, cibaSecret, url.Values{"scope": {"openid profile"},
		"login_hint": {kvnr}, "binding_message": {bindingMessage}, "authorization_details": {details},
		"acr_values": {"http://eidas.europa.eu/LoA/substantial"}})
}

func cibaPoll(t *testing.T, n *oidcNode, id string) (int, map[string]any) {
	t.Helper()
	return nodetest.TokenPost(t, n.issuer+"/oauth/token", cibaID, cibaSecret,
		url.Values{"grant_type": {"urn:openid:params:grant-type:ciba"}, "auth_req_id": {id}})
}

// wantError checks an OAuth error answer.
func wantError(t *testing.T, what string, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Fatalf("%s: %d %v, want %d %s", what, status, body, wantStatus, code)
	}
}

// TestCIBA runs CIBA in poll mode with the reference app client as the
// phone: approve (the tokens carry exactly the authorization_details the
// phone signed), decline, slow_down, an unknown KVNR and expiry.
func TestCIBA(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		n := newOIDCNode(t, st, "http://127.0.0.1:1/callback")
		n.bindPhone(t)
		ctx := t.Context()

		status, res := cibaStart(t, n, n.person.KVNR, "ZAHLUNG-4711", cibaDetails)
		if status != http.StatusOK {
			t.Fatalf("backchannel request: %d %v", status, res)
		}
		id, _ := res["auth_req_id"].(string)
		if len(id) < 40 || res["interval"] != float64(5) || res["expires_in"].(float64) <= 0 {
			t.Fatalf("backchannel answer %v", res)
		}
		status, body := cibaPoll(t, n, id)
		wantError(t, "first poll", status, body, http.StatusBadRequest, "authorization_pending")
		status, body = cibaPoll(t, n, id)
		wantError(t, "second poll at once", status, body, http.StatusBadRequest, "slow_down")

		// What the phone shows and signs.
		a, _ := n.pending(t, approval.ActionClientRequest)
		for _, s := range []string{"Kasse-App", "ZAHLUNG-4711", "Zahlung über 42,00 € an Apotheke am Markt", "IBAN: DE02 1203 0000 0000 2020 51"} {
			if !strings.Contains(a.Text, s) {
				t.Errorf("the phone's text lacks %q:\n%s", s, a.Text)
			}
		}
		var signed struct {
			BindingMessage       string          `json:"binding_message"`
			AuthorizationDetails json.RawMessage `json:"authorization_details"`
		}
		if err := json.Unmarshal(a.Data, &signed); err != nil || signed.BindingMessage != "ZAHLUNG-4711" {
			t.Fatalf("approval data %s: %v", a.Data, err)
		}
		if err := n.App().Approve(ctx, n.phone.Device, a, phonePIN, "fpt", 0); err != nil {
			t.Fatal(err)
		}
		// Polling after the (slowed) interval yields the tokens.
		ageLastPoll(t, st, id, 11*time.Second)
		status, body = cibaPoll(t, n, id)
		if status != http.StatusOK {
			t.Fatalf("poll after approval: %d %v", status, body)
		}
		got, _ := json.Marshal(body["authorization_details"])
		if !jsonEqual(t, got, signed.AuthorizationDetails) {
			t.Errorf("token response authorization_details %s, the phone signed %s", got, signed.AuthorizationDetails)
		}
		at, _ := body["access_token"].(string)
		claims := jwtClaims(t, at)
		atDetails, _ := json.Marshal(claims["authorization_details"])
		if !jsonEqual(t, atDetails, signed.AuthorizationDetails) {
			t.Errorf("access token authorization_details %s, the phone signed %s", atDetails, signed.AuthorizationDetails)
		}
		rawID, _ := body["id_token"].(string)
		p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, http.DefaultClient), n.issuer)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := p.Verifier(&gooidc.Config{ClientID: cibaID, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, rawID)
		if err != nil {
			t.Fatalf("CIBA ID token: %v", err)
		}
		var ic nodetest.IDClaims
		idt.Claims(&ic)
		// The app reported "fpt"; the token says what the server verified.
		if ic.ACR != "http://eidas.europa.eu/LoA/substantial" || strings.Join(ic.AMR, " ") != "hwk pin mfa" {
			t.Errorf("CIBA ID token acr %q amr %v", ic.ACR, ic.AMR)
		}
		// Redeemed once only.
		ageLastPoll(t, st, id, 11*time.Second)
		status, body = cibaPoll(t, n, id)
		wantError(t, "second redemption", status, body, http.StatusBadRequest, "invalid_grant")

		// Declined on the phone.
		_, res = cibaStart(t, n, n.person.KVNR, "ANTRAG-9", `[{"type":"claim_submission","claim":"Zahnreinigung"}]`)
		declined, _ := res["auth_req_id"].(string)
		a, _ = n.pending(t, approval.ActionClientRequest)
		if err := n.App().Decline(ctx, n.phone.Device, a, false); err != nil {
			t.Fatal(err)
		}
		status, body = cibaPoll(t, n, declined)
		wantError(t, "declined", status, body, http.StatusBadRequest, "access_denied")

		// An unknown KVNR looks like a pending request, until it expires.
		status, res = cibaStart(t, n, "X110411675", "ZAHLUNG-1", cibaDetails)
		if status != http.StatusOK {
			t.Fatalf("unknown KVNR: %d %v, want the same answer as for a known one", status, res)
		}
		unknown, _ := res["auth_req_id"].(string)
		status, body = cibaPoll(t, n, unknown)
		wantError(t, "unknown KVNR", status, body, http.StatusBadRequest, "authorization_pending")
		expire(t, st, unknown)
		status, body = cibaPoll(t, n, unknown)
		wantError(t, "unknown KVNR after expiry", status, body, http.StatusBadRequest, "expired_token")

		// Another client cannot redeem the request; wrong credentials are 401.
		status, body = nodetest.TokenPost(t, n.issuer+"/oauth/token", rpID, rpSecret,
			url.Values{"grant_type": {"urn:openid:params:grant-type:ciba"}, "auth_req_id": {id}})
		wantError(t, "other client", status, body, http.StatusBadRequest, "invalid_grant")
		status, body = nodetest.TokenPost(t, n.issuer+"/oauth/token", cibaID, "wrong",
			url.Values{"grant_type": {"urn:openid:params:grant-type:ciba"}, "auth_req_id": {id}})
		wantError(t, "wrong secret", status, body, http.StatusUnauthorized, "invalid_client")
		events := auditEvents(t, st)
		for _, e := range []string{"oidc.ciba_requested", "oidc.token_issued", "approval.approved", "approval.declined"} {
			if !slices.Contains(events, e) {
				t.Errorf("the audit trail lacks %s: %v", e, events)
			}
		}
	})
}

// ageLastPoll moves the request's last poll d into the past, as if the
// client had waited.
func ageLastPoll(t *testing.T, st store.Store, id string, d time.Duration) {
	t.Helper()
	if _, err := st.UpdateCIBARequest(t.Context(), digestOf(id), func(c *store.CIBARequest) error {
		c.LastPollAt = c.LastPollAt.Add(-d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// expire moves the request's expiry into the past.
func expire(t *testing.T, st store.Store, id string) {
	t.Helper()
	if _, err := st.UpdateCIBARequest(t.Context(), digestOf(id), func(c *store.CIBARequest) error {
		c.ExpiresAt = time.Now().Add(-time.Second)
		c.LastPollAt = c.LastPollAt.Add(-time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

// jwtClaims decodes a JWT's payload without verifying it (the caller has
// verified tokens of the same issuer).
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var _ = appclient.ContentHash
