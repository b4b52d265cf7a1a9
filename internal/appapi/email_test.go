package appapi_test

import (
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
)

var confirmLink = regexp.MustCompile(`/email/bestaetigen\?t=([A-Za-z0-9_-]+)`)

// TestEmailAPI: the e-mail address through the API with the reference
// phone and a real SMTP server on loopback: a password session cannot see
// it, the phone's session adds one, a confirmed one changes only through
// an email.change approval, and bad input is a 4xx that changes nothing.
func TestEmailAPI(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{})
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) {
		c.Mail = &email.SenderConfig{Relay: relay.Addr, From: "postfach@example.de", PortalURL: c.PublicURL, Timeout: 5 * time.Second}
		c.MailInterval = 100 * time.Millisecond
	}})
	in := n.Insure(t, 1)
	phone := n.BindPhone(t, in.Person, in.Password, phonePIN)
	code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": in.Person.KVNR, "password": in.Password})
	var login struct {
		SessionToken string `json:"session_token"`
	}
	if code != http.StatusCreated || json.Unmarshal(raw, &login) != nil {
		t.Fatalf("login: %d %s", code, raw)
	}
	if code, raw := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/me/email", login.SessionToken, nil); code != http.StatusForbidden {
		t.Errorf("GET /me/email with a password session: %d %s", code, raw)
	}
	if code, _ := nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/email", login.SessionToken, map[string]string{"address": "a@beispiel.de"}); code != http.StatusForbidden {
		t.Errorf("PUT /me/email with a password session: %d", code)
	}
	app, err := n.App().Login(t.Context(), phone.Device, phonePIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	tok := app.Token
	for _, body := range []any{map[string]string{"address": "kein at"}, map[string]string{"adresse": "a@b.de"}, map[string]any{"address": 7}} {
		if code, raw := nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/email", tok, body); code != http.StatusBadRequest {
			t.Errorf("PUT /me/email %v: %d %s", body, code, raw)
		}
	}
	code, raw = nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/email", tok, map[string]string{"address": "versicherte@beispiel-mail.de"})
	if code != http.StatusAccepted || !strings.Contains(string(raw), `"pending":"v***@b***.de"`) || strings.Contains(string(raw), "versicherte@") {
		t.Fatalf("PUT /me/email: %d %s", code, raw)
	}
	m := relay.Wait(1, 10*time.Second)[0]
	body, err := io.ReadAll(quotedprintable.NewReader(m.Message(t).Body))
	if err != nil {
		t.Fatal(err)
	}
	link := confirmLink.FindStringSubmatch(string(body))
	if link == nil {
		t.Fatalf("no link in the confirmation mail:\n%s", m.Data)
	}
	resp, err := http.PostForm(n.URL+email.ConfirmPath, url.Values{"t": {link[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirming: %d", resp.StatusCode)
	}
	if code, raw := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/me/email", tok, nil); code != http.StatusOK ||
		!strings.Contains(string(raw), `"address":"v***@b***.de","pending":"","pending_until":null,"notify":true`) {
		t.Errorf("GET /me/email after confirming: %d %s", code, raw)
	}
	if code, raw := nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/email", tok, map[string]string{"address": "x@beispiel.de"}); code != http.StatusConflict ||
		!strings.Contains(string(raw), "email_approval_required") {
		t.Errorf("PUT over a confirmed address: %d %s", code, raw)
	}
	if code, raw := nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/email/notify", tok, map[string]any{}); code != http.StatusBadRequest {
		t.Errorf("notify without a value: %d %s", code, raw)
	}
	if code, _ := nodetest.CallAPI(t, "PUT", n.URL+"/api/v1/me/email/notify", tok, map[string]bool{"notify": false}); code != http.StatusNoContent {
		t.Errorf("notify off: %d", code)
	}
	if code, _ := nodetest.CallAPI(t, "DELETE", n.URL+"/api/v1/me/email/pending", tok, nil); code != http.StatusConflict {
		t.Errorf("DELETE pending without one: %d", code)
	}

	// The change: approved on the phone, a new link to the new address.
	code, raw = nodetest.CallAPI(t, "POST", n.URL+"/api/v1/me/email/change", tok, map[string]string{"address": "neu@beispiel-mail.de"})
	if code != http.StatusAccepted {
		t.Fatalf("change: %d %s", code, raw)
	}
	a, _ := n.Pending(t, phone, approval.ActionEmailChange)
	if a.Text != "Neue E-Mail-Adresse für Benachrichtigungen: neu@beispiel-mail.de" {
		t.Errorf("the phone shows %q", a.Text)
	}
	if err := n.App().Approve(t.Context(), phone.Device, a, phonePIN, "pin", 0); err != nil {
		t.Fatal(err)
	}
	if got := relay.Wait(2, 10*time.Second)[1]; got.To[0] != "neu@beispiel-mail.de" {
		t.Errorf("the new link went to %v", got.To)
	}
	if code, raw := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/me/email", tok, nil); code != http.StatusOK ||
		!strings.Contains(string(raw), `"address":"v***@b***.de","pending":"n***@b***.de"`) {
		t.Errorf("GET /me/email after the approved change: %d %s", code, raw)
	}
}
