package oidc_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// rows counts the rows of table.
func rows(t *testing.T, st store.Store, table string) int {
	t.Helper()
	var n int
	if err := testdb.SQL(t, st).DB().QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCIBADuplicateMembers: authorization_details that name a member twice,
// at any depth, are refused at the backchannel endpoint before anything is
// stored or sent to the phone: encoding/json would keep the last value, a
// client's own system may read the first.
func TestCIBADuplicateMembers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		n := newOIDCNode(t, st, "http://127.0.0.1:1/callback")
		n.bindPhone(t)
		for _, details := range []string{
			`[{"type":"payment_initiation","amount":"1.00","amount":"1000.00","iban":"DE02120300000000202051"}]`,
			`[{"type":"claim_submission","type":"payment_initiation","amount":"42.00"}]`,
			`[{"type":"payment_initiation","amount":{"value":"1.00","currency":"EUR","\u0063urrency":"USD"}}]`,
			`[{"type":"claim_submission","claim":"Zahnreinigung"},{"type":"payment_initiation","creditor":[{"iban":"DE02","iban":"DE89"}]}]`,
		} {
			status, body := cibaStart(t, n, n.person.KVNR, "ZAHLUNG-1", details)
			wantError(t, details, status, body, http.StatusBadRequest, "invalid_authorization_details")
			if desc, _ := body["error_description"].(string); !strings.Contains(desc, "twice") {
				t.Errorf("%s: error_description %q does not say what is wrong", details, desc)
			}
		}
		if a, c := rows(t, st, "approvals"), rows(t, st, "ciba_requests"); a != 0 || c != 0 {
			t.Errorf("after the refused requests: %d approvals, %d CIBA requests, want none", a, c)
		}
		if slices.Contains(auditEvents(t, st), "oidc.ciba_requested") {
			t.Error("a refused request was recorded as requested")
		}
		// The same details without the repetition are asked for.
		status, body := cibaStart(t, n, n.person.KVNR, "ZAHLUNG-1", `[{"type":"payment_initiation","amount":"1000.00","iban":"DE02120300000000202051"}]`)
		if status != http.StatusOK || rows(t, st, "ciba_requests") != 1 {
			t.Fatalf("the request without repetition: %d %v", status, body)
		}
	})
}

// TestOIDCErrorAnswersMounted: the node serves the provider's own error
// answers, not op's: userinfo with the Bearer challenge, client
// authentication with the Basic one, both as JSON.
func TestOIDCErrorAnswersMounted(t *testing.T) {
	quietOP(t)
	n := newOIDCNode(t, testdb.Open(t), "http://127.0.0.1:1/callback")
	req, _ := http.NewRequest(http.MethodGet, n.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer bm90LWEtdG9rZW4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("userinfo with garbage: %d %v, want 401 invalid_token in JSON", resp.StatusCode, resp.Header)
	}
	for _, path := range []string{"/oauth/introspect", "/revoke", "/oauth/token", "/bc-authorize"} {
		req, _ := http.NewRequest(http.MethodPost, n.issuer+path, strings.NewReader(url.Values{"token": {"x"}, "grant_type": {"refresh_token"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(rpID, "wrong-secret-0123456789abcdefghijklmnop")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="`) ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with a wrong secret: %d %v, want 401 with the Basic challenge in JSON", path, resp.StatusCode, resp.Header)
		}
	}
}
