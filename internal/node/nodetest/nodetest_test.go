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

// A node with Register holds the register when it starts, and the
// simulator's first identity is one of its persons.
func TestRegister(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{Register: &nodetest.Register{Persons: 12, Seed: 11}})
	if len(n.Registered) != 12 {
		t.Fatalf("%d persons registered, want 12", len(n.Registered))
	}
	for _, p := range n.Registered {
		if got, err := n.Store.PersonByKVNR(t.Context(), p.KVNR); err != nil || got.ID != p.ID || p.BirthDate == "" {
			t.Errorf("registered %+v, stored %+v (%v)", p, got, err)
		}
	}
	if n.Partner == "" || len(n.Identities) < 2 {
		t.Fatalf("partner %q with %d identities, want the simulator with the register's", n.Partner, len(n.Identities))
	}
	p := n.PersonOf(t, n.Identities[0])
	if !strings.Contains(n.Identities[0].Label, p.KVNR) {
		t.Errorf("the first identity %q does not name %s", n.Identities[0].Label, p.KVNR)
	}
}
