package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/eid/sim"
)

const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// loggedInCSP is the policy of a logged-in person's page: any may carry the
// form that confirms the session with the eID, which redirects to the
// partner.
func (p *portal) loggedInCSP() string {
	return strings.Replace(pageCSP, "form-action 'self'", "form-action 'self' "+p.node.Partner, 1)
}

// waitingCSP is the policy of a logged-in waiting page: the portal's own
// wait.js asks for the page again.
func (p *portal) waitingCSP() string {
	return p.loggedInCSP() + "; script-src 'self'; connect-src 'self'"
}

func TestPagesRender(t *testing.T) {
	p := newPortal(t, options{tls: true})
	pages := []struct {
		path, h1 string
	}{
		{"/", "Willkommen bei Meine Kasse"},
		{"/zugang", "Zugangsdaten anfordern"},
		{"/anmelden", "Anmelden"},
		{"/passwort-vergessen", "Passwort vergessen"},
		{"/passwort-zuruecksetzen", "Passwort zurücksetzen"},
		{"/passwort-festlegen", "Passwort festlegen"},
	}
	for _, pg := range pages {
		t.Run(pg.path, func(t *testing.T) {
			a := p.get(t, pg.path)
			if a.status != http.StatusOK {
				t.Fatalf("status %d, want 200", a.status)
			}
			if got := a.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := a.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			csp := a.header.Get("Content-Security-Policy")
			if !strings.HasPrefix(csp, "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'") ||
				!strings.HasSuffix(csp, "; frame-ancestors 'none'; base-uri 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if !has(a.body, `<html lang="de">`, `<main id="inhalt"`, `href="#inhalt"`, "<h1>"+pg.h1+"</h1>") || !oneH1(a.body) {
				t.Errorf("page lacks lang, main, skip link or its one h1 %q:\n%s", pg.h1, a.body)
			}
			if foreignScript(a.body) {
				t.Error("page has a script")
			}
			// Every input has a label.
			for _, m := range regexp.MustCompile(`<input id="([^"]+)"`).FindAllStringSubmatch(a.body, -1) {
				if !strings.Contains(a.body, `<label for="`+m[1]+`"`) {
					t.Errorf("input %s has no label", m[1])
				}
			}
		})
	}
	if a := p.get(t, "/anmelden"); a.header.Get("Content-Security-Policy") != pageCSP {
		t.Errorf("login CSP %q, want %q", a.header.Get("Content-Security-Policy"), pageCSP)
	}
	css := p.get(t, "/static/style.css")
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, ":focus-visible") {
		t.Errorf("style.css: %d %q", css.status, css.header.Get("Content-Type"))
	}
	if a := p.get(t, "/konto"); a.path != "/anmelden" {
		t.Errorf("/konto without session ended at %s, want /anmelden", a.path)
	}
	if a := p.get(t, "/gibt-es-nicht"); a.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", a.status)
	}
}

