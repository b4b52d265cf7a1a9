package appapi_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
)

// phonePIN is the PIN of the phones the guards bind.
const phonePIN = "482915"

// startOutboxNode starts a node like the one the whole-node guards watch
// (the client "bonus") whose outbox is open to the core system's token,
// which it returns.
func startOutboxNode(t *testing.T, redirect string) (*nodetest.Node, string) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	token := "core-" + strings.Repeat("x", 4) + base64.StdEncoding.EncodeToString(key)
	n := nodetest.Start(t, nodetest.Options{Clients: nodetest.StandardClients(redirect)[:1],
		Config: func(c *node.Config) { c.OutboxToken = token }})
	return n, token
}

// TestOutboxNeedsTheCoreSystemsToken guards the bearer check of GET
// /api/v1/outbox (whose events carry, among others, opened bank accounts):
// only the configured token reads it; no token, a wrong one, one of the right
// length, and a person's session token get 401 and no event.
func TestOutboxNeedsTheCoreSystemsToken(t *testing.T) {
	n, outboxToken := startOutboxNode(t, "http://127.0.0.1:1/callback")
	in := n.Insure(t, 1)
	phone := n.BindPhone(t, in.Person, in.Password, phonePIN)
	code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": in.Person.KVNR, "password": in.Password})
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
	appSession, err := n.App().Login(t.Context(), phone.Device, phonePIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	if code, raw := nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/bank-account", appSession.Token,
		map[string]string{"iban": "DE89370400440532013000"}); code != http.StatusAccepted {
		t.Fatalf("bank change: %d %s", code, raw)
	}
	a, _ := n.Pending(t, phone, approval.ActionBankChange)
	if err := n.App().Approve(t.Context(), phone.Device, a, phonePIN, "pin", 0); err != nil {
		t.Fatal(err)
	}

	// The change is carried out (today when its status is read; once the
	// approval runs its executor, already at the approval).
	if code, raw := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/approvals/"+a.ID, login.SessionToken, nil); code != http.StatusOK ||
		!strings.Contains(string(raw), `"approved"`) {
		t.Fatalf("approval status: %d %s", code, raw)
	}
	url := n.URL + "/api/v1/outbox"
	wrongSameLength := []byte(outboxToken)
	wrongSameLength[len(wrongSameLength)-1] ^= 1
	for name, tok := range map[string]string{
		"no token":                  "",
		"wrong token":               "not-the-core-system",
		"right length, wrong value": string(wrongSameLength),
		"the token's prefix":        outboxToken[:len(outboxToken)-1],
		"the token and more":        outboxToken + "x",
		"a person's session token":  login.SessionToken,
		"the token in another case": strings.ToUpper(outboxToken),
	} {
		code, raw := nodetest.CallAPI(t, "GET", url, tok, nil)
		if code != http.StatusUnauthorized || strings.Contains(string(raw), "bank") || strings.Contains(string(raw), "DE89") ||
			strings.Contains(string(raw), `"events"`) {
			t.Errorf("%s: %d %s, want 401 and no event", name, code, raw)
		}
	}
	code, raw = nodetest.CallAPI(t, "GET", url, outboxToken, nil)
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
	src, err := os.ReadFile("outbox.go")
	if err != nil {
		t.Fatal(err)
	}
	handler := regexp.MustCompile(`(?s)func \(h \*outboxHandlers\) outbox\(.*?\n}\n`).Find(src)
	if !regexp.MustCompile(`subtle\.ConstantTimeCompare\(\[\]byte\(tok\), \[\]byte\(h\.token\)\) != 1`).Match(handler) ||
		regexp.MustCompile(`tok\s*[!=]=|token\s*[!=]=\s*tok`).Match(handler) {
		t.Errorf("the outbox handler does not compare the token with crypto/subtle alone:\n%s", handler)
	}
}
