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
