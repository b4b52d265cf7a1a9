package phone

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// TestActivateWithCardOnANode runs `pforte app activate --egk` against a
// node that trusts a test eGK CA, locks the PIN, and unlocks it with
// `pforte app unlock --egk`.
func TestActivateWithCardOnANode(t *testing.T) {
	cards := nodetest.NewCards(t)
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) { cards.Configure(c) }})
	const kvnr, pw = "X110411675", "Kastanienbaum im Herbstwind"
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	n.GivePassword(t, p, pw)
	dir := t.TempDir()
	card, _ := cards.Card(t, kvnr)
	b, err := card.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cardFile, state := filepath.Join(dir, "karte.json"), filepath.Join(dir, "phone.json")
	if err := appclient.WritePrivateFile(cardFile, b); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Run(t.Context(), Env{Stdin: strings.NewReader(pw + "\n"), Stdout: &out, Stderr: &errOut}, args)
		return code, out.String() + errOut.String()
	}
	if code, out := run("activate", "--server", n.URL, "--state", state, "--egk", cardFile, "--kvnr", kvnr, "--password", "-",
		"--pin", "482915"); code != 0 || !strings.Contains(out, "bound with the health card at level high") {
		t.Fatalf("activate --egk: exit %d: %s", code, out)
	}
	// The card binding logged the phone in: approvals need no PIN now.
	if code, out := run("approvals", "--state", state); code != 0 {
		t.Errorf("approvals after activate --egk: exit %d: %s", code, out)
	}
	for range 2 {
		if code, out := run("login", "--state", state, "--pin", "111122"); code != exitWrongPIN {
			t.Fatalf("wrong PIN: exit %d: %s", code, out)
		}
	}
	if code, out := run("login", "--state", state, "--pin", "111122"); code != exitPINLocked {
		t.Fatalf("third wrong PIN: exit %d: %s", code, out)
	}
	if code, out := run("unlock", "--state", state, "--egk", cardFile, "--new-pin", "604152"); code != 0 {
		t.Fatalf("unlock --egk: exit %d: %s", code, out)
	}
	if code, out := run("login", "--state", state, "--pin", "604152"); code != 0 || !strings.Contains(out, "level high") {
		t.Errorf("login with the new PIN: exit %d: %s", code, out)
	}
	// Both ways of naming the account at once is a usage error.
	if code, _ := run("activate", "--server", n.URL, "--state", filepath.Join(dir, "x.json"), "--egk", cardFile, "--kvnr", kvnr,
		"--password", pw, "--code-url", "https://p.example/app/activate#abc", "--pin", "482915"); code != 2 {
		t.Errorf("activate --egk with both the letter and the password: exit %d, want 2", code)
	}
}
