package node_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// secrets collects every secret value a test saw or made, with the forms
// in which it could show up in a log line or an answer.
type secrets struct {
	values map[string]string // value → what it is
}

func (s *secrets) add(what, v string) {
	if len(v) < 8 {
		return
	}
	if s.values == nil {
		s.values = map[string]string{}
	}
	if _, ok := s.values[v]; !ok {
		s.values[v] = what
	}
}

// forms returns each secret and its encoded forms: URL-escaped, base64 (four
// alphabets) and hex of its bytes and, if it is itself base64, of the bytes
// it encodes.
func (s *secrets) forms() map[string]string {
	out := map[string]string{}
	put := func(what, f string) {
		if _, named := out[f]; len(f) >= 8 && !named {
			out[f] = what
		}
	}
	for v, what := range s.values {
		put(what, v) // the plain values first: they name a form best
	}
	for v, what := range s.values {
		put(what+" (URL-escaped)", url.QueryEscape(v))
		put(what+" (path-escaped)", url.PathEscape(v))
		b := []byte(v)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			put(what+" (base64)", enc.EncodeToString(b))
			if raw, err := enc.DecodeString(v); err == nil && len(raw) >= 8 {
				put(what+" (decoded, hex)", hex.EncodeToString(raw))
				put(what+" (decoded, base64)", base64.StdEncoding.EncodeToString(raw))
				put(what+" (decoded, base64url)", base64.RawURLEncoding.EncodeToString(raw))
			}
		}
		put(what+" (hex)", hex.EncodeToString(b))
	}
	return out
}

// secretKey reports JSON and form keys whose values are secrets.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "code", "activation_code", "iban", "code_verifier", "client_secret", "token", "login_hint_token":
		return true
	}
	return strings.Contains(k, "password") || strings.Contains(k, "signature") || strings.Contains(k, "token")
}

// harvestJSON adds the values of JSON bodies (at any depth) whose keys secret
// reports.
func (s *secrets) harvestJSON(what string, body []byte, secret func(string) bool) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case string:
			if secret(key) {
				s.add(what+" "+key, x)
			}
		}
	}
	walk("", v)
}

// harvestTraffic adds every secret the node's traffic carried: request
// bodies (JSON and forms), bearer tokens, client credentials, cookies, codes
// in redirects, and tokens in answers.
func (s *secrets) harvestTraffic(all []exchange) {
	for _, x := range all {
		where := x.method + " " + x.path
		s.harvestJSON(where, x.body, secretKey)
		s.harvestJSON(where+" answer", x.respBody, func(k string) bool {
			return k == "session_token" || k == "access_token" || k == "refresh_token" || k == "id_token"
		})
		if form, err := url.ParseQuery(string(x.body)); err == nil && strings.HasPrefix(x.header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			for k, vs := range form {
				for _, v := range vs {
					if secretKey(k) {
						s.add(where+" "+k, v)
					}
				}
			}
		}
		if q, err := url.ParseQuery(x.query); err == nil {
			for k, vs := range q {
				for _, v := range vs {
					if secretKey(k) {
						s.add(where+" query "+k, v)
					}
				}
			}
		}
		if auth := x.header.Get("Authorization"); auth != "" {
			if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
				s.add(where+" bearer token", tok)
			}
			if basic, ok := strings.CutPrefix(auth, "Basic "); ok {
				s.add(where+" client credentials", basic)
				if raw, err := base64.StdEncoding.DecodeString(basic); err == nil {
					if _, secret, ok := strings.Cut(string(raw), ":"); ok {
						s.add(where+" client secret", secret)
					}
				}
			}
		}
		for _, c := range (&http.Response{Header: x.respHeader}).Cookies() {
			s.add(where+" cookie "+c.Name, c.Value)
		}
		if loc := x.respHeader.Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				for k, vs := range u.Query() {
					for _, v := range vs {
						if secretKey(k) {
							s.add(where+" redirect "+k, v)
						}
					}
				}
			}
		}
	}
}

