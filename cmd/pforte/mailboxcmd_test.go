package main

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/session"
)

// TestMailboxSend: an operator sends a message with a PDF and a reply-by
// day from the command line; the person's mailbox has it. Bad input is
// refused with the reason and stores nothing.
func TestMailboxSend(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		c := newCLI(t)
		if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
			t.Fatalf("migrate: %d %s", code, errOut)
		}
		const header = "kvnr,family_name,given_names,title,birth_name,birth_date,street,house_number,postal_code,city,address_verified_at,address_verified_by,iban,relation,member_kvnr\n"
		if code, out, errOut := c.run(header+"X110411675,Weiß,Jürgen,,,1970-01-02,Hauptstraße,1,10115,Berlin,,,,member,\n",
			"registry", "import", "--database", dsn, "-"); code != 0 {
			t.Fatalf("import: %d %s %s", code, out, errOut)
		}
		dir := t.TempDir()
		body := filepath.Join(dir, "text.md")
		os.WriteFile(body, []byte("Guten Tag,\n\nanbei Ihr **Bescheid**."), 0o600)
		doc := fpdf.New("P", "mm", "A4", "")
		doc.AddPage()
		pdf := filepath.Join(dir, "Bescheid 2026.pdf")
		if err := doc.OutputFileAndClose(pdf); err != nil {
			t.Fatal(err)
		}
		exe := filepath.Join(dir, "tool.exe")
		os.WriteFile(exe, []byte("MZ"), 0o600)

		for _, tt := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"no body", []string{"--kvnr", "X110411675", "--subject", "s"}, 2, "required"},
			{"bad date", []string{"--kvnr", "X110411675", "--subject", "s", "--body", body, "--reply-by", "morgen"}, 2, "JJJJ-MM-TT"},
			{"unknown person", []string{"--kvnr", "A000000005", "--subject", "s", "--body", body}, 1, "no insured person"},
			{"exe attached", []string{"--kvnr", "X110411675", "--subject", "s", "--body", body, "--attach", exe}, 1, "keinen erlaubten Typ"},
			{"missing file", []string{"--kvnr", "X110411675", "--subject", "s", "--body", filepath.Join(dir, "nope")}, 1, "--body"},
		} {
			code, _, errOut := c.run("", append([]string{"mailbox", "send", "--database", dsn}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("%s: code %d, stderr %q; want %d and %q", tt.name, code, errOut, tt.code, tt.want)
			}
		}
		code, out, errOut := c.run("", "mailbox", "send", "--database", dsn, "--kvnr", "X110411675", "--subject", "Ihr Bescheid",
			"--body", body, "--attach", pdf, "--reply-by", "2099-12-31", "--by", "Schmidt")
		if code != 0 || !strings.HasPrefix(out, "message sent: thread thr_") {
			t.Fatalf("send: %d %q %q", code, out, errOut)
		}

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
		p, err := st.PersonByKVNR(t.Context(), "X110411675")
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSpace(strings.TrimPrefix(out, "message sent: thread "))
		th, err := n.Mailbox.Open(t.Context(), p.ID, session.LevelSubstantial, id)
		if err != nil {
			t.Fatal(err)
		}
		if th.Subject != "Ihr Bescheid" || th.ReplyBy.IsZero() || len(th.Messages) != 1 || th.Messages[0].Author != "operator:Schmidt" ||
			!strings.Contains(string(th.Messages[0].HTML), "<strong>Bescheid</strong>") || th.Messages[0].Attachments[0].Name != "Bescheid 2026.pdf" {
			t.Errorf("sent thread: %+v", th)
		}
		if th.Messages[0].Attachments[0].Type != "application/pdf" {
			t.Errorf("attachment type %q", th.Messages[0].Attachments[0].Type)
		}
		if ov, err := n.Mailbox.Overview(t.Context(), p.ID, session.LevelSubstantial, mailbox.Query{}); err != nil || len(ov.Threads) != 1 {
			t.Errorf("threads after the refused sends and one sent: %d, %v", len(ov.Threads), err)
		}
	})
}
