package phone

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// TestMailboxOnANode: the Postfach through `pforte app` against a whole
// node: a staff message with a PDF is listed unread, read (which marks it
// read), its attachment saved byte for byte, answered with a file the staff
// side then holds; a reply with a file that is not what its name says is
// refused and sends nothing; without a session the command names the login.
func TestMailboxOnANode(t *testing.T) {
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
	before := len(n.Letters.Paths())
	if _, err := n.Access.OrderActivationLetter(t.Context(), p.ID, "127.0.0.1", ""); err != nil {
		t.Fatal(err)
	}
	letterPDF := n.Letters.Wait(t, before+1)[before]
	if code, out := run("activate", "--server", n.URL, "--state", state, "--letter", letterPDF, "--kvnr", kvnr, "--password", "-",
		"--pin", "482915"); code != 0 {
		t.Fatalf("activate: exit %d: %s", code, out)
	}
	if code, out := run("mailbox", "--state", state); code == 0 || !strings.Contains(out, "pforte app login") {
		t.Errorf("mailbox without a session: exit %d, want the way to log in: %s", code, out)
	}
	if code, out := run("login", "--state", state, "--pin", "482915"); code != 0 {
		t.Fatalf("login: exit %d: %s", code, out)
	}

	pdf, err := os.ReadFile(letterPDF) // a real PDF as the insurer's attachment
	if err != nil {
		t.Fatal(err)
	}
	id, err := n.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: kvnr, Author: "staff:e.muster", Subject: "Ihr Bescheid",
		Text: "Guten Tag,\n\nanbei Ihr Bescheid.", Attachments: []mailbox.Upload{{Name: "bescheid.pdf", Content: pdf}}})
	if err != nil {
		t.Fatal(err)
	}
	code, out := run("mailbox", "--state", state)
	if code != 0 || !strings.Contains(out, "* "+id) || !strings.Contains(out, "Ihr Bescheid") {
		t.Fatalf("mailbox: exit %d, want the thread unread: %s", code, out)
	}
	code, out = run("read", "--state", state, "--id", id, "--json")
	if code != 0 {
		t.Fatalf("read: exit %d: %s", code, out)
	}
	var read struct {
		Messages []struct {
			Text        string
			Attachments []struct{ ID, Name string }
		}
		CanReply bool
	}
	if err := json.Unmarshal([]byte(out), &read); err != nil || len(read.Messages) != 1 || len(read.Messages[0].Attachments) != 1 || !read.CanReply {
		t.Fatalf("read --json: %v: %s", err, out)
	}
	saved := filepath.Join(dir, "bescheid.pdf")
	if code, out := run("attachment", "--state", state, "--id", read.Messages[0].Attachments[0].ID, "--out", saved); code != 0 {
		t.Fatalf("attachment: exit %d: %s", code, out)
	}
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, pdf) {
		t.Errorf("the saved attachment differs from what staff sent (%v)", err)
	}
	if code, out := run("attachment", "--state", state, "--id", read.Messages[0].Attachments[0].ID, "--out", saved); code == 0 {
		t.Errorf("attachment over an existing file: exit 0: %s", out)
	}
	if code, out := run("mailbox", "--state", state); code != 0 || strings.Contains(out, "* "+id) {
		t.Errorf("after reading, the thread is still unread: %s", out)
	}

	wrong := filepath.Join(dir, "foto.png")
	if err := os.WriteFile(wrong, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := run("reply", "--state", state, "--id", id, "--text", "Danke", "--attach", wrong); code == 0 ||
		!strings.Contains(out, "foto.png") && !strings.Contains(strings.ToLower(out), "datei") {
		t.Errorf("reply with a PDF named .png: exit %d, want a refusal naming the file: %s", code, out)
	}
	if inbox, err := n.Mailbox.StaffInbox(t.Context(), 0); err != nil || len(inbox) != 0 {
		t.Fatalf("after the refused reply staff have %d threads (%v), want none", len(inbox), err)
	}
	answer := filepath.Join(dir, "antwort.pdf")
	if err := os.WriteFile(answer, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := run("reply", "--state", state, "--id", id, "--text", "Danke, erhalten.", "--attach", answer); code != 0 {
		t.Fatalf("reply: exit %d: %s", code, out)
	}
	th, err := n.Mailbox.StaffOpen(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := th.Messages[len(th.Messages)-1]
	if last.Text != "Danke, erhalten." || len(last.Attachments) != 1 || last.Attachments[0].Name != "antwort.pdf" {
		t.Errorf("staff read the reply as %q with %+v", last.Text, last.Attachments)
	}
	if code, out := run("write", "--state", state, "--subject", "Frage", "--text", "Wie lange dauert es?"); code != 0 || !strings.Contains(out, "sent: thread") {
		t.Errorf("write: exit %d: %s", code, out)
	}
}
