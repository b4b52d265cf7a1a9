package serviceapp_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/serviceapp"
)

// newServer serves the app's routes alone.
func newServer(t *testing.T, cfg serviceapp.Config) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range serviceapp.New(cfg).Routes() {
		mux.Handle(pattern, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, url string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// The transport would ask for gzip and unpack it itself; ask explicitly.
	req.Header.Set("Accept-Encoding", header["Accept-Encoding"])
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// The security headers every answer below /app/ must carry; a test fails
// when any of them is dropped or weakened.
func checkHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval';", "style-src 'self';",
		"connect-src 'self';", "frame-ancestors 'none'", "base-uri 'none'", "worker-src 'self'", "manifest-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "'unsafe-eval'", "*", "data:", "blob:", "http:", "https:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("%s: Content-Security-Policy %q allows %s", path, csp, bad)
		}
	}
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Permissions-Policy":     "camera=(self), microphone=(), geolocation=()",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
}

func TestRoutes(t *testing.T) {
	srv := newServer(t, serviceapp.Config{InsurerName: "Kasse <Nord>", Phone: "0800 123"})
	tests := []struct {
		path, contentType, contains string
	}{
		{"/app/", "text/html; charset=utf-8", `<script type="module" src="/app/app.js"></script>`},
		{"/app/activate", "text/html; charset=utf-8", `<html lang="de">`},
		{"/app/eid", "text/html; charset=utf-8", `<html lang="de">`},
		{"/app/app.js", "text/javascript; charset=utf-8", "pforte-app-v1"},
		{"/app/app.css", "text/css; charset=utf-8", "--brand"},
		{"/app/sw.js", "text/javascript; charset=utf-8", "pforte-app-"},
		{"/app/manifest.webmanifest", "application/manifest+json", `"start_url":"/app/"`},
		{"/app/icons/icon-192.png", "image/png", "PNG"},
		{"/app/icons/icon.svg", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		a := get(t, srv.URL+tt.path, nil)
		if a.status != http.StatusOK {
			t.Errorf("%s: status %d", tt.path, a.status)
			continue
		}
		checkHeaders(t, tt.path, a.header)
		if got := a.header.Get("Content-Type"); got != tt.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tt.path, got, tt.contentType)
		}
		// No caching that pins an old copy: the browser asks every time.
		if got := a.header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", tt.path, got)
		}
		if a.header.Get("ETag") == "" {
			t.Errorf("%s: no ETag", tt.path)
		}
		body := strings.ReplaceAll(a.body, " ", "")
		if !strings.Contains(body, strings.ReplaceAll(tt.contains, " ", "")) {
			t.Errorf("%s: body lacks %q", tt.path, tt.contains)
		}
	}
	// The page names the insurer, escaped.
	if a := get(t, srv.URL+"/app/", nil); !strings.Contains(a.body, `content="Kasse &lt;Nord&gt;"`) || strings.Contains(a.body, "%INSURER%") ||
		!strings.Contains(a.body, `content="0800 123"`) {
		t.Errorf("index does not name the insurer escaped:\n%s", a.body)
	}
	if a := get(t, srv.URL+"/app/sw.js", nil); a.header.Get("Service-Worker-Allowed") != "/app/" {
		t.Errorf("sw.js: Service-Worker-Allowed %q", a.header.Get("Service-Worker-Allowed"))
	}
}

func TestNotFound(t *testing.T) {
	srv := newServer(t, serviceapp.Config{})
	for _, path := range []string{"/app/nichts", "/app/icons/nichts.png", "/app/chunks/x.js", "/app/app.js/x", "/app/activate/x"} {
		a := get(t, srv.URL+path, nil)
		if a.status != http.StatusNotFound || !strings.Contains(a.body, "Seite nicht gefunden") || !strings.Contains(a.body, `lang="de"`) ||
			!strings.Contains(a.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %q", path, a.status, a.body)
		}
		checkHeaders(t, path, a.header)
	}
}

func TestConditionalAndGzip(t *testing.T) {
	srv := newServer(t, serviceapp.Config{})
	plain := get(t, srv.URL+"/app/app.js", nil)
	again := get(t, srv.URL+"/app/app.js", map[string]string{"If-None-Match": plain.header.Get("ETag")})
	if again.status != http.StatusNotModified || again.body != "" {
		t.Errorf("revalidation: %d with %d bytes, want 304", again.status, len(again.body))
	}
	z := get(t, srv.URL+"/app/app.js", map[string]string{"Accept-Encoding": "gzip, br"})
	if z.header.Get("Content-Encoding") != "gzip" || z.header.Get("ETag") == plain.header.Get("ETag") ||
		!strings.Contains(z.header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip answer headers: %v", z.header)
	}
	zr, err := gzip.NewReader(strings.NewReader(z.body))
	if err != nil {
		t.Fatal(err)
	}
	unpacked, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unpacked, []byte(plain.body)) {
		t.Errorf("gzip body does not unpack to the file (%v)", err)
	}
	if a := get(t, srv.URL+"/app/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); a.header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although the client refused it")
	}
}

// The page itself has no inline script, no inline style and no event
// handler attributes: the CSP would block them, and the app must not need them.
func TestNoInlineCode(t *testing.T) {
	files, err := filepath.Glob("dist/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pages in dist: %v", err)
	}
	inline := regexp.MustCompile(`(?i)<script(?:[^>]*)>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has inline code or style: %q", f, m)
		}
	}
	js, err := os.ReadFile("dist/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"eval(", "new Function(", "innerHTML", "insertAdjacentHTML", "document.write"} {
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("the bundle uses %s", bad)
		}
	}
}
