package mailbox_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/notice"
)

// TestNoticesInTheMailbox: every kind of notice reads as a message with
// the letter's subject, its time in German and the way back; a device's
// name shows as typed; a notice takes no reply; repeats of a day say so.
func TestNoticesInTheMailbox(t *testing.T) {
	f := newFixture(t, mailbox.Config{})
	maker := notice.NewMaker(f.ring, func() time.Time { return f.now }, nil)
	subjects := map[notice.Kind]string{}
	for _, k := range notice.Kinds() {
		n, err := maker.Make(f.alice.ID, k, notice.Details{Device: "*Pixel* [8](javascript:x)"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.st.QueueNotice(t.Context(), n); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Minute)
		subjects[k] = ""
	}
	ov, err := f.svc.Overview(t.Context(), f.alice.ID, subs, mailbox.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ov.Threads) != len(notice.Kinds()) || ov.Unread != len(notice.Kinds()) {
		t.Fatalf("%d threads, %d unread; want one per kind", len(ov.Threads), ov.Unread)
	}
	for _, sum := range ov.Threads {
		if !sum.Notice || sum.Subject == "" || strings.HasPrefix(sum.Subject, "letter.") {
			t.Errorf("notice summary = %+v", sum)
		}
		th, err := f.svc.Open(t.Context(), f.alice.ID, subs, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		html := string(th.Messages[0].HTML)
		if th.CanReply || !strings.Contains(html, "0800 123 456") || !strings.Contains(html, "1. Dezember 2026 um 10:0") {
			t.Errorf("%s: %s", sum.Subject, html)
		}
		if strings.Contains(html, "Gerät") && (!strings.Contains(html, "*Pixel* [8](javascript:x)") || strings.Contains(html, "<em>")) {
			t.Errorf("%s: the device's name is not shown as typed: %s", sum.Subject, html)
		}
		var in *mailbox.InputError
		if _, err := f.svc.Reply(t.Context(), f.alice.ID, subs, sum.ID, "Danke", nil); !errors.As(err, &in) {
			t.Errorf("reply to a notice = %v, want an InputError", err)
		}
	}
	if hits, err := f.svc.Search(t.Context(), f.alice.ID, subs, "Bankverbindung"); err != nil || len(hits) != 1 {
		t.Errorf("search in notices: %d hits, %v", len(hits), err)
	}

	// A repeat of the day merges and says so.
	n, err := maker.Make(f.alice.ID, notice.PasswordChanged, notice.Details{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.QueueNotice(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	ov, _ = f.svc.Overview(t.Context(), f.alice.ID, subs, mailbox.Query{})
	if ov.Unread != 1 || ov.Threads[0].Subject != "Ihr Passwort wurde geändert" {
		t.Fatalf("after the repeat: unread %d, newest %q", ov.Unread, ov.Threads[0].Subject)
	}
	th, err := f.svc.Open(t.Context(), f.alice.ID, subs, ov.Threads[0].ID)
	if err != nil || !strings.Contains(th.Messages[0].Text, "2-mal") {
		t.Errorf("repeated notice: %q, %v", th.Messages[0].Text, err)
	}
}
