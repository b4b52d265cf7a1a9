package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func sealed(s string) store.Sealed { return store.Sealed{KeyID: "k1", Ciphertext: []byte(s)} }

func mailMessage(id, thread string, p store.PersonID, dir store.MailDirection, minute int) store.MailMessage {
	return store.MailMessage{ID: id, ThreadID: thread, PersonID: p, Direction: dir, Body: sealed("body " + id),
		CreatedAt: at(minute)}
}

func threadIDs(ts []store.MailThread) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// testMailbox: threads with messages and attachments, read state, archive,
// paging, and that every person-scoped method treats another person's thread
// as one that does not exist.
func testMailbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := seedPerson(t, s, 1), seedPerson(t, s, 2)

	first := mailMessage("M1", "T1", alice, store.MailToPerson, 0)
	first.Author = "staff:7"
	first.Attachments = []store.MailAttachment{
		{ID: "A1", Type: "application/pdf", Size: 3, Name: sealed("bescheid.pdf"), Content: sealed("pdf")},
		{ID: "A2", Type: "image/png", Size: 2, Name: sealed("bild.png"), Content: sealed("pn")},
	}
	t1 := store.MailThread{ID: "T1", PersonID: alice, Subject: sealed("Ihr Antrag"), ReplyBy: at(60 * 24), CreatedAt: at(0)}
	if err := s.CreateMailThread(ctx, t1, first); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMailThread(ctx, t1, mailMessage("M9", "T1", alice, store.MailToPerson, 0)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateMailThread(taken id) = %v, want ErrConflict", err)
	}
	if err := s.CreateMailThread(ctx, store.MailThread{ID: "TX", PersonID: 4711, Subject: sealed("x"), CreatedAt: at(0)},
		mailMessage("MX", "TX", 4711, store.MailToPerson, 0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateMailThread(unknown person) = %v, want ErrNotFound", err)
	}
	t2 := store.MailThread{ID: "T2", PersonID: alice, Subject: sealed("Frage"), CreatedAt: at(5)}
	if err := s.CreateMailThread(ctx, t2, mailMessage("M2", "T2", alice, store.MailFromPerson, 5)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMailThread(ctx, store.MailThread{ID: "T3", PersonID: bob, Subject: sealed("Bob"), CreatedAt: at(1)},
		mailMessage("M3", "T3", bob, store.MailToPerson, 1)); err != nil {
		t.Fatal(err)
	}

	// The reply to T1 makes it the newest thread.
	reply := mailMessage("M4", "T1", alice, store.MailFromPerson, 10)
	reply.Attachments = []store.MailAttachment{{ID: "A3", Type: "image/jpeg", Size: 4, Name: sealed("foto.jpg"), Content: sealed("jpeg")}}
	if err := s.AddMailMessage(ctx, reply); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMailMessage(ctx, mailMessage("M5", "T1", bob, store.MailFromPerson, 11)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddMailMessage(another person's thread) = %v, want ErrNotFound", err)
	}
	if err := s.AddMailMessage(ctx, mailMessage("M4", "T1", alice, store.MailFromPerson, 12)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddMailMessage(taken id) = %v, want ErrConflict", err)
	}

	list, err := s.MailThreads(ctx, alice, store.MailThreadQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"T1", "T2"}, threadIDs(list)); diff != "" {
		t.Fatalf("alice's threads (-want +got):\n%s", diff)
	}
	want := store.MailThread{ID: "T1", PersonID: alice, Subject: sealed("Ihr Antrag"), ReplyBy: at(60 * 24), CreatedAt: at(0),
		LastAt: at(10), Messages: 2, Unread: 1, UnreadByStaff: 1}
	if diff := cmp.Diff(want, list[0]); diff != "" {
		t.Errorf("thread T1 (-want +got):\n%s", diff)
	}
	if n, err := s.MailUnread(ctx, alice); err != nil || n != 1 {
		t.Errorf("MailUnread(alice) = %d, %v; want 1", n, err)
	}

	// Paging: after T1 comes T2.
	page, err := s.MailThreads(ctx, alice, store.MailThreadQuery{BeforeAt: list[0].LastAt, BeforeID: list[0].ID, Limit: 1})
	if err != nil || !cmp.Equal([]string{"T2"}, threadIDs(page)) {
		t.Errorf("page after T1 = %v, %v; want T2", threadIDs(page), err)
	}

	th, msgs, err := s.MailThread(ctx, alice, "T1")
	if err != nil {
		t.Fatal(err)
	}
	if th.ID != "T1" || len(msgs) != 2 || msgs[0].ID != "M1" || msgs[1].ID != "M4" {
		t.Fatalf("thread T1 = %+v, %d messages", th, len(msgs))
	}
	wantAtt := []store.MailAttachment{
		{ID: "A1", MessageID: "M1", Type: "application/pdf", Size: 3, Name: sealed("bescheid.pdf")},
		{ID: "A2", MessageID: "M1", Type: "image/png", Size: 2, Name: sealed("bild.png")},
	}
	if diff := cmp.Diff(wantAtt, msgs[0].Attachments); diff != "" {
		t.Errorf("attachments of M1 (-want +got):\n%s", diff)
	}
	if msgs[0].Author != "staff:7" || msgs[0].Direction != store.MailToPerson || !cmp.Equal(msgs[0].Body, sealed("body M1")) {
		t.Errorf("message M1 = %+v", msgs[0])
	}
	if _, _, err := s.MailThread(ctx, bob, "T1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MailThread(bob, alice's thread) = %v, want ErrNotFound", err)
	}
	if owner, err := s.MailThreadOwner(ctx, "T1"); err != nil || owner != alice {
		t.Errorf("MailThreadOwner(T1) = %d, %v; want alice", owner, err)
	}
	if _, err := s.MailThreadOwner(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MailThreadOwner(unknown) = %v, want ErrNotFound", err)
	}

	a, err := s.MailAttachment(ctx, alice, "A3")
	if err != nil || !cmp.Equal(a.Content, sealed("jpeg")) || a.Type != "image/jpeg" || a.MessageID != "M4" {
		t.Errorf("MailAttachment(A3) = %+v, %v", a, err)
	}
	if _, err := s.MailAttachment(ctx, bob, "A3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MailAttachment(bob, alice's) = %v, want ErrNotFound", err)
	}

	// Read state: bob cannot mark alice's thread; alice marks hers once.
	if n, err := s.MarkMailRead(ctx, bob, "T1", store.MailToPerson, at(20)); err != nil || n != 0 {
		t.Errorf("MarkMailRead(bob, T1) = %d, %v; want 0", n, err)
	}
	if n, err := s.MarkMailRead(ctx, alice, "T1", store.MailToPerson, at(20)); err != nil || n != 1 {
		t.Errorf("MarkMailRead(alice, T1) = %d, %v; want 1", n, err)
	}
	if n, err := s.MarkMailRead(ctx, alice, "T1", store.MailToPerson, at(21)); err != nil || n != 0 {
		t.Errorf("MarkMailRead again = %d, %v; want 0", n, err)
	}
	if _, msgs, err := s.MailThread(ctx, alice, "T1"); err != nil || !msgs[0].ReadAt.Equal(at(20)) || !msgs[1].ReadAt.IsZero() {
		t.Errorf("read times after marking: %v, %v (%v)", msgs[0].ReadAt, msgs[1].ReadAt, err)
	}
	if n, err := s.MailUnread(ctx, alice); err != nil || n != 0 {
		t.Errorf("MailUnread(alice) after reading = %d, %v; want 0", n, err)
	}

	// Staff inbox: messages from persons not yet read by staff, oldest first.
	inbox, err := s.StaffMailInbox(ctx, 10)
	if err != nil || !cmp.Equal([]string{"T2", "T1"}, threadIDs(inbox)) {
		t.Errorf("StaffMailInbox = %v, %v; want T2, T1", threadIDs(inbox), err)
	}
	if n, err := s.MarkMailRead(ctx, alice, "T2", store.MailFromPerson, at(22)); err != nil || n != 1 {
		t.Errorf("staff reads T2 = %d, %v", n, err)
	}
	if inbox, err := s.StaffMailInbox(ctx, 10); err != nil || !cmp.Equal([]string{"T1"}, threadIDs(inbox)) {
		t.Errorf("StaffMailInbox after reading T2 = %v, %v; want T1", threadIDs(inbox), err)
	}

	// Archive: only the owner; a new message brings the thread back.
	if err := s.SetMailArchived(ctx, bob, "T2", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetMailArchived(bob, alice's) = %v, want ErrNotFound", err)
	}
	if err := s.SetMailArchived(ctx, alice, "T2", true); err != nil {
		t.Fatal(err)
	}
	if l, err := s.MailThreads(ctx, alice, store.MailThreadQuery{}); err != nil || !cmp.Equal([]string{"T1"}, threadIDs(l)) {
		t.Errorf("inbox after archiving T2 = %v, %v", threadIDs(l), err)
	}
	if l, err := s.MailThreads(ctx, alice, store.MailThreadQuery{Archived: true}); err != nil || !cmp.Equal([]string{"T2"}, threadIDs(l)) {
		t.Errorf("archive = %v, %v; want T2", threadIDs(l), err)
	}
	if err := s.AddMailMessage(ctx, mailMessage("M6", "T2", alice, store.MailToPerson, 30)); err != nil {
		t.Fatal(err)
	}
	if l, err := s.MailThreads(ctx, alice, store.MailThreadQuery{}); err != nil || !cmp.Equal([]string{"T2", "T1"}, threadIDs(l)) {
		t.Errorf("inbox after an answer in the archived thread = %v, %v; want T2, T1", threadIDs(l), err)
	}

	recent, err := s.MailMessages(ctx, alice, 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range recent {
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff([]string{"M6", "M4", "M2"}, ids); diff != "" {
		t.Errorf("MailMessages(alice, 3) (-want +got):\n%s", diff)
	}
}

// testMailboxParallel: messages added from many goroutines are all kept,
// and marking them read from many goroutines marks each exactly once.
func testMailboxParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := seedPerson(t, s, 1)
	if err := s.CreateMailThread(ctx, store.MailThread{ID: "T", PersonID: p, Subject: sealed("s"), CreatedAt: at(0)},
		mailMessage("M0", "T", p, store.MailToPerson, 0)); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.AddMailMessage(ctx, mailMessage(fmt.Sprintf("M%d", i+1), "T", p, store.MailToPerson, i+1))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	marked := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			k, err := s.MarkMailRead(ctx, p, "T", store.MailToPerson, at(100))
			if err != nil {
				t.Error(err)
			}
			marked <- k
		})
	}
	wg.Wait()
	close(marked)
	total := 0
	for k := range marked {
		total += k
	}
	if total != n+1 {
		t.Errorf("parallel MarkMailRead marked %d messages in all, want %d", total, n+1)
	}
	if th, _, err := s.MailThread(ctx, p, "T"); err != nil || th.Messages != n+1 || th.Unread != 0 || !th.LastAt.Equal(at(n)) {
		t.Errorf("thread after parallel adds: %+v, %v", th, err)
	}
}

