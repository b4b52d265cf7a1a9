package nodetest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/node/nodetest"
)

// A node with Host is named by the host and answers there.
func TestHost(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{Host: "localhost"})
	if !strings.HasPrefix(n.URL, "http://localhost:") || n.Cfg.PublicURL != n.URL {
		t.Errorf("URL %q, public URL %q, want http://localhost:PORT for both", n.URL, n.Cfg.PublicURL)
	}
	resp, err := http.Get(n.URL + "/anmelden")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /anmelden at %s: %d, want 200", n.URL, resp.StatusCode)
	}
}
