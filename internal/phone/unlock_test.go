package phone

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// TestUnlockWithALetterOnANode: the way back from a locked Freigabe-PIN as
// a person takes it: bind with the letter, lock the PIN, order a new
// letter (as the portal's device page does), and `pforte app unlock` with
// that letter and a new PIN; the old letter's code does not unlock, the
// old PIN does not log in, the new one does.
func TestUnlockWithALetterOnANode(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	const kvnr, pw = "X110411675", "Kastanienbaum im Herbstwind"
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin",
		AddressVerifiedAt: time.Now().Add(-time.Hour), AddressVerifiedBy: "register"})
	n.GivePassword(t, p, pw)
	dir := t.TempDir()
	state := filepath.Join(dir, "phone.json")
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Run(t.Context(), Env{Stdin: strings.NewReader(pw + "\n"), Stdout: &out, Stderr: &errOut}, args)
		return code, out.String() + errOut.String()
	}
	order := func() string {
		t.Helper()
		before := len(n.Letters.Paths())
		if _, err := n.Access.OrderActivationLetter(t.Context(), p.ID, "127.0.0.1", ""); err != nil {
			t.Fatal(err)
		}
		paths := n.Letters.Wait(t, before+1)
		return paths[len(paths)-1]
	}
	first := order()
	if code, out := run("activate", "--server", n.URL, "--state", state, "--letter", first, "--kvnr", kvnr, "--password", "-",
		"--pin", "482915"); code != 0 {
		t.Fatalf("activate: exit %d: %s", code, out)
	}
	for range 2 {
		if code, out := run("login", "--state", state, "--pin", "111122"); code != exitWrongPIN {
			t.Fatalf("wrong PIN: exit %d: %s", code, out)
		}
	}
	if code, out := run("login", "--state", state, "--pin", "111122"); code != exitPINLocked {
		t.Fatalf("third wrong PIN: exit %d: %s", code, out)
	}
	// The used letter does not unlock.
	if code, out := run("unlock", "--state", state, "--letter", first, "--kvnr", kvnr, "--password", "-", "--new-pin", "604152"); code == 0 {
		t.Fatalf("unlock with the used letter: exit 0: %s", out)
	}
	second := order()
	if code, out := run("unlock", "--state", state, "--letter", second, "--kvnr", kvnr, "--password", "-", "--new-pin", "604152"); code != 0 ||
		!strings.Contains(out, "replaced") {
		t.Fatalf("unlock with the new letter: exit %d: %s", code, out)
	}
	if code, out := run("login", "--state", state, "--pin", "482915"); code == 0 {
		t.Errorf("login with the old PIN after the unlock: exit 0: %s", out)
	}
	if code, out := run("login", "--state", state, "--pin", "604152"); code != 0 || !strings.Contains(out, "substantial") {
		t.Errorf("login with the new PIN: exit %d: %s", code, out)
	}
	// Letter and card at once, or neither: usage errors.
	if code, _ := run("unlock", "--state", state, "--letter", second, "--egk", "x.json", "--kvnr", kvnr, "--password", pw,
		"--new-pin", "604152"); code != 2 {
		t.Errorf("unlock with letter and card: exit %d, want 2", code)
	}
	if code, _ := run("unlock", "--state", state, "--new-pin", "604152"); code != 2 {
		t.Errorf("unlock without a proof: exit %d, want 2", code)
	}
}
