package appapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/appapi"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

const (
	kvnr    = "X110411675"
	initial = "ABCD-EFGH-JKLM"
	strong  = "Kastanienbaum im Herbstwind"
)

// newServer starts a node (nodetest) whose login limits per client are cfg's
// and puts Jürgen Müller with an initial password into the register.
func newServer(t *testing.T, cfg appapi.Config) string {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) {
		c.LoginRate, c.LoginBurst = cfg.LoginRate, cfg.LoginBurst
		c.Access.MinTime = 50 * time.Millisecond
	}})
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	if _, err := n.Accounts.SetInitialPassword(t.Context(), p.ID, initial); err != nil {
		t.Fatal(err)
	}
	return n.URL
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, method, url, token, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, url, raw)
		}
	}
	return r
}

func login(t *testing.T, base, pw string) reply {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"kvnr": kvnr, "password": pw})
	return call(t, "POST", base+"/api/v1/sessions", "", string(b))
}

func TestLoginChangePasswordMeLogout(t *testing.T) {
	base := newServer(t, appapi.Config{})
	r := login(t, base, initial)
	if r.status != http.StatusCreated || r.body["level"] != "low" || r.body["must_change_password"] != true {
		t.Fatalf("login = %d %s", r.status, r.raw)
	}
	tok := r.body["session_token"].(string)

	// A password-only session (low) sees its level, not the person's data:
	// personal.view needs substantial, as on the portal's /daten.
	me := call(t, "GET", base+"/api/v1/me", tok, "")
	if me.status != 200 || me.body["restricted"] != true || me.body["must_change_password"] != true ||
		strings.Contains(me.raw, "Müller") || strings.Contains(me.raw, "Hauptstraße") {
		t.Errorf("me at level low = %d %s; want restricted, no name or address", me.status, me.raw)
	}
	weak := call(t, "POST", base+"/api/v1/password", tok, `{"current_password":"`+initial+`","new_password":"passwort123"}`)
	if weak.status != http.StatusUnprocessableEntity || weak.body["error"] != "password_refused" {
		t.Fatalf("weak password = %d %s", weak.status, weak.raw)
	}
	reasons, _ := weak.body["reasons"].([]any)
	if len(reasons) == 0 || strings.Contains(weak.raw, "passwort123") {
		t.Errorf("reasons %v; body must not echo the password: %s", reasons, weak.raw)
	}
	wrong := call(t, "POST", base+"/api/v1/password", tok, `{"current_password":"nope","new_password":"`+strong+`"}`)
	if wrong.status != http.StatusForbidden {
		t.Errorf("wrong current = %d %s", wrong.status, wrong.raw)
	}
	ok := call(t, "POST", base+"/api/v1/password", tok, `{"current_password":"`+initial+`","new_password":"`+strong+`"}`)
	if ok.status != http.StatusNoContent {
		t.Fatalf("change = %d %s", ok.status, ok.raw)
	}
	if me := call(t, "GET", base+"/api/v1/me", tok, ""); me.body["must_change_password"] != false {
		t.Errorf("after change: %s", me.raw)
	}
	if r := call(t, "DELETE", base+"/api/v1/sessions/current", tok, ""); r.status != http.StatusNoContent {
		t.Errorf("logout = %d %s", r.status, r.raw)
	}
	if r := call(t, "GET", base+"/api/v1/me", tok, ""); r.status != http.StatusUnauthorized {
		t.Errorf("me after logout = %d", r.status)
	}
	if r := login(t, base, strong); r.status != http.StatusCreated || r.body["must_change_password"] != false {
		t.Errorf("login with the new password = %d %s", r.status, r.raw)
	}
}

// TestFailuresAreIdentical: unknown KVNR and wrong password give byte-identical
// answers.
func TestFailuresAreIdentical(t *testing.T) {
	base := newServer(t, appapi.Config{})
	wrong := login(t, base, "wrong password")
	unknown := call(t, "POST", base+"/api/v1/sessions", "", `{"kvnr":"T555558879","password":"wrong password"}`)
	if wrong.status != http.StatusUnauthorized || wrong.status != unknown.status || wrong.raw != unknown.raw {
		t.Errorf("wrong password: %d %s\nunknown KVNR: %d %s", wrong.status, wrong.raw, unknown.status, unknown.raw)
	}
}

