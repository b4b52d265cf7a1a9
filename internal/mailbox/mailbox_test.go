package mailbox_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/session"
)

const (
	low  = session.LevelLow
	subs = session.LevelSubstantial
)

// TestOverviewBelowSubstantialShowsOnlyTheCount: a session at low learns
// how many messages are unread, and nothing of them.
func TestOverviewBelowSubstantialShowsOnlyTheCount(t *testing.T) {
	f := newFixture(t, mailbox.Config{})
	f.send(t, f.alice, "Ihr Antrag auf Kostenübernahme", "Guten Tag")
	for _, level := range []session.Level{low, "", "bogus"} {
		ov, err := f.svc.Overview(t.Context(), f.alice.ID, level, mailbox.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if ov.Unread != 1 || !ov.Restricted || ov.Threads != nil {
			t.Errorf("level %q: overview = %+v, want only the count", level, ov)
		}
	}
	for _, level := range []session.Level{subs, session.LevelHigh} {
		ov, err := f.svc.Overview(t.Context(), f.alice.ID, level, mailbox.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if ov.Restricted || len(ov.Threads) != 1 || ov.Threads[0].Subject != "Ihr Antrag auf Kostenübernahme" || ov.Threads[0].Unread != 1 {
			t.Errorf("level %q: overview = %+v", level, ov)
		}
	}
	id := f.send(t, f.alice, "Zweite", "x")
	for name, call := range map[string]func() error{
		"Open":       func() error { _, err := f.svc.Open(t.Context(), f.alice.ID, low, id); return err },
		"Reply":      func() error { _, err := f.svc.Reply(t.Context(), f.alice.ID, low, id, "hallo", nil); return err },
		"Write":      func() error { _, err := f.svc.Write(t.Context(), f.alice.ID, low, "s", "hallo", nil); return err },
		"Archive":    func() error { return f.svc.Archive(t.Context(), f.alice.ID, low, id, true) },
		"Search":     func() error { _, err := f.svc.Search(t.Context(), f.alice.ID, low, "Antrag"); return err },
		"Attachment": func() error { _, err := f.svc.Attachment(t.Context(), f.alice.ID, low, "att_x"); return err },
	} {
		if err := call(); !errors.Is(err, mailbox.ErrLevel) {
			t.Errorf("%s at low = %v, want ErrLevel", name, err)
		}
	}
}

// TestAnotherPersonsThreadIsNotFound: every way into a thread of another
// person answers as if it did not exist.
func TestAnotherPersonsThreadIsNotFound(t *testing.T) {
	f := newFixture(t, mailbox.Config{})
	id := f.send(t, f.alice, "Nur für Alice", "Geheim", mailbox.Upload{Name: "a.pdf", Content: pdfBytes(t)})
	th, err := f.svc.Open(t.Context(), f.alice.ID, subs, id)
	if err != nil {
		t.Fatal(err)
	}
	att := th.Messages[0].Attachments[0].ID
	if _, err := f.svc.Open(t.Context(), f.bob.ID, subs, id); !errors.Is(err, mailbox.ErrNotFound) {
		t.Errorf("Open(bob) = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Reply(t.Context(), f.bob.ID, subs, id, "hallo", nil); !errors.Is(err, mailbox.ErrNotFound) {
		t.Errorf("Reply(bob) = %v, want ErrNotFound", err)
	}
	if err := f.svc.Archive(t.Context(), f.bob.ID, subs, id, true); !errors.Is(err, mailbox.ErrNotFound) {
		t.Errorf("Archive(bob) = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Attachment(t.Context(), f.bob.ID, subs, att); !errors.Is(err, mailbox.ErrNotFound) {
		t.Errorf("Attachment(bob) = %v, want ErrNotFound", err)
	}
	if hits, err := f.svc.Search(t.Context(), f.bob.ID, subs, "Geheim"); err != nil || len(hits) != 0 {
		t.Errorf("Search(bob) = %v, %v; want nothing", hits, err)
	}
	if file, err := f.svc.Attachment(t.Context(), f.alice.ID, subs, att); err != nil || file.Name != "a.pdf" || !bytes.Equal(file.Content, pdfBytes(t)[:len(file.Content)]) {
		t.Errorf("Attachment(alice) = %q, %v", file.Name, err)
	}
}

// TestConversation: staff write, the person reads (and it is read), answers
// with a photo, staff read the answer in their inbox and answer again; the
// archive and the way back out of it.
func TestConversation(t *testing.T) {
	f := newFixture(t, mailbox.Config{})
	ctx := t.Context()
	id, err := f.svc.Send(ctx, mailbox.Outgoing{KVNR: "x110411675 ", Author: "staff:42", Subject: "Rückfrage",
		Text: "Bitte schicken Sie uns die **Rechnung**.", ReplyBy: f.now.Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	th, err := f.svc.Open(ctx, f.alice.ID, subs, id)
	if err != nil {
		t.Fatal(err)
	}
	if th.Unread != 1 || !th.CanReply || th.ReplyBy.IsZero() || !strings.Contains(string(th.Messages[0].HTML), "<strong>Rechnung</strong>") {
		t.Errorf("opened thread = %+v", th)
	}
	if ov, _ := f.svc.Overview(ctx, f.alice.ID, subs, mailbox.Query{}); ov.Unread != 0 {
		t.Errorf("unread after opening = %d, want 0", ov.Unread)
	}
	if _, err := f.svc.Reply(ctx, f.alice.ID, subs, id, "Anbei <b>das</b> Foto.", []mailbox.Upload{{Name: "Rechnung.JPG", Content: jpegBytes(t)}}); err != nil {
		t.Fatal(err)
	}
	inbox, err := f.svc.StaffInbox(ctx, 10)
	if err != nil || len(inbox) != 1 || inbox[0].ID != id || inbox[0].UnreadByStaff != 1 {
		t.Fatalf("staff inbox = %+v, %v", inbox, err)
	}
	sth, err := f.svc.StaffOpen(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	last := sth.Messages[len(sth.Messages)-1]
	if !last.FromPerson || string(last.HTML) != "<p>Anbei &lt;b&gt;das&lt;/b&gt; Foto.</p>" || len(last.Attachments) != 1 || last.Attachments[0].Type != mailbox.TypeJPEG {
		t.Errorf("the person's message as staff see it: %+v", last)
	}
	if file, err := f.svc.StaffAttachment(ctx, id, last.Attachments[0].ID); err != nil || !bytes.Equal(file.Content, jpegBytes(t)) {
		t.Errorf("StaffAttachment = %v", err)
	}
	if inbox, _ := f.svc.StaffInbox(ctx, 10); len(inbox) != 0 {
		t.Errorf("staff inbox after reading = %d threads, want 0", len(inbox))
	}
	if _, err := f.svc.StaffReply(ctx, id, "staff:43", "Danke, erhalten.", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Archive(ctx, f.alice.ID, subs, id, true); err != nil {
		t.Fatal(err)
	}
	ov, _ := f.svc.Overview(ctx, f.alice.ID, subs, mailbox.Query{})
	arch, _ := f.svc.Overview(ctx, f.alice.ID, subs, mailbox.Query{Archived: true})
	if len(ov.Threads) != 0 || len(arch.Threads) != 1 || ov.Unread != 1 {
		t.Errorf("after archiving: inbox %d, archive %d, unread %d", len(ov.Threads), len(arch.Threads), ov.Unread)
	}
	if _, err := f.svc.Write(ctx, f.alice.ID, subs, "Neue Frage", "Wie geht das?", nil); err != nil {
		t.Fatal(err)
	}
	if inbox, _ := f.svc.StaffInbox(ctx, 10); len(inbox) != 1 || inbox[0].Subject != "Neue Frage" {
		t.Errorf("staff inbox after the person wrote = %+v", inbox)
	}
}

// TestSealedAtRest: the database holds no subject, text, file name or file
// content in clear.
func TestSealedAtRest(t *testing.T) {
	f := newFixture(t, mailbox.Config{})
	png := pngBytes(t, 8, 8)
	id := f.send(t, f.alice, "Betreff-Klartext", "Nachricht-Klartext", mailbox.Upload{Name: "Dateiname-Klartext.png", Content: png})
	if _, err := f.svc.Reply(t.Context(), f.alice.ID, subs, id, "Antwort-Klartext", nil); err != nil {
		t.Fatal(err)
	}
	db := f.st.(interface{ DB() *sql.DB }).DB()
	var dump bytes.Buffer
	for _, q := range []string{"SELECT subject FROM mail_threads", "SELECT body FROM mail_messages",
		"SELECT name FROM mail_attachments", "SELECT content FROM mail_attachments"} {
		rows, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			dump.Write(b)
			n++
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s: no rows", q)
		}
	}
	notInClear(t, dump.Bytes(), "Betreff-Klartext", "Nachricht-Klartext", "Antwort-Klartext", "Dateiname-Klartext", string(png[:16]))
}

// TestBadInput: every bad input is an *InputError with a German message,
// and nothing is stored.
func TestBadInput(t *testing.T) {
	f := newFixture(t, mailbox.Config{MaxFileBytes: 200_000, MaxMessageBytes: 300_000, MaxFiles: 3, MaxPixels: 1_000_000})
	pdf := pdfBytes(t)
	big := append(bytes.Clone(pdf), bytes.Repeat([]byte{' '}, 200_000)...)
	zeros := make([]byte, 30<<20)
	up := func(name string, b []byte) []mailbox.Upload { return []mailbox.Upload{{Name: name, Content: b}} }
	tests := []struct {
		name    string
		subject string
		text    string
		ups     []mailbox.Upload
		field   string
	}{
		{"empty subject", " ", "x", nil, "subject"},
		{"long subject", strings.Repeat("a", 201), "x", nil, "subject"},
		{"subject with control", "a\x07b", "x", nil, "subject"},
		{"subject with RTL override", "Rechnung\u202Efdp.exe", "x", nil, "subject"},
		{"empty text", "s", " \n ", nil, "text"},
		{"text with NUL", "s", "a\x00b", nil, "text"},
		{"text with bidi isolate", "s", "a\u2066b", nil, "text"},
		{"invalid UTF-8", "s", "a\xffb", nil, "text"},
		{"long text", "s", strings.Repeat("ä", 20_001), nil, "text"},
		{"exe", "s", "x", up("virus.exe", pdf), "attachments"},
		{"no extension", "s", "x", up("bescheid", pdf), "attachments"},
		{"path", "s", "x", up("../../etc/passwd.pdf", pdf), "attachments"},
		{"folder", "s", "x", up("a/b.pdf", pdf), "attachments"},
		{"windows path", "s", "x", up(`C:\a.pdf`, pdf), "attachments"},
		{"NUL in name", "s", "x", up("a\x00.pdf", pdf), "attachments"},
		{"RTL override in name", "s", "x", up("rechnung\u202Efdp.exe.pdf", pdf), "attachments"},
		{"hidden file", "s", "x", up(".pdf", pdf), "attachments"},
		{"PNG named PDF", "s", "x", up("a.pdf", pngBytes(t, 2, 2)), "attachments"},
		{"PDF named JPEG", "s", "x", up("a.jpg", pdf), "attachments"},
		{"HTML named PDF", "s", "x", up("a.pdf", []byte("<html><script>alert(1)</script></html>")), "attachments"},
		{"empty file", "s", "x", up("a.pdf", nil), "attachments"},
		{"file too large", "s", "x", up("a.pdf", big), "attachments"},
		{"message too large", "s", "x", []mailbox.Upload{{Name: "a.pdf", Content: big[:150_000]}, {Name: "b.pdf", Content: big[:160_000]}}, "attachments"},
		{"too many files", "s", "x", []mailbox.Upload{{Name: "a.pdf", Content: pdf}, {Name: "b.pdf", Content: pdf}, {Name: "c.pdf", Content: pdf}, {Name: "d.pdf", Content: pdf}}, "attachments"},
		{"truncated PDF", "s", "x", up("a.pdf", pdf[:len(pdf)/2]), "attachments"},
		{"PDF with a wrong startxref", "s", "x", up("a.pdf", bytes.Replace(rawPDF("<< /Type /Catalog >>"), []byte("startxref\n"), []byte("startxref\n1"), 1)), "attachments"},
		{"PDF with JavaScript", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog /OpenAction 2 0 R >>", "<< /S /JavaScript /JS (app.alert(1)) >>")), "attachments"},
		{"PDF with escaped JavaScript", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog /OpenAction 2 0 R >>", "<< /S /J#61vaScript /J#53 (x) >>")), "attachments"},
		{"PDF with JavaScript in an object stream", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog >>", objStream([]byte("<< /S /JavaScript /JS (x) >>")))), "attachments"},
		{"PDF with a launch action", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>")), "attachments"},
		{"PDF with an embedded file", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog >>", "<< /Type /Filespec /F (a.exe) /EF << /F 3 0 R >> >>", "<< /Type /EmbeddedFile >>")), "attachments"},
		{"encrypted PDF", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog >>", "<< /Filter /Standard /V 2 >>  % /Encrypt")), "attachments"},
		{"PDF decompression bomb", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog >>", flateStream(zeros))), "attachments"},
		{"PDF with a broken stream", "s", "x", up("a.pdf", rawPDF("<< /Type /Catalog >>", "<< /Length 5 /Filter /FlateDecode >>\nstream\nxxxxx\nendstream")), "attachments"},
		{"PNG decompression bomb", "s", "x", up("a.png", pngClaiming(t, 100_000, 100_000)), "attachments"},
		{"PNG over the pixel limit", "s", "x", up("a.png", pngClaiming(t, 1001, 1000)), "attachments"},
		{"truncated PNG", "s", "x", up("a.png", pngBytes(t, 50, 50)[:60]), "attachments"},
		{"truncated JPEG", "s", "x", up("a.jpeg", jpegBytes(t)[:40]), "attachments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Send(t.Context(), mailbox.Outgoing{KVNR: f.alice.KVNR, Author: "staff:1", Subject: tt.subject, Text: tt.text, Attachments: tt.ups})
			var in *mailbox.InputError
			if !errors.As(err, &in) || in.Field != tt.field || in.Msg == "" {
				t.Fatalf("Send = %v, want an InputError on %s", err, tt.field)
			}
			if strings.ContainsAny(in.Msg, "\x00\u202E") {
				t.Errorf("message echoes a dangerous character: %q", in.Msg)
			}
		})
	}
	if ov, err := f.svc.Overview(t.Context(), f.alice.ID, subs, mailbox.Query{}); err != nil || len(ov.Threads) != 0 {
		t.Errorf("after bad input: %d threads, %v; want none", len(ov.Threads), err)
	}
	// The same checks guard the person's reply.
	id := f.send(t, f.alice, "s", "x")
	if _, err := f.svc.Reply(t.Context(), f.alice.ID, subs, id, "x", up("a.pdf", pngBytes(t, 2, 2))); err == nil {
		t.Error("a reply with a PNG named PDF was taken")
	}
	// And what passes: a real PDF, PNG and JPEG together.
	ok := []mailbox.Upload{{Name: "Bescheid 2026.pdf", Content: pdf}, {Name: "bild.PNG", Content: pngBytes(t, 10, 10)}, {Name: "foto.jpeg", Content: jpegBytes(t)}}
	if _, err := f.svc.Reply(t.Context(), f.alice.ID, subs, id, "Anbei", ok); err != nil {
		t.Errorf("good attachments refused: %v", err)
	}
	if _, err := f.svc.Send(t.Context(), mailbox.Outgoing{KVNR: "X110411676", Author: "staff:1", Subject: "s", Text: "x"}); !errors.Is(err, mailbox.ErrUnknownPerson) {
		t.Errorf("Send(unknown KVNR) = %v, want ErrUnknownPerson", err)
	}
	if _, err := f.svc.Send(t.Context(), mailbox.Outgoing{KVNR: f.alice.KVNR, Author: "staff:1", Subject: "s", Text: "x", ReplyBy: f.now.Add(-48 * time.Hour)}); err == nil {
		t.Error("a reply-by date in the past was taken")
	}
	if _, err := f.svc.Send(t.Context(), mailbox.Outgoing{KVNR: f.alice.KVNR, Subject: "s", Text: "x"}); err == nil {
		t.Error("a message without author was taken")
	}
}

// TestSearch: words from subjects and texts, umlauts either way, archived
// threads too, only the person's own.
func TestSearch(t *testing.T) {
	f := newFixture(t, mailbox.Config{})
	a := f.send(t, f.alice, "Bescheid über Ihre Zahnbehandlung", "Die Kosten für die Brücke übernehmen wir.")
	b := f.send(t, f.alice, "Mitgliedsbescheinigung", "Anbei Ihre Bescheinigung für den Arbeitgeber.")
	f.send(t, f.bob, "Zahnbehandlung Bob", "Brücke")
	if err := f.svc.Archive(t.Context(), f.alice.ID, subs, a, true); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"zahnbehandlung", []string{a}},
		{"Bruecke", []string{a}},
		{"BRÜCKE kosten", []string{a}},
		{"bescheinigung", []string{b}},
		{"beschei", []string{b, a}},
		{"bescheid", []string{a}},
		{"arbeitgeber zahn", nil},
	} {
		hits, err := f.svc.Search(t.Context(), f.alice.ID, subs, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Search(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if _, err := f.svc.Search(t.Context(), f.alice.ID, subs, "  "); err == nil {
		t.Error("an empty search was taken")
	}
}

// TestPaging: a listing continues where the last page ended, without gaps
// or repeats; a forged cursor is bad input.
func TestPaging(t *testing.T) {
	f := newFixture(t, mailbox.Config{PageSize: 3})
	var want []string
	for i := range 8 {
		want = append([]string{f.send(t, f.alice, fmt.Sprintf("Nachricht %d", i), "x")}, want...)
	}
	var got []string
	q := mailbox.Query{}
	for range 5 {
		ov, err := f.svc.Overview(t.Context(), f.alice.ID, subs, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range ov.Threads {
			got = append(got, th.ID)
		}
		if ov.Next == "" {
			break
		}
		q.After = ov.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
	var in *mailbox.InputError
	if _, err := f.svc.Overview(t.Context(), f.alice.ID, subs, mailbox.Query{After: "%%%"}); !errors.As(err, &in) {
		t.Errorf("forged cursor = %v, want an InputError", err)
	}
}