// testMailboxNotices: every queued notice is filed in the person's mailbox
// in its transaction; a merged repeat makes it unread again and brings it
// back from the archive; a notice of a change that failed files nothing.
func testMailboxNotices(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	if err := s.QueueNotice(ctx, notice("N1", pid, "password_changed", "pw-day1", 0)); err != nil {
		t.Fatal(err)
	}
	list, err := s.MailThreads(ctx, pid, store.MailThreadQuery{})
	if err != nil || len(list) != 1 {
		t.Fatalf("threads after a notice: %v, %v", threadIDs(list), err)
	}
	th := list[0]
	want := notice("N1", pid, "password_changed", "pw-day1", 0)
	if th.NoticeID != "N1" || th.NoticeKind != "password_changed" || !cmp.Equal(th.NoticeDetails, want.Details) || th.NoticeCount != 1 ||
		th.Unread != 1 || th.Messages != 1 || !th.LastAt.Equal(at(0)) {
		t.Errorf("notice thread = %+v", th)
	}
	if _, msgs, err := s.MailThread(ctx, pid, th.ID); err != nil || len(msgs) != 1 || msgs[0].Author != "notice" || msgs[0].Direction != store.MailToPerson {
		t.Errorf("notice message = %+v, %v", msgs, err)
	}
	if _, err := s.MarkMailRead(ctx, pid, th.ID, store.MailToPerson, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMailArchived(ctx, pid, th.ID, true); err != nil {
		t.Fatal(err)
	}
	// The repeat merges: the same thread, unread again, in the inbox.
	if err := s.QueueNotice(ctx, notice("N1b", pid, "password_changed", "pw-day1", 5)); err != nil {
		t.Fatal(err)
	}
	list, err = s.MailThreads(ctx, pid, store.MailThreadQuery{})
	if err != nil || len(list) != 1 || list[0].ID != th.ID || list[0].NoticeCount != 2 || list[0].Unread != 1 || list[0].Messages != 1 ||
		!list[0].LastAt.Equal(at(5)) {
		t.Errorf("after the merged repeat: %+v, %v", list, err)
	}
	if err := s.QueueNotice(ctx, notice("N2", pid, "device_bound", "dev-day1", 6)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MailUnread(ctx, pid); err != nil || n != 2 {
		t.Errorf("unread = %d, %v; want 2", n, err)
	}
	// A change whose transaction fails after its first notice was filed
	// (the second is malformed) leaves no thread.
	other := seedPerson(t, s, 2)
	bad := notice("N4", other, "x", "", 8)
	bad.MergeKey = ""
	if _, err := s.UpdateAccount(ctx, other, at(7), func(a *store.Account, _ bool) error {
		a.PasswordHash = "x"
		return nil
	}, notice("N3", other, "password_changed", "pw-other", 7), bad); err == nil {
		t.Fatal("UpdateAccount with a malformed notice succeeded")
	}
	if l, err := s.MailThreads(ctx, other, store.MailThreadQuery{}); err != nil || len(l) != 0 {
		t.Errorf("threads of the failed change: %v, %v", threadIDs(l), err)
	}
}
