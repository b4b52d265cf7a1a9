package node_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/node/nodetest"
)

// TestUnknownPathsArePagesForBrowsers: a browser that asks for a path the
// node does not serve, or with a method a path does not take, gets a German
// page with a title, lang and ways back; the API and clients that do not
// ask for HTML keep the JSON answer.
func TestUnknownPathsArePagesForBrowsers(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	ask := func(method, path, accept string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, n.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		method, path, accept string
		status               int
		html                 bool
		want                 string
	}{
		{"GET", "/gibt-es-nicht", browser, 404, true, "Seite nicht gefunden"},
		{"GET", "/konto/x/y", browser, 404, true, `href="/"`},
		{"GET", "/abmelden", browser, 405, true, "Das geht so nicht"},
		{"GET", "/api/v1/gibt-es-nicht", browser, 404, false, `"not_found"`},
		{"GET", "/gibt-es-nicht", "", 404, false, `"not_found"`},
		{"GET", "/gibt-es-nicht", "application/json", 404, false, `"not_found"`},
		{"DELETE", "/api/v1/me", "application/json", 405, false, `"method_not_allowed"`},
	}
	for _, tt := range tests {
		status, ct, body := ask(tt.method, tt.path, tt.accept)
		if status != tt.status || strings.HasPrefix(ct, "text/html") != tt.html || !strings.Contains(body, tt.want) {
			t.Errorf("%s %s (Accept %q): %d %s\n%.300s", tt.method, tt.path, tt.accept, status, ct, body)
		}
		if tt.html && (!strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "<title>") || !strings.Contains(body, "<h1>")) {
			t.Errorf("%s %s: the page lacks lang, title or heading", tt.method, tt.path)
		}
	}
}
