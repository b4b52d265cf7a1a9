package backoffice_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// captureAnswer makes the page keep the key's answer in sessionStorage
// when its script posts the form (for the replay below).
const captureAnswer = `(() => { const submit = HTMLFormElement.prototype.submit;
	HTMLFormElement.prototype.submit = function () {
		const a = this.elements.namedItem("antwort"); if (a) sessionStorage.setItem("antwort", a.value);
		return submit.call(this); }; return true; })()`

// keyCookie is the key ceremony cookie's name (with __Host- where the
// browser takes secure cookies).
const keyCookie = "pforte_staff_key"

// TestBrowserSecurityKey: in Chromium with a virtual authenticator (CDP's
// WebAuthn domain) a staff member registers a security key and signs in
// with login, password and the key; the key's answer sent a second time,
// a key with the right id but another private key, and a clone whose
// counter does not increase are refused with no session; the last second
// factor cannot be removed. axe-core finds no WCAG 2.1 A/AA violation on
// the new pages.
func TestBrowserSecurityKey(t *testing.T) {
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 2 * time.Minute})
	browsertest.NeedAxe(t)
	// Many logins from one address: the per-address limit is not tested here.
	n := nodetest.Start(t, nodetest.Options{Host: "localhost", Config: func(c *node.Config) { c.Backoffice.LoginBurst = 100 }})
	cr, err := n.Staff.Add(t.Context(), "bernd", "Bernd Beispiel", staff.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	auth := addAuthenticator(t, ctx)

	do(t, ctx, "log in with a code", chromedp.Navigate(n.URL+"/backoffice/anmelden"), chromedp.WaitVisible("#kennung"),
		chromedp.SendKeys("#kennung", "bernd"), chromedp.SendKeys("#passwort", string(cr.Password)),
		chromedp.SendKeys("#code", staff.Code(cr.Secret, time.Now())),
		chromedp.Click("main button[type=submit]"), atPath("/backoffice/"))
	do(t, ctx, "the keys page", chromedp.Click(`//header//a[contains(., 'Sicherheitsschlüssel')]`),
		atPath("/backoffice/sicherheitsschluessel"), chromedp.WaitVisible(`//p[contains(., 'noch keinen Sicherheitsschlüssel')]`))
	browsertest.A11y(t, ctx, "keys page without keys")
	do(t, ctx, "name the key", chromedp.SendKeys("#name", "Schlüssel Büro"), chromedp.Click(`//button[contains(., 'Weiter')]`),
		chromedp.WaitVisible(`//button[contains(., 'Schlüssel jetzt einrichten')]`))
	browsertest.A11y(t, ctx, "key registration page")
	do(t, ctx, "register the key", chromedp.Click(`//button[contains(., 'Schlüssel jetzt einrichten')]`),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Schlüssel Büro')]`))
	browsertest.A11y(t, ctx, "keys page with a key")
	st, _ := n.Store.StaffByLogin(t.Context(), "bernd")
	keys, err := n.Store.StaffKeysOf(t.Context(), st.ID)
	if err != nil || len(keys) != 1 || keys[0].Name != "Schlüssel Büro" {
		t.Fatalf("stored keys: %+v, %v", keys, err)
	}
	if len(auditOf(t, n, store.AuditFilter{Event: "staff.key_added", Subject: st.ID.Ref()})) != 1 {
		t.Error("no audit entry staff.key_added")
	}

	// Log in with login, password and the key; keep the key's answer and
	// the ceremony's handle.
	keyStep(t, ctx, n, string(cr.Password))
	browsertest.A11y(t, ctx, "key login page")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](captureAnswer)); err != nil {
		t.Fatal(err)
	}
	handle, keyName := cookie(t, ctx, n, "pforte_staff_key"), keyCookieName(t, ctx, n)
	if handle == "" {
		t.Fatal("no key ceremony cookie")
	}
	do(t, ctx, "confirm with the key", chromedp.Click(`//button[contains(., 'Mit Sicherheitsschlüssel bestätigen')]`),
		atPath("/backoffice/"), chromedp.WaitVisible(`//h1[contains(., 'Übersicht')]`))
	answer, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("antwort")`))
	if err != nil || !strings.Contains(answer, "authenticatorData") {
		t.Fatalf("captured answer %q, %v", answer, err)
	}
	logins := auditOf(t, n, store.AuditFilter{Event: "staff.login", Subject: st.ID.Ref()})
	if len(logins) == 0 || !strings.Contains(string(logins[0].Details), `"method":"key"`) {
		t.Errorf("login entries: %+v", logins)
	}

	// The same answer again, with the used handle: refused, no session.
	c := bare(t, n)
	replay := func(h string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "POST", n.URL+"/backoffice/anmelden/schluessel",
			strings.NewReader(url.Values{"antwort": {answer}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: keyName, Value: h})
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if strings.HasSuffix(ck.Name, "pforte_staff") && ck.Value != "" {
				t.Errorf("a replayed answer got a session")
			}
		}
		return resp.StatusCode
	}
	if code := replay(handle); code != http.StatusUnauthorized {
		t.Errorf("replayed answer with the used handle: %d, want 401", code)
	}
	// … and with a fresh challenge of a new attempt: its challenge differs.
	resp, err := c.PostForm(n.URL+"/backoffice/anmelden", url.Values{"kennung": {"bernd"}, "passwort": {string(cr.Password)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var fresh string
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, keyCookie) {
			fresh, keyName = ck.Value, ck.Name
		}
	}
	if resp.StatusCode != http.StatusOK || fresh == "" {
		t.Fatalf("new attempt: %d, handle %q", resp.StatusCode, fresh)
	}
	if code := replay(fresh); code != http.StatusUnauthorized {
		t.Errorf("replayed answer to a new challenge: %d, want 401", code)
	}

	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("credentials: %v, %v", creds, err)
	}
	orig := *creds.Credentials[0]
	swap := func(cred webauthn.Credential) {
		t.Helper()
		if _, err := chromedp.Call(ctx, webauthn.ClearCredentials, webauthn.ClearCredentialsParams{AuthenticatorID: auth}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, addCredential, addCredentialParams{AuthenticatorID: auth, Credential: keyOf(cred)}); err != nil {
			t.Fatal(err)
		}
	}
	// The right key id with another private key.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pk, _ := x509.MarshalPKCS8PrivateKey(other)
	wrong := orig
	wrong.PrivateKey, wrong.SignCount = pk, orig.SignCount+10
	swap(wrong)
	do(t, ctx, "log out", chromedp.Click(`//header//button[contains(., 'Abmelden')]`), atPath("/backoffice/anmelden"))
	keyStep(t, ctx, n, string(cr.Password))
	do(t, ctx, "another private key", chromedp.Click(`//button[contains(., 'Mit Sicherheitsschlüssel bestätigen')]`),
		chromedp.WaitVisible(`//p[@role='alert'][contains(., 'Sicherheitsschlüssel ist fehlgeschlagen')]`))
	browsertest.A11y(t, ctx, "refused key login")

	// A clone: the right key, but its counter behind the stored one.
	clone := orig
	clone.SignCount = 0
	swap(clone)
	keyStep(t, ctx, n, string(cr.Password))
	do(t, ctx, "a cloned key", chromedp.Click(`//button[contains(., 'Mit Sicherheitsschlüssel bestätigen')]`),
		chromedp.WaitVisible(`//p[@role='alert'][contains(., 'Sicherheitsschlüssel ist fehlgeschlagen')]`))
	if len(auditOf(t, n, store.AuditFilter{Event: "staff.key_clone_suspected", Subject: st.ID.Ref()})) != 1 {
		t.Error("no audit entry staff.key_clone_suspected")
	}
	if got := cookie(t, ctx, n, "pforte_staff"); got != "" {
		t.Error("a session after the refused keys")
	}

	// The real key, ahead of the stored counter, still works; TOTP off;
	// the last key stays.
	ahead := orig
	ahead.SignCount = orig.SignCount + 5
	swap(ahead)
	keyStep(t, ctx, n, string(cr.Password))
	do(t, ctx, "the real key", chromedp.Click(`//button[contains(., 'Mit Sicherheitsschlüssel bestätigen')]`), atPath("/backoffice/"))
	do(t, ctx, "TOTP off", chromedp.Navigate(n.URL+"/backoffice/sicherheitsschluessel"),
		chromedp.Click(`//button[contains(., 'Einmalcode abschalten')]`),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Einmalcode ist abgeschaltet')]`))
	do(t, ctx, "remove the last key", chromedp.Click(`//button[contains(., 'Schlüssel Büro')]`),
		chromedp.WaitVisible(`//p[@role='alert'][contains(., 'letzter zweiter Faktor')]`))
	browsertest.A11y(t, ctx, "last factor refused")
	if keys, _ := n.Store.StaffKeysOf(t.Context(), st.ID); len(keys) != 1 {
		t.Errorf("keys after refusing the last: %d", len(keys))
	}
}

