package familyapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// page requests path with a portal session of p at level, in language l
// ("" for none), without following redirects.
func (f *fixture) page(t *testing.T, l lang.Language, method, path string, p store.Person, level session.Level, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.n.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if l != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-pforte_lang", Value: string(l)})
	}
	tok, _, err := f.n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: "portal", Level: level, Origin: session.OriginDevice})
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "__Host-pforte_session", Value: string(tok)})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s = %d: no request may cause a 5xx", method, path, resp.StatusCode)
	}
	return resp.StatusCode, resp.Header, b.String()
}

var personLink = regexp.MustCompile(`href="/familie/person/([^"/]+)"`)

// TestPages: the family page lists the children with what one may do, in
// German and English; a refused act names its way back; the child's page
// shows the data, and its address form asks the mother's phone.
func TestPages(t *testing.T) {
	f := start(t, testdb.Open(t))
	code, h, html := f.page(t, "", "GET", "/familie", f.mother, session.LevelSubstantial, nil)
	if code != http.StatusOK || !strings.Contains(html, "Max Muster") || !strings.Contains(html, "Ihr Kind (gesetzliche Vertretung)") ||
		!strings.Contains(html, "Lena Muster") || !strings.Contains(html, "eigenen Zugang beantragen") || strings.Contains(html, "Tom Muster") {
		t.Fatalf("GET /familie = %d\n%s\n%s", code, html, f.n.Logs)
	}
	// Max turns 15 tomorrow: today is the last day his mother acts for him.
	if want := "bis " + lang.German.Date(f.clock.Now()); !strings.Contains(html, want) {
		t.Errorf("family page does not say %q", want)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	links := personLink.FindAllStringSubmatch(html, -1)
	if len(links) != 1 {
		t.Fatalf("%d links to act for someone, want 1 (Max; Lena is 15)", len(links))
	}
	handle := links[0][1]

	if _, _, en := f.page(t, lang.English, "GET", "/familie", f.mother, session.LevelSubstantial, nil); !strings.Contains(en, "Your child (legal representative)") ||
		!strings.Contains(en, `lang="en"`) {
		t.Errorf("English family page:\n%s", en)
	}

	code, _, html = f.page(t, "", "GET", "/familie/person/"+handle, f.mother, session.LevelSubstantial, nil)
	if code != http.StatusOK || !strings.Contains(html, "Alte Straße 1, 10115 Berlin") || !strings.Contains(html, `action="/familie/person/`+handle+`/anschrift"`) {
		t.Fatalf("child's page = %d\n%s", code, html)
	}

	// Without a phone the address change names its way back.
	form := url.Values{"strasse": {"Neue Straße"}, "hausnummer": {"7"}, "plz": {"04109"}, "ort": {"Leipzig"}}
	code, _, html = f.page(t, "", "POST", "/familie/person/"+handle+"/anschrift", f.mother, session.LevelSubstantial, form)
	if code != http.StatusConflict || !strings.Contains(html, "Kein Smartphone verbunden") || !strings.Contains(html, `href="/familie"`) {
		t.Errorf("address change without a phone = %d\n%s", code, html)
	}
	// A bad postal code names the field.
	form.Set("plz", "041")
	if code, _, html = f.page(t, "", "POST", "/familie/person/"+handle+"/anschrift", f.mother, session.LevelSubstantial, form); code != http.StatusBadRequest {
		t.Errorf("bad postal code = %d\n%s", code, html)
	}

	phone := f.n.BindPhone(t, f.mother, f.password, "246813")
	form.Set("plz", "04109")
	code, h, _ = f.page(t, "", "POST", "/familie/person/"+handle+"/anschrift", f.mother, session.LevelSubstantial, form)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/familie/freigabe/") {
		t.Fatalf("address change = %d, Location %q", code, h.Get("Location"))
	}
	a, _ := f.n.Pending(t, phone, family.ApprovalAction)
	if !strings.HasPrefix(a.Text, "Für Ihr Kind Max Muster") {
		t.Errorf("phone shows %q", a.Text)
	}
	if code, _, html = f.page(t, "", "GET", h.Get("Location"), f.mother, session.LevelSubstantial, nil); code != http.StatusOK ||
		!strings.Contains(html, "Für Ihr Kind Max Muster") {
		t.Errorf("approval page = %d\n%s", code, html)
	}

	// A forged handle, a 15-year-old: refused with the way back.
	code, _, html = f.page(t, "", "GET", "/familie/person/forged.handle", f.mother, session.LevelSubstantial, nil)
	if code != http.StatusNotFound || !strings.Contains(html, "Für diese Person können Sie nicht handeln") || !strings.Contains(html, `href="/familie"`) {
		t.Errorf("forged handle = %d\n%s\n%s", code, html, f.n.Logs)
	}
	// At low the page asks for the phone before acting.
	if code, _, html = f.page(t, "", "GET", "/familie/person/"+handle, f.mother, session.LevelLow, nil); code != http.StatusForbidden {
		t.Errorf("child's page at low = %d\n%s", code, html)
	}
}
