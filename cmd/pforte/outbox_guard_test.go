package main

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// TestOutboxNeedsTheCoreSystemsToken guards the bearer check of GET
// /api/v1/outbox (whose events carry, among others, opened bank accounts):
// only the configured token reads it; no token, a wrong one, one of the right
// length, and a person's session token get 401 and no event.
func TestOutboxNeedsTheCoreSystemsToken(t *testing.T) {
	n := startWatchedNode(t, sqltest.SQLite(t), "http://127.0.0.1:1/callback")
	n.bindPhone(t)
	code, raw := apiCall(t, "POST", n.base+"/api/v1/sessions", "", map[string]string{"kvnr": n.person.KVNR, "password": n.password})
	if code != http.StatusCreated {
		t.Fatalf("login: %d %s", code, raw)
	}
	var login struct {
		SessionToken string `json:"session_token"`
	}
	if err := json.Unmarshal(raw, &login); err != nil || login.SessionToken == "" {
		t.Fatalf("login answer %s: %v", raw, err)
	}
	// The change is asked for by the phone's own session: a password
	// session may not.
	appSession, err := n.app.Login(t.Context(), n.phone, phonePIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	if code, raw := apiCall(t, "PUT", n.base+"/api/v1/me/bank-account", appSession.Token,
		map[string]string{"iban": "DE89370400440532013000"}); code != http.StatusAccepted {
		t.Fatalf("bank change: %d %s", code, raw)
	}
	a, _ := n.pending(t, approval.ActionBankChange)
	if err := n.app.Approve(t.Context(), n.phone, a, phonePIN, "pin", 0); err != nil {
		t.Fatal(err)
	}

	// The change is carried out (today when its status is read; once the
	// approval runs its executor, already at the approval).
	if code, raw := apiCall(t, "GET", n.base+"/api/v1/approvals/"+a.ID, login.SessionToken, nil); code != http.StatusOK ||
		!strings.Contains(string(raw), `"approved"`) {
		t.Fatalf("approval status: %d %s", code, raw)
	}
	url := n.base + "/api/v1/outbox"
	wrongSameLength := []byte(n.outboxToken)
	wrongSameLength[len(wrongSameLength)-1] ^= 1
	for name, tok := range map[string]string{
		"no token":                  "",
		"wrong token":               "not-the-core-system",
		"right length, wrong value": string(wrongSameLength),
		"the token's prefix":        n.outboxToken[:len(n.outboxToken)-1],
		"the token and more":        n.outboxToken + "x",
		"a person's session token":  login.SessionToken,
		"the token in another case": strings.ToUpper(n.outboxToken),
	} {
		code, raw := apiCall(t, "GET", url, tok, nil)
		if code != http.StatusUnauthorized || strings.Contains(string(raw), "bank") || strings.Contains(string(raw), "DE89") ||
			strings.Contains(string(raw), `"events"`) {
			t.Errorf("%s: %d %s, want 401 and no event", name, code, raw)
		}
	}
	code, raw = apiCall(t, "GET", url, n.outboxToken, nil)
	var out struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if code != http.StatusOK || json.Unmarshal(raw, &out) != nil || len(out.Events) != 1 {
		t.Fatalf("with the core system's token: %d %s, want 200 and the bank change", code, raw)
	}

	// The comparison takes the same time whatever the token: it is
	// crypto/subtle's, never == (read from the handler's code).
	src, err := os.ReadFile("../../internal/appapi/outbox.go")
	if err != nil {
		t.Fatal(err)
	}
	handler := regexp.MustCompile(`(?s)func \(h \*outboxHandlers\) outbox\(.*?\n}\n`).Find(src)
	if !regexp.MustCompile(`subtle\.ConstantTimeCompare\(\[\]byte\(tok\), \[\]byte\(h\.token\)\) != 1`).Match(handler) ||
		regexp.MustCompile(`tok\s*[!=]=|token\s*[!=]=\s*tok`).Match(handler) {
		t.Errorf("the outbox handler does not compare the token with crypto/subtle alone:\n%s", handler)
	}
}