func TestHostileInputIs4xx(t *testing.T) {
	base := newServer(t, appapi.Config{LoginRate: 1000, LoginBurst: 1000})
	cases := map[string]string{
		"unknown field":  `{"kvnr":"X110411675","password":"x","admin":true}`,
		"wrong type":     `{"kvnr":12345,"password":"x"}`,
		"missing field":  `{"kvnr":"X110411675"}`,
		"not an object":  `["kvnr"]`,
		"trailing data":  `{"kvnr":"X110411675","password":"x"} {}`,
		"invalid UTF-8":  "{\"kvnr\":\"X110411675\",\"password\":\"\xff\xfe\"}",
		"empty":          ``,
		"null":           `null`,
		"oversized":      `{"kvnr":"X110411675","password":"` + strings.Repeat("a", 20000) + `"}`,
		"deeply nested":  `{"kvnr":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
		"huge number":    `{"kvnr":1e999999,"password":"x"}`,
		"control in key": "{\"kv\x00nr\":\"x\",\"password\":\"x\"}",
	}
	for name, body := range cases {
		r := call(t, "POST", base+"/api/v1/sessions", "", body)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s: status %d %s", name, r.status, r.raw)
		}
		if r.body["error"] == nil || r.body["message"] == nil {
			t.Errorf("%s: error body %s", name, r.raw)
		}
	}
	for _, tok := range []string{"", "garbage", strings.Repeat("x", 43), strings.Repeat("x", 500)} {
		if r := call(t, "GET", base+"/api/v1/me", tok, ""); r.status != http.StatusUnauthorized {
			t.Errorf("token %q: %d", tok, r.status)
		}
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/sessions", strings.NewReader(`{"kvnr":"x","password":"y"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("text/plain body = %d", resp.StatusCode)
	}
}

func TestRateLimitPerIP(t *testing.T) {
	base := newServer(t, appapi.Config{LoginRate: 0.01, LoginBurst: 3})
	var last reply
	for range 4 {
		last = call(t, "POST", base+"/api/v1/sessions", "", `{"kvnr":"T555558879","password":"x"}`)
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("4th attempt over a burst of 3 = %d, Retry-After %q", last.status, last.header.Get("Retry-After"))
	}
}

func TestOpenAPIDocument(t *testing.T) {
	base := newServer(t, appapi.Config{})
	r := call(t, "GET", base+"/api/openapi.json", "", "")
	if r.status != 200 || r.body["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %d", r.status)
	}
	paths, _ := r.body["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/sessions", "/api/v1/sessions/current", "/api/v1/password", "/api/v1/me",
		"/api/v1/access-requests", "/api/v1/password-resets", "/api/v1/app/challenges", "/api/v1/devices", "/api/v1/app/sessions",
		"/api/v1/app/approvals", "/api/v1/app/approvals/events", "/api/v1/approvals/{id}/approve", "/api/v1/me/address", "/api/v1/outbox"} {
		if paths[p] == nil {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

// TestAccessRequestAnswersAlike: match, wrong birth date and unknown KVNR get
// byte-identical answers; malformed fields get a 400 naming the field.
func TestAccessRequestAnswersAlike(t *testing.T) {
	base := newServer(t, appapi.Config{LoginRate: 100, LoginBurst: 100})
	var answers []reply
	for _, body := range []string{
		`{"kvnr":"X110411675","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`,
		`{"kvnr":"X110411675","postal_code":"10115","birth_date":"1971-03-14","method":"letter"}`,
		`{"kvnr":"T555558879","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`,
	} {
		answers = append(answers, call(t, "POST", base+"/api/v1/access-requests", "", body))
	}
	for _, a := range answers {
		if a.status != http.StatusAccepted || a.raw != answers[0].raw {
			t.Errorf("answer %d %s differs from %d %s", a.status, a.raw, answers[0].status, answers[0].raw)
		}
	}
	for field, body := range map[string]string{
		"kvnr":        `{"kvnr":"A123456789","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`,
		"postal_code": `{"kvnr":"X110411675","postal_code":"ABCDE","birth_date":"1970-03-14","method":"letter"}`,
		"birth_date":  `{"kvnr":"X110411675","postal_code":"10115","birth_date":"14.03.1970x","method":"letter"}`,
	} {
		r := call(t, "POST", base+"/api/v1/access-requests", "", body)
		if r.status != http.StatusBadRequest || r.body["field"] != field {
			t.Errorf("%s: %d %s", field, r.status, r.raw)
		}
	}
	if r := call(t, "POST", base+"/api/v1/access-requests", "", `{"kvnr":"X110411675","postal_code":"10115","birth_date":"1970-03-14","method":"fax"}`); r.status != http.StatusBadRequest {
		t.Errorf("unknown method: %d", r.status)
	}
}

func TestPasswordResetAndEIDWithoutPartner(t *testing.T) {
	base := newServer(t, appapi.Config{LoginRate: 100, LoginBurst: 100})
	body := `{"kvnr":"X110411675","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`
	reset := call(t, "POST", base+"/api/v1/password-resets", "", body)
	unknown := call(t, "POST", base+"/api/v1/password-resets", "", strings.Replace(body, "X110411675", "T555558879", 1))
	if reset.status != http.StatusAccepted || reset.raw != unknown.raw {
		t.Errorf("reset answers differ: %d %s / %d %s", reset.status, reset.raw, unknown.status, unknown.raw)
	}
	eidBody := strings.Replace(body, `"letter"`, `"eid"`, 1)
	if r := call(t, "POST", base+"/api/v1/access-requests", "", eidBody); r.status != http.StatusBadRequest || r.body["error"] != "eid_unavailable" {
		t.Errorf("eID without a partner = %d %s", r.status, r.raw)
	}
}

// TestLockedAfterTheRightPassword: during a lock a wrong password answers as
// ever; the right one says the account is locked (403 account_locked), never
// a 5xx and never a session.
func TestLockedAfterTheRightPassword(t *testing.T) {
	base := newServer(t, appapi.Config{LoginRate: 1000, LoginBurst: 1000})
	outside := login(t, base, "wrong password")
	for range 4 {
		login(t, base, "wrong password")
	}
	if during := login(t, base, "wrong password"); during.status != outside.status || during.raw != outside.raw {
		t.Errorf("wrong password during the lock: %d %s, outside: %d %s", during.status, during.raw, outside.status, outside.raw)
	}
	r := login(t, base, initial)
	if r.status != http.StatusForbidden || r.body["error"] != "account_locked" || r.body["locked_until"] == nil ||
		!strings.Contains(r.raw, "vorübergehend gesperrt") || r.body["session_token"] != nil {
		t.Errorf("right password during the lock: %d %s", r.status, r.raw)
	}
}
