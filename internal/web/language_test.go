package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/web"
)

// htmlLang is the lang attribute of a page's <html>.
func htmlLang(body string) string {
	const open = `<html lang="`
	i := strings.Index(body, open)
	if i < 0 {
		return ""
	}
	rest := body[i+len(open):]
	return rest[:strings.IndexByte(rest, '"')]
}

// switchLanguage posts the language switch without following its redirect.
func (p *portal) switchLanguage(t *testing.T, c *http.Client, language, back string) (answer, *http.Cookie) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/sprache",
		strings.NewReader(url.Values{"sprache": {language}, "zurueck": {back}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "pforte_lang") {
			set = ck
		}
	}
	return answer{status: resp.StatusCode, header: resp.Header}, set
}

// TestLanguageSwitch: the browser's Accept-Language is the default; the
// switch on every page chooses, is remembered in a cookie that beats
// Accept-Language, and returns to the page it was on.
func TestLanguageSwitch(t *testing.T) {
	p := newPortal(t, options{tls: true})
	if got := htmlLang(p.get(t, "/zugang").body); got != "de" {
		t.Errorf("without a choice or Accept-Language the page is %q, want de", got)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/zugang", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "fr-FR, en;q=0.8")
	a := p.do(t, p.client, req)
	if got := htmlLang(a.body); got != "en" {
		t.Errorf("Accept-Language fr, en: the page is %q, want en", got)
	}
	if !has(a.body, `name="sprache" value="de"`, `lang="de">Deutsch</button>`, `name="zurueck" value="/zugang"`) {
		t.Errorf("the English page has no switch to German back to itself:\n%s", a.body)
	}

	a, ck := p.switchLanguage(t, p.noFollow(), "en", "/passwort-vergessen?x=1")
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/passwort-vergessen?x=1" {
		t.Fatalf("switch: %d to %q, want 303 to /passwort-vergessen?x=1", a.status, a.header.Get("Location"))
	}
	if ck == nil || ck.Value != "en" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" ||
		ck.Name != "__Host-pforte_lang" || ck.MaxAge < 30*24*3600 {
		t.Errorf("language cookie %+v: want __Host-pforte_lang=en, Secure, HttpOnly, SameSite=Lax, lasting", ck)
	}
	// The cookie beats the browser's German.
	req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/passwort-vergessen", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "de-DE")
	a = p.do(t, p.client, req)
	if got := htmlLang(a.body); got != "en" || !strings.Contains(a.body, lang.English.T("web.link.forgot")) {
		t.Errorf("after choosing English the page is %q:\n%s", got, a.body)
	}
	if left := web.GermanLeft(a.body, nodetest.Insurer.Name); len(left) > 0 {
		t.Errorf("the English page says in German: %q", left)
	}
	if a, _ := p.switchLanguage(t, p.client, "de", "/"); a.status != http.StatusOK || p.cookie(t, "__Host-pforte_lang") != "de" {
		t.Errorf("back to German: cookie %q", p.cookie(t, "__Host-pforte_lang"))
	}
	if got := htmlLang(p.get(t, "/").body); got != "de" {
		t.Errorf("after choosing German the page is %q", got)
	}
}

