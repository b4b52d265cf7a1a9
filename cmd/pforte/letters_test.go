package main

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/store"
)

// TestLettersReview: an access letter to an address nobody verified waits
// for review; an operator lists it, and releases or rejects it with who and
// why, through the command line.
func TestLettersReview(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		c := newCLI(t)
		if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
			t.Fatalf("migrate: %d %s", code, errOut)
		}
		const header = "kvnr,family_name,given_names,title,birth_name,birth_date,street,house_number,postal_code,city,address_verified_at,address_verified_by,iban,relation,member_kvnr\n"
		rows := "X110411675,Weiß,Jürgen,,,1970-01-02,Hauptstraße,1,10115,Berlin,,,,member,\n" +
			"T555558879,Groß,Anna,,,1971-02-03,Lindenallee,3,04109,Leipzig,,,,member,\n"
		if code, out, errOut := c.run(header+rows, "registry", "import", "--database", dsn, "-"); code != 0 {
			t.Fatalf("import: %d %s %s", code, out, errOut)
		}
		// Two access requests: both letters wait, the addresses never verified.
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		cf := config.NewFlags(fs)
		if err := fs.Parse([]string{"--database", dsn}); err != nil {
			t.Fatal(err)
		}
		cfg, err := cf.Load(c.environ, config.Needs{Keys: true, Audit: true})
		if err != nil {
			t.Fatal(err)
		}
		st, err := openStore(t.Context(), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n, err := buildNode(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), st)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []access.Request{{KVNR: "X110411675", PostalCode: "10115", BirthDate: "1970-01-02"},
			{KVNR: "T555558879", PostalCode: "04109", BirthDate: "1971-02-03"}} {
			if err := n.Access.RequestLetter(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		waiting, err := n.Letters.InReview(t.Context(), 10)
		if err != nil || len(waiting) != 2 {
			t.Fatalf("in review: %d letters, %v", len(waiting), err)
		}
		first, second := waiting[0].Letter.ID, waiting[1].Letter.ID

		code, out, errOut := c.run("", "letters", "review", "list", "--database", dsn)
		if code != 0 || !strings.Contains(out, first) || !strings.Contains(out, second) || !strings.Contains(out, "never verified") ||
			!strings.Contains(out, "Lindenallee 3") {
			t.Fatalf("list: %d\n%s%s", code, out, errOut)
		}
		if code, _, errOut := c.run("", "letters", "review", "release", first, "--database", dsn); code != 2 || !strings.Contains(errOut, "--by and --reason") {
			t.Errorf("release without who and why: %d %s", code, errOut)
		}
		if code, out, errOut := c.run("", "letters", "review", "release", first, "--database", dsn, "--by", "mmuster",
			"--reason", "Anschrift mit dem Melderegister abgeglichen"); code != 0 || !strings.Contains(out, "released") {
			t.Errorf("release: %d %s %s", code, out, errOut)
		}
		if code, out, errOut := c.run("", "letters", "review", "reject", second, "--database", dsn, "--by", "mmuster",
			"--reason", "Anschrift veraltet"); code != 0 || !strings.Contains(out, "codes are void") {
			t.Errorf("reject: %d %s %s", code, out, errOut)
		}
		if code, _, errOut := c.run("", "letters", "review", "release", first, "--database", dsn, "--by", "x", "--reason", "y"); code != 1 ||
			!strings.Contains(errOut, "does not wait for review") {
			t.Errorf("release twice: %d %s", code, errOut)
		}
		if code, out, _ := c.run("", "letters", "review", "list", "--database", dsn); code != 0 || !strings.Contains(out, "no letters wait") {
			t.Errorf("list after the decisions: %d %s", code, out)
		}
		for id, want := range map[string]store.LetterStatus{first: store.LetterQueued, second: store.LetterRejected} {
			if l, err := st.LetterByID(t.Context(), id); err != nil || l.Status != want {
				t.Errorf("letter %s: %s, %v; want %s", id, l.Status, err, want)
			}
		}
	})
}
