package oidc

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/lang"
)

// TestLoginFailedSpeaksThePortalsLanguage: the page for a sign-in request
// that cannot go on is in the language of the portal's pages.
func TestLoginFailedSpeaksThePortalsLanguage(t *testing.T) {
	o := newTestOP(t)
	for _, tt := range []struct {
		accept string
		l      lang.Language
	}{{"", lang.German}, {"en-GB,en;q=0.9", lang.English}} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, o.issuer+"/login?id=unknown", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Language", tt.accept)
		resp, err := o.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `<html lang="`+string(tt.l)+`">`) ||
			!strings.Contains(page, tt.l.T("oidc.failed.text")) || !strings.Contains(page, `href="/"`) {
			t.Errorf("Accept-Language %q: %d\n%s", tt.accept, resp.StatusCode, page)
		}
	}
}