// addAuthenticator adds a virtual USB security key (CTAP2) with user
// verification that answers at once.
func addAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportUsb,
		HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatal(err)
	}
	return res.AuthenticatorID
}

// keyStep opens the login and sends login and password without a code:
// the page then asks for the key.
func keyStep(t *testing.T, ctx context.Context, n *nodetest.Node, password string) {
	t.Helper()
	do(t, ctx, "login without a code", chromedp.Navigate(n.URL+"/backoffice/anmelden"), chromedp.WaitVisible("#kennung"),
		chromedp.SendKeys("#kennung", "bernd"), chromedp.SendKeys("#passwort", password),
		chromedp.Click("main button[type=submit]"), chromedp.WaitVisible(`//button[contains(., 'Mit Sicherheitsschlüssel bestätigen')]`))
}

// cookie is the browser's cookie name (or __Host-name) for n ("" if
// none).
func cookie(t *testing.T, ctx context.Context, n *nodetest.Node, name string) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{n.URL + "/backoffice/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == name || c.Name == "__Host-"+name {
			return c.Value
		}
	}
	return ""
}

// keyCookieName is the name the node gave the key ceremony cookie.
func keyCookieName(t *testing.T, ctx context.Context, n *nodetest.Node) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{n.URL + "/backoffice/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if strings.HasSuffix(c.Name, keyCookie) {
			return c.Name
		}
	}
	return keyCookie
}

// addCredential is WebAuthn.addCredential without the CMTG fields, which
// cdproto always sends and a virtual security key refuses.
var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      credential               `json:"credential"`
}

// credential is a webauthn.Credential without a resident key's or CMTG's
// fields.
type credential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"`
	SignCount            float64 `json:"signCount"`
}

func keyOf(c webauthn.Credential) credential {
	return credential{CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential, RpID: c.RpID,
		PrivateKey: c.PrivateKey, SignCount: c.SignCount}
}
