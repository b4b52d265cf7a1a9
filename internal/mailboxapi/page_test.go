package mailboxapi_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// page requests path with the portal session of p at level (none when
// level is ""), without following redirects.
func (f *fixture) page(t *testing.T, method, path string, p store.Person, level session.Level, ct string, body []byte) (int, http.Header, string) {
	t.Helper()
	return f.pageIn(t, "", method, path, p, level, ct, body)
}

// pageIn is page in the language l the person chose ("": no choice).
func (f *fixture) pageIn(t *testing.T, l lang.Language, method, path string, p store.Person, level session.Level, ct string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.n.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if l != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-pforte_lang", Value: string(l)})
	}
	if level != "" {
		tok, _, err := f.n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: "portal", Level: level, Origin: session.OriginDevice})
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: "__Host-pforte_session", Value: string(tok)})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// multipartForm builds a form with text fields and files ("anhang").
func multipartForm(t *testing.T, fields map[string]string, files map[string][]byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range files {
		fw, err := w.CreateFormFile("anhang", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestPages(t *testing.T) {
	f := start(t)
	id := f.send(t, f.alice, "Ihre Rechnung vom März", "Bitte prüfen Sie die **Rechnung**.", file("Rechnung.pdf", pdfBytes(t)))
	subs := session.LevelSubstantial

	if code, h, _ := f.page(t, "GET", "/postfach", f.alice, "", "", nil); code != http.StatusSeeOther || h.Get("Location") != "/anmelden" {
		t.Errorf("no session: %d %s, want the login", code, h.Get("Location"))
	}
	code, _, body := f.page(t, "GET", "/postfach", f.alice, session.LevelLow, "", nil)
	if code != http.StatusOK || !strings.Contains(body, "1 ungelesene Nachricht") || strings.Contains(body, "Rechnung vom") ||
		!strings.Contains(body, `name="weiter" value="postfach"`) || !strings.Contains(body, `href="/geraete"`) {
		t.Errorf("low session's mailbox: %d\n%s", code, body)
	}
	if code, _, body := f.page(t, "GET", "/postfach/"+id, f.alice, session.LevelLow, "", nil); code != http.StatusForbidden || strings.Contains(body, "Rechnung vom") {
		t.Errorf("low session opens the thread: %d", code)
	}

	code, _, body = f.page(t, "GET", "/postfach", f.alice, subs, "", nil)
	if code != http.StatusOK || !strings.Contains(body, "Ihre Rechnung vom März") || !strings.Contains(body, `href="/postfach/`+id+`"`) {
		t.Fatalf("mailbox: %d\n%s", code, body)
	}
	code, _, body = f.page(t, "GET", "/postfach/"+id, f.alice, subs, "", nil)
	if code != http.StatusOK || !strings.Contains(body, "<strong>Rechnung</strong>") || !strings.Contains(body, "Rechnung.pdf") ||
		!strings.Contains(body, "Höchstens 20.000 Zeichen") {
		t.Fatalf("thread: %d\n%s", code, body)
	}

	ct, form := multipartForm(t, map[string]string{"text": "Die Rechnung stimmt nicht."}, map[string][]byte{"virus.exe": []byte("MZ")})
	code, _, body = f.page(t, "POST", "/postfach/"+id+"/antwort", f.alice, subs, ct, form)
	if code != http.StatusBadRequest || !strings.Contains(body, "keinen erlaubten Typ") || !strings.Contains(body, "Die Rechnung stimmt nicht.") ||
		!strings.Contains(body, `href="#feld-attachments"`) {
		t.Errorf("bad attachment: %d\n%s", code, body)
	}
	ct, form = multipartForm(t, map[string]string{"text": "Die Rechnung stimmt nicht."}, map[string][]byte{"Beleg.png": pngBytes(t)})
	code, h, _ := f.page(t, "POST", "/postfach/"+id+"/antwort", f.alice, subs, ct, form)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/postfach/"+id) {
		t.Fatalf("reply: %d %s", code, h.Get("Location"))
	}
	_, _, body = f.page(t, "GET", "/postfach/"+id, f.alice, subs, "", nil)
	if !strings.Contains(body, "Die Rechnung stimmt nicht.") || !strings.Contains(body, "Beleg.png") {
		t.Errorf("thread after the reply:\n%s", body)
	}

	if code, _, body := f.page(t, "GET", "/postfach/suche?q=rechnung+maerz", f.alice, subs, "", nil); code != http.StatusOK || !strings.Contains(body, "1 Treffer") {
		t.Errorf("search: %d\n%s", code, body)
	}
	archive := url.Values{"archiv": {"ja"}}.Encode()
	if code, h, _ := f.page(t, "POST", "/postfach/"+id+"/archiv", f.alice, subs, "application/x-www-form-urlencoded", []byte(archive)); code != http.StatusSeeOther || h.Get("Location") != "/postfach?hinweis=archiviert" {
		t.Errorf("archive: %d %s", code, h.Get("Location"))
	}
	if _, _, body := f.page(t, "GET", "/postfach/archiv", f.alice, subs, "", nil); !strings.Contains(body, "Ihre Rechnung vom März") {
		t.Errorf("archive page:\n%s", body)
	}
	ct, form = multipartForm(t, map[string]string{"betreff": "Neue Frage", "text": "Wie lange dauert es?"}, nil)
	if code, h, _ := f.page(t, "POST", "/postfach/neu", f.alice, subs, ct, form); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/postfach/thr_") {
		t.Errorf("write: %d %s", code, h.Get("Location"))
	}

	// Bob: alice's thread and attachment do not exist for him.
	if code, _, body := f.page(t, "GET", "/postfach/"+id, f.bob, subs, "", nil); code != http.StatusNotFound || strings.Contains(body, "Rechnung vom") || !strings.Contains(body, `href="/postfach"`) {
		t.Errorf("bob opens alice's thread: %d\n%s", code, body)
	}
	// A form from another site is refused.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.n.URL+"/postfach/"+id+"/archiv", strings.NewReader(archive))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form: %d, want 403", resp.StatusCode)
	}
}
