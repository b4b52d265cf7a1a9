package pforte_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// testOnlyModules are modules only tests may link: servers and browsers
// that play the other side in a test.
var testOnlyModules = []string{"github.com/emersion/go-smtp", "github.com/emersion/go-sasl", "github.com/chromedp/"}

// TestArchBinaryLinksNoTestServers: the pforte binary links none of the
// test-only modules (the SMTP server the mail tests speak to, the browser
// driver).
func TestArchBinaryLinksNoTestServers(t *testing.T) {
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", "./cmd/pforte").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list named %d packages; want the binary's whole graph", len(deps))
	}
	for _, d := range deps {
		for _, m := range testOnlyModules {
			if strings.HasPrefix(d, m) {
				t.Errorf("the binary links %s", d)
			}
		}
	}
}