// summary cuts the error summary out of a page.
func summary(body string) string {
	i := strings.Index(body, `<div class="error-summary"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</div>")
	return body[i : i+j]
}

func TestLetterLoginAndForcedChange(t *testing.T) {
	p := newPortal(t, options{tls: true})

	// The confirmation is the same page whether or not the data match.
	sent := p.post(t, "/zugang", accessForm(kvnr, postalCode, birthDate, "letter"))
	other := p.post(t, "/zugang", accessForm("T555558879", "99999", "1970-03-14", "letter"))
	if sent.status != http.StatusOK || !strings.Contains(sent.body, "Vielen Dank für Ihre Anfrage") {
		t.Fatalf("letter request: %d\n%s", sent.status, sent.body)
	}
	if sent.status != other.status || sent.body != other.body {
		t.Errorf("answers differ for match and no match:\n%s\n---\n%s", sent.body, other.body)
	}
	if n := len(p.node.Letters.Paths()); n != 1 {
		t.Fatalf("%d letters delivered, want 1", n)
	}
	pw := p.initialPassword(t)

	a := p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {pw}})
	if a.path != "/passwort-aendern" || !strings.Contains(a.body, "Initialpasswort aus dem Brief") {
		t.Fatalf("first login ended at %s (%d):\n%s", a.path, a.status, a.body)
	}
	if a := p.get(t, "/konto"); a.path != "/passwort-aendern" {
		t.Errorf("/konto before the change ended at %s, want /passwort-aendern", a.path)
	}

	change := func(current, next, repeat string) answer {
		return p.post(t, "/passwort-aendern", url.Values{"current_password": {current}, "new_password": {next}, "new_password_repeat": {repeat}})
	}
	if a := change(pw, strong, strong+"x"); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "stimmen nicht überein") ||
		!strings.Contains(a.body, `href="#new_password_repeat"`) {
		t.Errorf("mismatched repeat: %d\n%s", a.status, summary(a.body))
	}
	weak := change(pw, "passwort123", "passwort123")
	if weak.status != http.StatusUnprocessableEntity || !strings.Contains(weak.body, `class="reasons"`) || strings.Contains(weak.body, "passwort123") {
		t.Errorf("weak password: %d, want reasons and no echo\n%s", weak.status, weak.body)
	}
	if a := change("FALSCH-FALSCH", strong, strong); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Initialpasswort ist nicht richtig") {
		t.Errorf("wrong initial password: %d\n%s", a.status, summary(a.body))
	}
	done := change(pw, strong, strong)
	if done.path != "/konto" || !has(done.body, "Guten Tag, Jürgen Müller", "Ihr Passwort wurde geändert", "<strong>normal</strong>", "Diese Sitzung") {
		t.Fatalf("change ended at %s:\n%s", done.path, done.body)
	}

	out := p.post(t, "/abmelden", nil)
	if out.path != "/" {
		t.Errorf("logout ended at %s", out.path)
	}
	if a := p.get(t, "/konto"); a.path != "/anmelden" {
		t.Errorf("after logout /konto ended at %s", a.path)
	}
	again := p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {strong}})
	if again.path != "/konto" {
		t.Errorf("login with the new password ended at %s:\n%s", again.path, summary(again.body))
	}
	a = p.get(t, "/passwort-aendern")
	if !strings.Contains(a.body, "Bisheriges Passwort") {
		t.Errorf("change page after the first change lacks 'Bisheriges Passwort'")
	}
}

func TestLoginFailureIsGeneric(t *testing.T) {
	p := newPortal(t, options{tls: true})
	if _, err := p.accounts.SetInitialPassword(t.Context(), p.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	var first answer
	for i, kv := range []string{kvnr, "T555558879", "A123456789", ""} {
		a := p.post(t, "/anmelden", url.Values{"kvnr": {kv}, "password": {"Falsch-Falsch-1"}})
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Die Anmeldung ist fehlgeschlagen") || strings.Contains(a.body, "Falsch-Falsch-1") {
			t.Errorf("kvnr %q: %d\n%s", kv, a.status, a.body)
		}
		if i == 0 {
			first = a
		} else if summary(a.body) != summary(first.body) {
			t.Errorf("kvnr %q: message differs:\n%s\n---\n%s", kv, summary(a.body), summary(first.body))
		}
	}
	if strings.Contains(p.logs.String(), "Falsch-Falsch-1") {
		t.Error("the password reached the log")
	}
}

func TestLoginRateLimit(t *testing.T) {
	p := newPortal(t, options{tls: true, cfg: webConfig(0.001, 2)})
	for range 2 {
		p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {"x"}})
	}
	a := p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {"x"}})
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || !strings.Contains(a.body, "Zu viele Versuche") {
		t.Errorf("third attempt: %d Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
}

func TestAccessFormErrors(t *testing.T) {
	p := newPortal(t, options{tls: true})
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"bad kvnr", accessForm("A123456789", postalCode, birthDate, "letter"), 422,
			[]string{`role="alert"`, `<a href="#kvnr">`, `aria-describedby="kvnr-hint kvnr-error "`, `aria-invalid="true"`, `value="A123456789"`, `value="10115"`}},
		{"bad postal code", accessForm(kvnr, "1011", birthDate, "letter"), 422, []string{`<a href="#postal_code">`}},
		{"impossible date", accessForm(kvnr, postalCode, "31.02.1970", "letter"), 422, []string{`<a href="#birth_date">`, `value="31.02.1970"`}},
		{"no method", accessForm(kvnr, postalCode, birthDate, ""), 422, []string{`<a href="#method-eid">`, `id="method-error"`}},
		{"unknown method", accessForm(kvnr, postalCode, birthDate, "fax"), 422, []string{`<a href="#method-eid">`}},
		{"german date", accessForm(kvnr, postalCode, "14.03.1970", "letter"), 200, []string{"Vielen Dank"}},
		{"iso date", accessForm(kvnr, postalCode, "1970-03-14", "letter"), 200, []string{"Vielen Dank"}},
		{"short german date", accessForm(kvnr, postalCode, "4.3.1970", "letter"), 200, []string{"Vielen Dank"}},
		{"reset by letter", accessForm(kvnr, postalCode, birthDate, "letter"), 200, []string{"Code"}},
		// Every error at once, and an over-long entry keeps the others.
		{"all wrong", accessForm("A1", "1", "32.13.1970", ""), 422, []string{`<a href="#kvnr">`, `<a href="#postal_code">`,
			`<a href="#birth_date">`, `<a href="#method-eid">`}},
		{"over-long kvnr", accessForm(strings.Repeat("X", 3000), postalCode, birthDate, "letter"), 422,
			[]string{`<a href="#kvnr">`, `value="10115"`, `value="14.03.1970"`, `value="letter" checked`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/zugang"
			if strings.HasPrefix(tt.name, "reset") {
				path = "/passwort-vergessen"
			}
			a := p.post(t, path, tt.form)
			if a.status != tt.status || !has(a.body, tt.want...) {
				t.Errorf("%d, want %d and %q in:\n%s", a.status, tt.status, tt.want, a.body)
			}
			if tt.status == 422 && (!strings.Contains(a.body, "<title>Fehler: ") || !oneH1(a.body)) {
				t.Error("error page's title does not start with Fehler: or it has not one h1")
			}
		})
	}
}

func TestHostileInput(t *testing.T) {
	p := newPortal(t, options{tls: true})
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
	}{
		{"invalid UTF-8", "POST", "/anmelden", "kvnr=%ff%fe&password=x", form, 400},
		{"invalid UTF-8 in a key", "POST", "/zugang", "%ff=1&kvnr=X110411675", form, 400},
		{"NUL byte", "POST", "/anmelden", "kvnr=X110411675%00&password=x", form, 400},
		{"overlong value of the form", "POST", "/passwort-zuruecksetzen", "code=" + strings.Repeat("A", 2000), form, 422},
		{"overlong value of no field", "POST", "/passwort-zuruecksetzen", "junk=" + strings.Repeat("A", 2000), form, 400},
		{"body over 16 KiB", "POST", "/zugang", "kvnr=" + strings.Repeat("A", 20<<10), form, 413},
		{"malformed encoding", "POST", "/anmelden", "kvnr=%zz", form, 400},
		{"JSON body", "POST", "/anmelden", `{"kvnr":"X110411675"}`, "application/json", 422},
		{"script in a field", "POST", "/zugang", "kvnr=%3Cscript%3Ealert(1)%3C%2Fscript%3E&method=letter", form, 422},
		{"eID return without cookie", "GET", "/eid/rueckkehr?code=abc&state=def", "", "", 400},
		{"eID return with error", "GET", "/eid/rueckkehr?error=access_denied", "", "", 400},
		{"choose password without ticket", "POST", "/passwort-festlegen", "new_password=" + url.QueryEscape(strong) + "&new_password_repeat=" + url.QueryEscape(strong), form, 400},
		{"reset with a wrong code", "POST", "/passwort-zuruecksetzen", "kvnr=X110411675&code=AAAA-BBBB-CCCC&new_password=" + url.QueryEscape(strong) + "&new_password_repeat=" + url.QueryEscape(strong), form, 422},
		{"GET logout", "GET", "/abmelden", "", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, p.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			a := p.do(t, p.noFollow(), req)
			if a.status != tt.status {
				t.Errorf("status %d, want %d\n%s", a.status, tt.status, a.body)
			}
			if strings.Contains(a.body, "<script>") {
				t.Error("the answer echoes markup")
			}
		})
	}
	// A forged session cookie is no session.
	u, _ := url.Parse(p.url)
	p.client.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-pforte_session", Value: strings.Repeat("x", 43), Path: "/"}})
	if a := p.get(t, "/konto"); a.path != "/anmelden" {
		t.Errorf("forged session: ended at %s", a.path)
	}
	if strings.Contains(p.logs.String(), "web request failed") {
		t.Errorf("hostile input caused an internal error:\n%s", p.logs.String())
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	p := newPortal(t, options{tls: true})
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://angreifer.example"}},
	} {
		a := p.postRaw(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {"x"}}.Encode(), h)
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "Anfrage abgelehnt") {
			t.Errorf("%v: %d\n%s", h, a.status, a.body)
		}
	}
	for _, path := range []string{"/zugang", "/abmelden", "/passwort-aendern", "/passwort-festlegen"} {
		a := p.postRaw(t, path, "", http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if a.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", path, a.status)
		}
	}
	if a := p.postRaw(t, "/anmelden", "kvnr=X110411675&password=x", http.Header{"Sec-Fetch-Site": {"same-origin"}}); a.status != http.StatusUnprocessableEntity {
		t.Errorf("same-origin POST: %d", a.status)
	}
}

// startEID posts the access form with method eID and returns where the
// portal sends the browser.
func startEID(t *testing.T, p *portal, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+path,
		strings.NewReader(accessForm(kvnr, postalCode, birthDate, "eid").Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a := p.do(t, p.noFollow(), req)
	if a.status != http.StatusSeeOther {
		t.Fatalf("eID start: %d\n%s", a.status, a.body)
	}
	return a.header.Get("Location")
}

// partner makes the choice at the simulator and follows the way back.
func partner(t *testing.T, p *portal, authURL string, choice sim.Choice) answer {
	t.Helper()
	back, err := (&sim.Browser{Client: &http.Client{}}).Authorize(t.Context(), authURL, choice)
	if err != nil {
		t.Fatal(err)
	}
	return p.get(t, back.RequestURI())
}

func TestEIDFlow(t *testing.T) {
	p := newPortal(t, options{tls: true})

	a := partner(t, p, startEID(t, p, "/zugang"), sim.Choice{Identity: identityMatch})
	if a.path != "/passwort-festlegen" || !strings.Contains(a.body, "<h1>Passwort festlegen</h1>") {
		t.Fatalf("back from the partner at %s:\n%s", a.path, a.body)
	}
	choose := func(next, repeat string) answer {
		return p.post(t, "/passwort-festlegen", url.Values{"new_password": {next}, "new_password_repeat": {repeat}})
	}
	if a := choose(strong, "anders"); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "stimmen nicht überein") {
		t.Errorf("mismatched repeat: %d", a.status)
	}
	if a := choose("Müller1970!", "Müller1970!"); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, `class="reasons"`) {
		t.Errorf("refused password: %d\n%s", a.status, a.body)
	}
	done := choose(strong, strong)
	if done.path != "/konto" || !has(done.body, "Guten Tag, Jürgen Müller", "<strong>hoch</strong>", "Ihr Passwort ist gespeichert") {
		t.Fatalf("after choosing ended at %s:\n%s", done.path, done.body)
	}
	// The ticket is gone: a second use says the identification expired.
	if a := choose(strong, strong); a.status != http.StatusBadRequest || !strings.Contains(a.body, "Die Identifizierung ist abgelaufen") ||
		!strings.Contains(a.body, `href="/zugang"`) {
		t.Errorf("second use of the ticket: %d\n%s", a.status, a.body)
	}

	// A forgotten password through the eID: the page says it replaces.
	a = partner(t, p, startEID(t, p, "/passwort-vergessen"), sim.Choice{Identity: identityMatch})
	if a.path != "/passwort-festlegen" || !strings.Contains(a.body, "Neues Passwort festlegen") {
		t.Errorf("reset through eID at %s:\n%s", a.path, a.body)
	}

	nomatch := partner(t, p, startEID(t, p, "/zugang"), sim.Choice{Identity: identityOtherDay})
	if nomatch.status != http.StatusForbidden || !strings.Contains(nomatch.body,
		"Die Daten aus Ihrem Ausweis passen nicht zu den Angaben, die wir zu dieser Versichertennummer haben.") {
		t.Errorf("no match: %d\n%s", nomatch.status, nomatch.body)
	}
	cancelled := partner(t, p, startEID(t, p, "/zugang"), sim.Choice{Cancel: true})
	if !strings.Contains(cancelled.body, "Identifizierung abgebrochen") {
		t.Errorf("cancelled: %d\n%s", cancelled.status, cancelled.body)
	}
	// The flow cookie is single use: coming back twice fails.
	if a := p.get(t, "/eid/rueckkehr?code=x&state=y"); a.status != http.StatusBadRequest || !strings.Contains(a.body, "fehlgeschlagen") {
		t.Errorf("return without flow: %d", a.status)
	}
}

func TestEIDCookies(t *testing.T) {
	p := newPortal(t, options{tls: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/zugang",
		strings.NewReader(accessForm(kvnr, postalCode, birthDate, "eid").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.noFollow().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "__Host-pforte_eid" {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 900 || c.Domain != "" {
		t.Errorf("eID cookie %+v", c)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "form-action 'self' http://127.0.0.1:") {
		t.Errorf("access page CSP %q does not allow the partner as the form's redirect target", got)
	}
}

// TestEIDStartedThroughTheAPI: the service app starts an identification through
// the API and opens the portal's /eid/start/{flow}; the browser carries on to
// the partner and back.
func TestEIDStartedThroughTheAPI(t *testing.T) {
	p := newPortal(t, options{tls: true})
	started, err := p.access.StartEID(t.Context(), access.Request{KVNR: kvnr, PostalCode: postalCode, BirthDate: "1970-03-14"},
		access.PurposeAccess)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/eid/start/"+started.Flow, nil)
	a := p.do(t, p.noFollow(), req)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != started.RedirectURL {
		t.Fatalf("eid start: %d, Location %q", a.status, a.header.Get("Location"))
	}
	back := partner(t, p, started.RedirectURL, sim.Choice{Identity: identityMatch})
	if back.path != "/passwort-festlegen" {
		t.Errorf("back from the partner at %s:\n%s", back.path, back.body)
	}
	for _, flow := range []string{"unknown-flow", strings.Repeat("x", 100)} {
		if a := p.get(t, "/eid/start/"+flow); a.status < 400 || a.status >= 500 {
			t.Errorf("flow %q: %d", flow, a.status)
		}
	}
}

// TestStrengthMeter: the meter's endpoint rates like the policy, weaker with
// the person's own data in the password, and the script and its CSP are
// served only where a new password is chosen.
func TestStrengthMeter(t *testing.T) {
	p := newPortal(t, options{})
	rate := func(pw string) map[string]any {
		t.Helper()
		a := p.post(t, "/passwort-staerke", url.Values{"password": {pw}})
		if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Fatalf("strength: %d %s", a.status, a.body)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(a.body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := rate("passwort123"); got["score"] != float64(0) || got["label"] != "nicht geeignet" {
		t.Errorf("common password rated %v", got)
	}
	if got := rate("Kastanienbaum im Herbstwind"); got["score"].(float64) < 3 {
		t.Errorf("strong passphrase rated %v", got)
	}
	a := p.get(t, "/passwort-zuruecksetzen")
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'; connect-src 'self'") ||
		!strings.Contains(a.body, strengthScript) || !strings.Contains(a.body, `<meter id="strength"`) {
		t.Errorf("reset page: CSP %q, meter and script present: %v", csp, strings.Contains(a.body, strengthScript))
	}
	if a := p.get(t, "/anmelden"); strings.Contains(a.header.Get("Content-Security-Policy"), "script-src") || strings.Contains(a.body, "<script") {
		t.Error("the login page allows scripts")
	}
	js := p.get(t, "/static/strength.js")
	if js.status != http.StatusOK || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("script: %d %q", js.status, js.header.Get("Content-Type"))
	}
}
