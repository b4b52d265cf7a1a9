package pforte_test

import (
	"os/exec"
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
	// The go command that runs the test (go test puts its own first on PATH).
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", "./cmd/pforte").CombinedOutput()
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
