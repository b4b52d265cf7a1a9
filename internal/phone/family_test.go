package phone

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// TestFamilyOnANode: a father acts for his son through `pforte app`: the
// son is listed with a handle, the address change is asked for, shows in
// `approvals` naming the son, is approved with the father's PIN and changes
// the son's address; he reads and writes the son's mailbox. A forged handle
// is refused and changes nothing.
func TestFamilyOnANode(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	const kvnr, pw, pin = "X110411675", "Kastanienbaum im Herbstwind", "482915"
	father := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin",
		AddressVerifiedAt: time.Now().Add(-time.Hour), AddressVerifiedBy: "register"})
	c, err := registry.KVNRCheckDigit("Z12345678")
	if err != nil {
		t.Fatal(err)
	}
	son := n.Person(t, store.Person{KVNR: "Z12345678" + string(c), FamilyName: "Müller", GivenNames: "Paul",
		BirthDate: time.Now().AddDate(-9, 0, 0).Format("2006-01-02"), Street: "Hauptstraße", HouseNumber: "1",
		PostalCode: "10115", City: "Berlin", Relation: store.RelationDependent, MemberKVNR: kvnr})
	n.GivePassword(t, father, pw)
	state := t.TempDir() + "/phone.json"
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Run(t.Context(), Env{Stdin: strings.NewReader(pw + "\n"), Stdout: &out, Stderr: &errOut}, args)
		return code, out.String() + errOut.String()
	}
	before := len(n.Letters.Paths())
	if _, err := n.Access.OrderActivationLetter(t.Context(), father.ID, "127.0.0.1", ""); err != nil {
		t.Fatal(err)
	}
	letterPDF := n.Letters.Wait(t, before+1)[before]
	if code, out := run("activate", "--server", n.URL, "--state", state, "--letter", letterPDF, "--kvnr", kvnr, "--password", "-", "--pin", pin); code != 0 {
		t.Fatalf("activate: %d %s", code, out)
	}
	if code, out := run("login", "--state", state, "--pin", pin); code != 0 {
		t.Fatalf("login: %d %s", code, out)
	}
	code, out := run("family", "--state", state, "--json")
	var fam struct {
		Members []struct{ Handle, GivenNames, Basis string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &fam) != nil || len(fam.Members) != 1 || fam.Members[0].GivenNames != "Paul" ||
		fam.Members[0].Basis != "parent" {
		t.Fatalf("family: %d %s", code, out)
	}
	handle := fam.Members[0].Handle

	if code, out := run("family-address", "--state", state, "--handle", handle+"x", "--street", "Lindenallee", "--house-number", "3",
		"--postal-code", "04109", "--city", "Leipzig"); code == 0 {
		t.Errorf("a forged handle: exit 0: %s", out)
	}
	code, out = run("family-address", "--state", state, "--handle", handle, "--street", "Lindenallee", "--house-number", "3",
		"--postal-code", "04109", "--city", "Leipzig", "--json")
	var req struct {
		ApprovalID string `json:"approval_id"`
		Text       string `json:"text"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &req) != nil || !strings.Contains(req.Text, "Für Ihr Kind Paul Müller") {
		t.Fatalf("family-address: %d %s", code, out)
	}
	if code, out := run("approvals", "--state", state); code != 0 || !strings.Contains(out, req.ApprovalID) || !strings.Contains(out, "Für Ihr Kind Paul Müller") {
		t.Fatalf("approvals: %d %s", code, out)
	}
	if code, out := run("approve", "--state", state, "--id", req.ApprovalID, "--pin", pin); code != 0 {
		t.Fatalf("approve: %d %s", code, out)
	}
	if p, err := n.Store.PersonByKVNR(t.Context(), son.KVNR); err != nil || p.City != "Leipzig" {
		t.Errorf("the son's address after the approval: %s (%v)", p.City, err)
	}
	if p, _ := n.Store.PersonByKVNR(t.Context(), kvnr); p.City != "Berlin" {
		t.Errorf("the father's address changed: %s", p.City)
	}

	if _, err := n.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: son.KVNR, Author: "staff:e.muster", Subject: "Zahnarzt",
		Text: "Bitte an die Kontrolle denken."}); err != nil {
		t.Fatal(err)
	}
	if code, out := run("family-mailbox", "--state", state, "--handle", handle); code != 0 || !strings.Contains(out, "Zahnarzt") {
		t.Errorf("family-mailbox: %d %s", code, out)
	}
	if code, out := run("family-write", "--state", state, "--handle", handle, "--subject", "Frage", "--text", "Wann ist der Termin?"); code != 0 {
		t.Fatalf("family-write: %d %s", code, out)
	}
	inbox, err := n.Mailbox.StaffInbox(t.Context(), 0)
	if err != nil || len(inbox) != 1 || inbox[0].Subject != "Frage" {
		t.Errorf("staff inbox after the son's message: %+v %v", inbox, err)
	}
}
