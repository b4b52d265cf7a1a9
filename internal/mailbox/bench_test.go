package mailbox_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pforte/pforte/internal/mailbox"
)

// seedMessages gives alice threads×perThread messages: staff threads, each
// answered by her perThread-1 times.
func seedMessages(b *testing.B, f *fixture, threads, perThread int) {
	b.Helper()
	for i := range threads {
		id, err := f.svc.Send(b.Context(), mailbox.Outgoing{KVNR: f.alice.KVNR, Author: "staff:1",
			Subject: fmt.Sprintf("Vorgang %d: Ihr Antrag auf Erstattung", i), Text: "Guten Tag, wir haben Ihren Antrag erhalten und melden uns."})
		if err != nil {
			b.Fatal(err)
		}
		for j := 1; j < perThread; j++ {
			if _, err := f.svc.Reply(b.Context(), f.alice.ID, subs, id, fmt.Sprintf("Antwort %d zu Vorgang %d mit der Rechnungsnummer R-%d.", j, i, i*10+j), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMailbox10k: a person with 10,000 messages in 2,000 threads: a
// page of the inbox (50 threads, subjects opened), the last page, opening a
// thread, and a search that reads all 10,000 messages.
func BenchmarkMailbox10k(b *testing.B) {
	f := newFixture(b, mailbox.Config{})
	seedMessages(b, f, 2000, 5)
	b.Run("first-page", func(b *testing.B) {
		for b.Loop() {
			ov, err := f.svc.Overview(b.Context(), f.alice.ID, subs, mailbox.Query{})
			if err != nil || len(ov.Threads) != 50 {
				b.Fatal(len(ov.Threads), err)
			}
		}
	})
	b.Run("search", func(b *testing.B) {
		for b.Loop() {
			hits, err := f.svc.Search(b.Context(), f.alice.ID, subs, "R-12344")
			if err != nil || len(hits) != 1 {
				b.Fatal(len(hits), err)
			}
		}
	})
	ov, err := f.svc.Overview(b.Context(), f.alice.ID, subs, mailbox.Query{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("open-thread", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.Open(b.Context(), f.alice.ID, subs, ov.Threads[7].ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpload: a reply with one attachment, checked, sealed and
// stored (b.SetBytes: MB/s is the upload throughput).
func BenchmarkUpload(b *testing.B) {
	f := newFixture(b, mailbox.Config{MaxFileBytes: 8 << 20, MaxMessageBytes: 8 << 20})
	id := f.send(b, f.alice, "Upload", "x")
	for _, tc := range []struct {
		name string
		file mailbox.Upload
	}{
		{"pdf-5MB", mailbox.Upload{Name: "scan.pdf", Content: rawPDF("<< /Type /Catalog >>", flateStream(bytes.Repeat([]byte("0 0 m 10 10 l S\n"), 4<<16)),
			"<< /Length 5000000 >>\nstream\n"+string(bytes.Repeat([]byte{'x'}, 5_000_000))+"\nendstream")}},
		{"png-2000x1500", mailbox.Upload{Name: "foto.png", Content: pngBytes(b, 2000, 1500)}},
		{"jpeg", mailbox.Upload{Name: "foto.jpg", Content: jpegBytes(b)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.file.Content)))
			for b.Loop() {
				if _, err := f.svc.Reply(b.Context(), f.alice.ID, subs, id, "Anbei", []mailbox.Upload{tc.file}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