// letterSecrets opens the secrets of the person's newest letter of kind
// (before its export clears them).
func letterSecrets(t *testing.T, n *watchedNode, id store.PersonID, kind string) (initial, code string) {
	t.Helper()
	letters, err := n.Store.PersonLetters(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(letters) - 1; i >= 0; i-- {
		l := letters[i]
		if l.Kind != kind || l.Secrets.IsZero() {
			continue
		}
		plain, err := n.Cfg.Keys.OpenFor(l.Secrets, []byte("letter:"+l.ID))
		if err != nil {
			t.Fatal(err)
		}
		var sec struct {
			InitialPassword string `json:"initial_password"`
			ActivationURL   string `json:"activation_url"`
		}
		if err := json.Unmarshal(plain, &sec); err != nil {
			t.Fatal(err)
		}
		_, code, _ := strings.Cut(sec.ActivationURL, "#")
		if sec.InitialPassword == "" || code == "" {
			t.Fatalf("letter %s holds no codes", l.ID)
		}
		return sec.InitialPassword, code
	}
	t.Fatalf("no %s letter with codes among %d letters", kind, len(letters))
	return "", ""
}

// TestNoSecretInLogsOrErrorBodies runs one node at level debug through every
// flow a person goes through and fails if a secret the test saw or made
// (passwords, PIN signatures, session tokens and cookies, OpenID codes and
// tokens, activation and reset codes, IBANs, client secrets) appears in a log
// line or in the body of an error answer, or if a KVNR appears in a log line
// (where it is never allowed: log lines name persons by their id).
func TestNoSecretInLogsOrErrorBodies(t *testing.T) {
	rp := nodetest.RPServer(t)
	redirect := rp.URL + "/callback"
	n := startWatchedNode(t, redirect)
	ctx := t.Context()
	var sec secrets
	kvnrs := []string{n.person.KVNR}

	// A person without an account requests access by letter.
	var p store.Person
	for _, o := range n.others {
		if len(o.BirthDate) == len("2006-01-02") {
			p = o
			break
		}
	}
	if p.ID == 0 {
		t.Fatal("no person with a full birth date")
	}
	kvnrs = append(kvnrs, p.KVNR)
	if code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/access-requests", "", map[string]string{"kvnr": p.KVNR,
		"postal_code": p.PostalCode, "birth_date": p.BirthDate, "method": "letter"}); code != http.StatusAccepted {
		t.Fatalf("access request: %d %s", code, raw)
	}
	initial, activation := letterSecrets(t, n, p.ID, "password")
	sec.add("initial password", initial)
	sec.add("initial password (as printed)", strings.ReplaceAll(initial, "-", " "))
	sec.add("activation code", activation)
	var pdf, manifest bytes.Buffer
	if _, err := n.a.Letters.Export(ctx, &pdf, &manifest, 100); err != nil {
		t.Fatalf("letter export: %v", err)
	}

	// First login with the initial password, which may only be replaced.
	if code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": "falsch-" + initial}); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d %s", code, raw)
	}
	code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": initial})
	if code != http.StatusCreated {
		t.Fatalf("first login: %d %s", code, raw)
	}
	var login struct {
		SessionToken string `json:"session_token"`
	}
	if err := json.Unmarshal(raw, &login); err != nil {
		t.Fatal(err)
	}
	portal := login.SessionToken
	const chosen = "Kastanienbaum im Herbstwind"
	sec.add("chosen password", chosen)
	if code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/password", portal, map[string]string{"current_password": initial,
		"new_password": "kurz"}); code/100 != 4 {
		t.Errorf("weak password: %d %s", code, raw)
	}
	if code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/password", portal, map[string]string{"current_password": initial,
		"new_password": chosen}); code != http.StatusNoContent {
		t.Fatalf("choose password: %d %s", code, raw)
	}

	// The letter's code binds the phone; the app logs in with the PIN.
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	app := n.App()
	if _, _, err := app.Bind(ctx, phone, p.KVNR, chosen, "falsch"+activation[6:], phonePIN, "Testtelefon", "Pixel 8"); err == nil {
		t.Error("bind with a wrong activation code succeeded")
	}
	if _, _, err := app.Bind(ctx, phone, p.KVNR, chosen, activation, phonePIN, "Testtelefon", "Pixel 8"); err != nil {
		t.Fatal(err)
	}
	as, err := app.Login(ctx, phone, phonePIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Login(ctx, phone, "000007", "pin"); err == nil {
		t.Error("a wrong PIN logged in")
	}

	// An address change and a bank change, approved on the phone.
	const iban = "DE89370400440532013000"
	sec.add("IBAN", iban)
	sec.add("IBAN (grouped)", "DE89 3704 0044 0532 0130 00")
	for _, ch := range []struct {
		path, action string
		body         map[string]string
	}{
		{"/api/v1/me/address", approval.ActionAddressChange, map[string]string{"street": "Lindenallee", "house_number": "3", "postal_code": "04109", "city": "Leipzig"}},
		{"/api/v1/me/bank-account", approval.ActionBankChange, map[string]string{"iban": iban}},
	} {
		code, raw := nodetest.CallAPI(t, "PUT", n.URL+ch.path, as.Token, ch.body)
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", ch.path, code, raw)
		}
		var started struct {
			ID string `json:"approval_id"`
		}
		if err := json.Unmarshal(raw, &started); err != nil {
			t.Fatal(err)
		}
		list, err := app.Approvals(ctx, as.Token)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if a.ID == started.ID {
				if err := app.Approve(ctx, phone, a, phonePIN, "pin", 0); err != nil {
					t.Fatalf("approve %s: %v", ch.action, err)
				}
			}
		}
		if code, raw := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/approvals/"+started.ID, portal, nil); code != http.StatusOK || !strings.Contains(string(raw), `"approved"`) {
			t.Errorf("%s status: %d %s", ch.action, code, raw)
		}
	}
	if code, raw := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/outbox", n.outboxToken, nil); code != http.StatusOK {
		t.Errorf("outbox: %d %s", code, raw)
	}
	sec.add("outbox token", n.outboxToken)
	if code, _ := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/outbox", n.outboxToken[:len(n.outboxToken)-2]+"xx", nil); code != http.StatusUnauthorized {
		t.Errorf("outbox with a wrong token: %d", code)
	}

	// The API session ends.
	if code, raw := nodetest.CallAPI(t, "DELETE", n.URL+"/api/v1/sessions/current", portal, nil); code/100 != 2 {
		t.Errorf("logout: %d %s", code, raw)
	}
	if code, _ := nodetest.CallAPI(t, "GET", n.URL+"/api/v1/me", portal, nil); code != http.StatusUnauthorized {
		t.Errorf("the ended session still works: %d", code)
	}

	// A forgotten password: a reset letter, its code used in the portal.
	if code, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/password-resets", "", map[string]string{"kvnr": p.KVNR, "postal_code": "04109" /* the new address */, "birth_date": p.BirthDate, "method": "letter"}); code != http.StatusAccepted {
		t.Fatalf("reset request: %d %s", code, raw)
	}
	n.WaitIntake(t)
	resetCode, resetActivation := letterSecrets(t, n, p.ID, "password_reset")
	sec.add("reset code", resetCode)
	sec.add("reset letter's activation code", resetActivation)
	const afterReset = "Leuchtturm an der Ostsee"
	sec.add("password after the reset", afterReset)
	portalBrowser := nodetest.NewBrowserless(rp.URL)
	portalBrowser.Post(t, n.URL, "/passwort-zuruecksetzen", url.Values{"kvnr": {p.KVNR}, "code": {"ABCD-EFGH-JKLM-NPQR"},
		"new_password": {afterReset}, "new_password_repeat": {afterReset}})
	if u, _, body := portalBrowser.Post(t, n.URL, "/passwort-zuruecksetzen", url.Values{"kvnr": {p.KVNR}, "code": {resetCode},
		"new_password": {afterReset}, "new_password_repeat": {afterReset}}); u.Path != "/konto" {
		t.Errorf("reset with the letter's code led to %s: %s", u, body)
	}
	portalBrowser.Post(t, n.URL, "/abmelden", url.Values{})

	// The other person signs in to a relying party through the portal:
	// password, then the phone's approval raises the login (step-up); code
	// flow, userinfo, refresh, a reused refresh token, a wrong code.
	n.bindPhone(t)
	sec.add("password", n.password)
	party := nodetest.NewRelyingParty(t, n.Issuer(), redirect)
	b := nodetest.NewBrowserless(rp.URL)
	b.Post(t, n.URL, "/anmelden", url.Values{"kvnr": {n.person.KVNR}, "password": {"falsch-" + n.password}})
	s := party.Start(oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/substantial"))
	back := n.loginWithPhone(t, b, s.URL)
	sec.add("authorization code", back.Query().Get("code"))
	tok, _, _ := party.Finish(t, s, back)
	sec.add("access token", tok.AccessToken)
	sec.add("refresh token", tok.RefreshToken)
	if raw, ok := tok.Extra("id_token").(string); ok {
		sec.add("ID token", raw)
	}
	if _, err := party.Provider.UserInfo(party.Ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("userinfo: %v", err)
	}
	next, err := party.Refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	sec.add("refreshed access token", next.AccessToken)
	sec.add("refreshed refresh token", next.RefreshToken)
	if _, err := party.Refresh(tok.RefreshToken); err == nil {
		t.Error("a used refresh token was accepted again")
	}
	if code, _ := nodetest.TokenPost(t, party.Conf.Endpoint.TokenURL, nodetest.Bonus, nodetest.BonusSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {back.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {s.Verifier}}); code == http.StatusOK {
		t.Error("a used code was exchanged again")
	}
	sec.add("client secret", nodetest.BonusSecret)
	sec.add("PKCE verifier", s.Verifier)
	b.Post(t, n.URL, "/abmelden", url.Values{})

	// Everything the traffic carried counts too.
	sec.harvestTraffic(n.traffic.exchanges())
	forms := sec.forms()
	if len(sec.values) < 25 {
		t.Fatalf("only %d secrets collected: %v", len(sec.values), sec.values)
	}
	logs := n.Logs.String()
	if !strings.Contains(logs, "level=DEBUG") && !strings.Contains(logs, "level=INFO") {
		t.Fatalf("the node logged nothing at debug or info:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		for f, what := range forms {
			if strings.Contains(line, f) {
				t.Errorf("a log line shows the %s: %s", what, line)
			}
		}
		for _, k := range kvnrs {
			if strings.Contains(line, k) {
				t.Errorf("a log line shows a KVNR: %s", line)
			}
		}
	}
	errorAnswers := 0
	for _, x := range n.traffic.exchanges() {
		if x.status < 400 {
			continue
		}
		errorAnswers++
		for f, what := range forms {
			if bytes.Contains(x.respBody, []byte(f)) {
				t.Errorf("the %d answer to %s %s shows the %s: %s", x.status, x.method, x.path, what, x.respBody)
			}
		}
	}
	t.Logf("%d secrets in %d forms; %d log lines; %d exchanges, %d error answers", len(sec.values), len(forms),
		strings.Count(logs, "\n"), len(n.traffic.exchanges()), errorAnswers)
	if errorAnswers < 6 {
		t.Errorf("only %d error answers: the test meant to provoke more", errorAnswers)
	}
}