// TestLanguageSwitchStaysOnThePortal: the switch returns only to a path of
// the portal; a return to another host or scheme, and a language the
// portal does not speak, are refused (400) and change nothing.
func TestLanguageSwitchStaysOnThePortal(t *testing.T) {
	p := newPortal(t, options{tls: true})
	for _, back := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`, `\\evil.example`, "http:/evil.example",
		"evil.example", "javascript:alert(1)", "", "/a\r\nSet-Cookie: x=y", "/ok?" + strings.Repeat("a", 2000), "https:evil.example"} {
		a, ck := p.switchLanguage(t, p.noFollow(), "en", back)
		if a.status != http.StatusBadRequest || a.header.Get("Location") != "" || ck != nil {
			t.Errorf("return to %q: %d, Location %q, cookie %v; want 400, nothing set", back, a.status, a.header.Get("Location"), ck)
		}
	}
	for _, language := range []string{"fr", "", "english", "de;q=1"} {
		if a, ck := p.switchLanguage(t, p.noFollow(), language, "/"); a.status != http.StatusBadRequest || ck != nil {
			t.Errorf("language %q: %d, cookie %v; want 400", language, a.status, ck)
		}
	}
	a := p.post(t, "/sprache", url.Values{"sprache": {"en"}, "zurueck": {"//evil.example/"}})
	if a.status != http.StatusBadRequest || htmlLang(a.body) != "de" || !strings.Contains(a.body, lang.German.T("web.bad.return")) ||
		!strings.Contains(a.body, `href="/"`) {
		t.Errorf("refused return: %d, the page does not say why in German with a way back:\n%s", a.status, a.body)
	}
	// Another site cannot choose for the person.
	if a := p.postRaw(t, "/sprache", "sprache=en&zurueck=%2F", http.Header{"Sec-Fetch-Site": {"cross-site"}}); a.status != http.StatusForbidden ||
		p.cookie(t, "__Host-pforte_lang") != "" {
		t.Errorf("a switch from another site: %d, cookie %q", a.status, p.cookie(t, "__Host-pforte_lang"))
	}
	// A path of the portal, with its query, is fine.
	if a, _ := p.switchLanguage(t, p.noFollow(), "en", "/geraete?hinweis=brief#brief"); a.status != http.StatusSeeOther ||
		a.header.Get("Location") != "/geraete?hinweis=brief#brief" {
		t.Errorf("a portal path: %d to %q", a.status, a.header.Get("Location"))
	}
}

// TestLanguageFollowsTheAccount: a logged-in person's choice is saved on
// the account; their next login, in another browser that asks for German,
// brings it back; their letters are printed in it.
func TestLanguageFollowsTheAccount(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	if a := p.login(t); a.path != "/konto" {
		t.Fatalf("login ended at %s", a.path)
	}
	if a, _ := p.switchLanguage(t, p.noFollow(), "en", "/konto"); a.status != http.StatusSeeOther {
		t.Fatalf("switch: %d", a.status)
	}
	acct, err := p.st.AccountByPerson(t.Context(), p.person.ID)
	if err != nil || acct.Language != "en" {
		t.Fatalf("account language %q (%v), want en", acct.Language, err)
	}

	// Another browser, German by Accept-Language and without a choice.
	other := &portal{url: p.url, client: p.node.Client(t)}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/anmelden",
		strings.NewReader(url.Values{"kvnr": {kvnr}, "password": {strong}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "de")
	a := other.do(t, other.client, req)
	if a.path != "/konto" || htmlLang(a.body) != "en" || !strings.Contains(a.body, lang.English.T("web.account.sessions")) {
		t.Fatalf("next login: %s in %q, want the account page in English", a.path, htmlLang(a.body))
	}
	if left := web.GermanLeft(a.body, nodetest.Insurer.Name, "Jürgen Müller"); len(left) > 0 {
		t.Errorf("the account page in English says in German: %q", left)
	}

	// A letter ordered now is printed in English.
	if a := other.post(t, "/geraete/aktivierungsbrief", url.Values{}); a.path != "/geraete" {
		t.Fatalf("order a letter: %d at %s", a.status, a.path)
	}
	letters, err := p.st.PersonLetters(t.Context(), p.person.ID)
	if err != nil || len(letters) == 0 {
		t.Fatalf("letters: %v, %v", letters, err)
	}
	if l := letters[0]; l.Language != "en" {
		t.Errorf("the ordered letter is in %q, want en", l.Language)
	}

	// Choosing German in the other browser changes the account again.
	if a, _ := other.switchLanguage(t, other.client, "de", "/konto"); a.status != http.StatusOK {
		t.Errorf("switch back: %d", a.status)
	}
	if acct, err := p.st.AccountByPerson(t.Context(), p.person.ID); err != nil || acct.Language != "de" {
		t.Errorf("account language %q (%v), want de", acct.Language, err)
	}
}

// TestStrengthMeterSpeaksThePagesLanguage: the meter's words follow the
// language of the page it is on.
func TestStrengthMeterSpeaksThePagesLanguage(t *testing.T) {
	p := newPortal(t, options{tls: true})
	for _, l := range lang.All() {
		if a, _ := p.switchLanguage(t, p.client, string(l), "/"); a.status != http.StatusOK {
			t.Fatalf("switch to %s: %d", l, a.status)
		}
		a := p.post(t, "/passwort-staerke", url.Values{"password": {"a"}})
		if want := l.T("web.strength.unsuitable"); a.status != http.StatusOK || !strings.Contains(a.body, `"label":"`+want+`"`) {
			t.Errorf("%s: %d %s, want the label %q", l, a.status, a.body, want)
		}
	}
}

// TestEnglishPagesSayNoGerman walks the pages a person reaches, the
// failures included, with English chosen: every answer is an English page
// (<html lang="en">, every text from the catalogue) that says nothing in
// German but the data of the person and the insurer.
func TestEnglishPagesSayNoGerman(t *testing.T) {
	p := newPortal(t, options{tls: true, cfg: webConfig(1000, 1000)})
	p.withPassword(t)
	if a, _ := p.switchLanguage(t, p.client, "en", "/"); a.status != http.StatusOK {
		t.Fatalf("switch: %d", a.status)
	}
	check := func(what string, a answer, status int) {
		t.Helper()
		if a.status != status {
			t.Errorf("%s: %d, want %d", what, a.status, status)
		}
		if got := htmlLang(a.body); got != "en" || strings.Contains(a.body, "⟦") {
			t.Errorf("%s: <html lang=%q> or a key without text:\n%s", what, got, a.body)
		}
		if left := web.GermanLeft(a.body, nodetest.Insurer.Name, "Jürgen Müller", "Hauptstraße"); len(left) > 0 {
			t.Errorf("%s says in German: %q", what, left)
		}
	}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, path := range []string{"/", "/zugang", "/passwort-vergessen", "/passwort-zuruecksetzen", "/anmelden",
		"/anmelden?grund=passwort", "/anmelden?grund=beendet", "/anmelden?grund=abgelaufen", "/passwort-festlegen?ersetzen=1", "/?hinweis=abgemeldet"} {
		check("GET "+path, p.get(t, path), http.StatusOK)
	}
	browserGet := func(method, path string) answer {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, p.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		return p.do(t, p.client, req)
	}
	check("GET an unknown page", browserGet(http.MethodGet, "/gibt-es-nicht"), http.StatusNotFound)
	check("the eID return without a flow", p.get(t, "/eid/rueckkehr?code=x&state=y"), http.StatusBadRequest)
	check("an empty access request", p.post(t, "/zugang", url.Values{}), http.StatusUnprocessableEntity)
	check("a malformed access request", p.post(t, "/zugang", form("kvnr", "A1", "postal_code", "1", "birth_date", "99.99.1", "method", "letter")),
		http.StatusUnprocessableEntity)
	check("an access request by letter", p.post(t, "/zugang", accessForm(kvnr, postalCode, birthDate, "letter")), http.StatusOK)
	check("a reset by letter", p.post(t, "/passwort-vergessen", accessForm(kvnr, postalCode, birthDate, "letter")), http.StatusOK)
	check("a reset with a wrong code", p.post(t, "/passwort-zuruecksetzen", form("kvnr", kvnr, "code", "AAAA BBBB CCCC DDDD",
		"new_password", strong+" neu", "new_password_repeat", strong+" neu")), http.StatusUnprocessableEntity)
	check("a reset whose passwords differ", p.post(t, "/passwort-zuruecksetzen", form("kvnr", kvnr, "code", "x",
		"new_password", "a", "new_password_repeat", "b")), http.StatusUnprocessableEntity)
	check("a password without an identification", p.post(t, "/passwort-festlegen", form("new_password", strong, "new_password_repeat", strong)),
		http.StatusBadRequest)
	check("a wrong password", p.post(t, "/anmelden", form("kvnr", kvnr, "password", "falsch falsch falsch")), http.StatusUnprocessableEntity)
	check("input that is not UTF-8", p.postRaw(t, "/anmelden", "kvnr=%ff", nil), http.StatusBadRequest)
	check("a request from another site", p.postRaw(t, "/anmelden", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}), http.StatusForbidden)
	check("a method a page does not take", browserGet(http.MethodDelete, "/konto"), http.StatusMethodNotAllowed)

	check("the login", p.login(t), http.StatusOK)
	for _, path := range []string{"/konto", "/geraete", "/passwort-aendern", "/konto?hinweis=passwort-festgelegt", "/konto?hinweis=sitzung"} {
		check("GET "+path, p.get(t, path), http.StatusOK)
	}
	check("the personal data without a phone", p.get(t, "/daten"), http.StatusForbidden)
	check("a phone that is not there", p.get(t, "/geraete/nope/entfernen"), http.StatusNotFound)
	check("a request that is not there", p.get(t, "/freigabe/nope"), http.StatusForbidden)
	check("a refused new password", p.post(t, "/passwort-aendern", form("current_password", strong, "new_password", "passwort123",
		"new_password_repeat", "passwort123")), http.StatusUnprocessableEntity)
	check("a wrong current password", p.post(t, "/passwort-aendern", form("current_password", "falsch", "new_password", strong+" neu",
		"new_password_repeat", strong+" neu")), http.StatusUnprocessableEntity)
	check("an activation letter", p.post(t, "/geraete/aktivierungsbrief", url.Values{}), http.StatusOK)
	check("the letters on the account page", p.get(t, "/konto"), http.StatusOK)
	check("a confirmation without a phone", p.post(t, "/anmelden/freigabe", url.Values{}), http.StatusConflict)
}
