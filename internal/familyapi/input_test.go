package familyapi_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestBadInput: bodies of the wrong shape are 4xx with a German message,
// never a 5xx, and change nothing.
func TestBadInput(t *testing.T) {
	f := start(t, testdb.Open(t))
	tok := f.token(t, f.mother, session.LevelSubstantial)
	handle := f.handles(t, tok)["Max"].Handle
	bodies := []struct {
		name, ct string
		body     []byte
		want     int
	}{
		{"not JSON", "text/plain", []byte(`street=x`), http.StatusBadRequest},
		{"broken JSON", "application/json", []byte(`{"street":`), http.StatusBadRequest},
		{"unknown field", "application/json", []byte(`{"street":"a","postal_code":"12345","city":"b","iban":"x"}`), http.StatusBadRequest},
		{"a field twice", "application/json", []byte(`{"street":"a","street":"b","postal_code":"12345","city":"b"}`), http.StatusBadRequest},
		{"wrong type", "application/json", []byte(`{"street":1}`), http.StatusBadRequest},
		{"not UTF-8", "application/json", []byte("{\"street\":\"\xff\"}"), http.StatusBadRequest},
		{"trailing data", "application/json", []byte(`{"street":"a","postal_code":"12345","city":"b"} {}`), http.StatusBadRequest},
		{"too large", "application/json", []byte(`{"street":"` + strings.Repeat("a", 70<<10) + `"}`), http.StatusRequestEntityTooLarge},
		{"bidi override", "application/json", []byte(`{"street":"Haupt` + "\u202e" + `straße","postal_code":"12345","city":"b"}`), http.StatusBadRequest},
		{"bad postal code", "application/json", []byte(`{"street":"a","postal_code":"1234","city":"b"}`), http.StatusBadRequest},
	}
	for _, path := range []struct{ path, token string }{
		{"/api/v1/family/members/" + handle + "/address", tok},
		{"/api/v1/staff/representations", staffToken},
	} {
		for _, b := range bodies {
			req, err := http.NewRequestWithContext(t.Context(), "POST", f.n.URL+path.path, bytes.NewReader(b.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", b.ct)
			req.Header.Set("Authorization", "Bearer "+path.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(string(raw), `"message"`) {
				t.Errorf("%s to %s = %d %s, want a 4xx with a message", b.name, path.path, resp.StatusCode, raw)
			}
			if strings.HasPrefix(path.path, "/api/v1/family") && resp.StatusCode != b.want {
				t.Errorf("%s = %d, want %d", b.name, resp.StatusCode, b.want)
			}
		}
	}
	f.unchanged(t, f.young, f.mother)
}
