package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var endFormRE = regexp.MustCompile(`action="/konto/sitzungen/([0-9a-f]+)/beenden"`)

// TestSignInHistoryAndEndingASession: the account page lists the failed
// attempt and both sign-ins with browser and system; ending the other
// session from it logs that browser out and nobody else; a made-up or
// foreign session ID ends nothing.
func TestSignInHistoryAndEndingASession(t *testing.T) {
	p := newPortal(t, options{tls: true})
	if _, err := p.accounts.SetInitialPassword(t.Context(), p.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	login := func(c *http.Client, ua, password string) answer {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/anmelden",
			strings.NewReader(url.Values{"kvnr": {kvnr}, "password": {password}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", ua)
		return p.do(t, c, req)
	}
	const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	if a := login(p.client, firefox, "Falsch-Falsch-1"); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d", a.status)
	}
	other := *p.client
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	other.Jar = jar
	if a := login(&other, android, initial); a.path != "/passwort-aendern" {
		t.Fatalf("second browser's login ended at %s", a.path)
	}
	if a := login(p.client, firefox, initial); a.path != "/passwort-aendern" {
		t.Fatalf("login ended at %s", a.path)
	}
	if a := p.post(t, "/passwort-aendern", url.Values{"current_password": {initial}, "new_password": {strong},
		"new_password_repeat": {strong}}); a.path != "/konto" {
		t.Fatalf("change ended at %s", a.path)
	}
	// The change ended the other session, and that browser is told why.
	gone := func(c *http.Client) answer {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/konto", nil)
		if err != nil {
			t.Fatal(err)
		}
		return p.do(t, c, req)
	}
	if a := gone(&other); a.path != "/anmelden" || !strings.Contains(a.body, "weil Ihr Passwort geändert wurde") {
		t.Errorf("the other browser after the password change: %s\n%s", a.path, a.body)
	}
	if a := login(&other, android, strong); a.path != "/konto" {
		t.Fatalf("second browser's login after the change ended at %s", a.path)
	}

	page := p.get(t, "/konto")
	if !has(page.body, "Firefox 133 unter Windows", "Chrome 131 unter Android", "Anmeldungen der letzten 90 Tage",
		"fehlgeschlagen (falsches Passwort oder falsche PIN)", "Diese Sitzung") {
		t.Fatalf("account page lacks the history or the sessions:\n%s", page.body)
	}
	if n := strings.Count(page.body, `<tr class="failed">`); n != 1 {
		t.Errorf("%d failed attempts listed, want 1", n)
	}
	if n := strings.Count(page.body, "<td>angemeldet</td>"); n != 3 {
		t.Errorf("%d sign-ins listed, want 3", n)
	}
	ids := endFormRE.FindAllStringSubmatch(page.body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d end forms, want 2", len(ids))
	}
	// The other browser's session is the one not marked as this one.
	current := regexp.MustCompile(`(?s)<tr class="current">.*?/konto/sitzungen/([0-9a-f]+)/beenden`).FindStringSubmatch(page.body)
	if current == nil {
		t.Fatal("no current session row")
	}
	otherID := ids[0][1]
	if otherID == current[1] {
		otherID = ids[1][1]
	}

	// Nothing ends for an ID that is no session of the person.
	for _, bogus := range []string{"0000000000000000", "zz", strings.Repeat("a", 300)} {
		if a := p.post(t, "/konto/sitzungen/"+bogus+"/beenden", nil); a.status != http.StatusOK || a.path != "/konto" ||
			strings.Contains(a.body, "Die Sitzung wurde beendet") {
			t.Errorf("bogus ID %q: %d at %s", bogus, a.status, a.path)
		}
	}
	check := func(c *http.Client) string {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/konto", nil)
		if err != nil {
			t.Fatal(err)
		}
		return p.do(t, c, req).path
	}
	if path := check(&other); path != "/konto" {
		t.Fatalf("other browser was logged out by a bogus ID: %s", path)
	}
	ended := p.post(t, "/konto/sitzungen/"+otherID+"/beenden", nil)
	if ended.path != "/konto" || !strings.Contains(ended.body, "Die Sitzung wurde beendet") {
		t.Errorf("ending the other session ended at %s", ended.path)
	}
	if a := gone(&other); a.path != "/anmelden" || !strings.Contains(a.body, "in einer anderen Sitzung beendet") {
		t.Errorf("other browser after its session was ended: %s, want /anmelden saying why", a.path)
	}
	if path := check(p.client); path != "/konto" {
		t.Errorf("this browser after ending the other: %s, want /konto", path)
	}
	// Ending this session is a logout.
	if a := p.post(t, "/konto/sitzungen/"+current[1]+"/beenden", nil); a.path != "/" || !strings.Contains(a.body, "Sie sind abgemeldet") {
		t.Errorf("ending this session ended at %s", a.path)
	}
	if a := gone(p.client); a.path != "/anmelden" || strings.Contains(a.body, `class="notice"`) {
		t.Errorf("after ending this session: %s, want /anmelden without a reason (the cookie is gone)", a.path)
	}
}
