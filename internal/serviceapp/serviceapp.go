package serviceapp

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var distFS embed.FS

// CSP is the Content-Security-Policy of every answer below /app/. The only
// relaxation of a script-free page policy is 'wasm-unsafe-eval' for the
// Argon2id WebAssembly module (see the package comment).
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// permissionsPolicy lets the app use the camera (the letter's QR code) on the
// portal's own origin and nothing else.
const permissionsPolicy = "camera=(self), microphone=(), geolocation=()"

// Config configures the app. Zero fields take the defaults.
type Config struct {
	// InsurerName is shown in the app's header (default "Ihre Krankenkasse").
	InsurerName string
	// Phone is the service number the app names where a person needs help
	// (a locked PIN, a letter they did not ask for).
	Phone string
}

// file is one file the app serves, ready to send.
type file struct {
	body        []byte
	gzipped     []byte // nil when not worth compressing
	contentType string
	etag        string
}

// App serves the service app's files.
type App struct {
	files    map[string]*file // by name below dist, e.g. "app.js"
	index    *file
	notFound []byte
}

// New returns the app. It panics if the embedded build is incomplete, which is
// a build error found at start.
func New(cfg Config) *App {
	if cfg.InsurerName == "" {
		cfg.InsurerName = "Ihre Krankenkasse"
	}
	a := &App{files: map[string]*file{}}
	err := fs.WalkDir(distFS, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := distFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "dist/")
		if name == "index.html" {
			b = []byte(strings.NewReplacer("%INSURER%", html.EscapeString(cfg.InsurerName),
				"%PHONE%", html.EscapeString(cfg.Phone)).Replace(string(b)))
		}
		a.files[name] = newFile(name, b)
		return nil
	})
	if err != nil {
		panic("serviceapp: read the embedded build: " + err.Error())
	}
	for _, need := range []string{"index.html", "app.js", "app.css", "sw.js", "manifest.webmanifest"} {
		if a.files[need] == nil {
			panic("serviceapp: the embedded build lacks " + need + " (run npm run build in internal/serviceapp)")
		}
	}
	a.index = a.files["index.html"]
	a.notFound = []byte(notFoundPage(cfg.InsurerName))
	return a
}

// contentTypes maps the extensions of the build's files to their types.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".txt":         "text/plain; charset=utf-8",
}

func newFile(name string, b []byte) *file {
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(b)
	f := &file{body: b, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	if path.Ext(name) != ".png" && len(b) > 1024 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			f.gzipped = buf.Bytes()
		}
	}
	return f
}

// setHeaders sets the headers every answer below /app/ carries.
func setHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", permissionsPolicy)
}

// serve answers with f: no-cache (the browser revalidates with the ETag
// every time), gzip when the client takes it.
func (a *App) serve(f *file) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setHeaders(h)
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		body, etag := f.body, f.etag
		if f.gzipped != nil {
			h.Add("Vary", "Accept-Encoding")
			if acceptsGzip(r) {
				body, etag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gz"`
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip
// without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// serviceWorker serves sw.js: like any file, and with the scope it may
// control named explicitly.
func (a *App) serviceWorker() http.Handler {
	inner := a.serve(a.files["sw.js"])
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Service-Worker-Allowed", "/app/")
		inner.ServeHTTP(w, r)
	})
}

// named serves the build file the path names below prefix, or the 404 page.
func (a *App) named(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := prefix + r.PathValue("name")
		if f, ok := a.files[name]; ok && !strings.Contains(name, "..") {
			a.serve(f).ServeHTTP(w, r)
			return
		}
		a.missing(w, r)
	})
}

// missing answers an unknown path below /app/ with a German 404 page.
func (a *App) missing(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	setHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(a.notFound)
}

func notFoundPage(insurer string) string {
	return fmt.Sprintf(`<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seite nicht gefunden – Service-App – %[1]s</title>
<link rel="stylesheet" href="/app/app.css">
</head>
<body>
<header class="bar"><p class="brand">%[1]s <span>Service-App</span></p></header>
<main id="inhalt">
<h1>Seite nicht gefunden</h1>
<p>Diese Adresse gibt es in der Service-App nicht. Vielleicht ist der Link unvollständig.</p>
<p><a class="button" href="/app/">Zur Service-App</a></p>
</main>
</body>
</html>
`, html.EscapeString(insurer))
}
