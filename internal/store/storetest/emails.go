package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// confirmedEmail gives person a confirmed address with notices on.
func confirmedEmail(t *testing.T, s store.Store, p store.PersonID, notify bool) {
	t.Helper()
	if _, err := s.UpdateEmail(t.Context(), p, func(e *store.Email) error {
		e.Address, e.ConfirmedAt, e.Notify, e.UpdatedAt = sealed("a@example.de"), at(0), notify, at(0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// testEmails: a record is created by its first update, found by its
// hashes, kept as it was when fn fails, and a hash belongs to one record.
func testEmails(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := seedPerson(t, s, 1), seedPerson(t, s, 2)
	if _, err := s.EmailByPerson(ctx, alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EmailByPerson(none) = %v, want ErrNotFound", err)
	}
	var seen store.Email
	want := store.Email{PersonID: alice, Pending: sealed("neu@example.de"), PendingHash: []byte("hash-1"),
		PendingToken: sealed("token"), PendingUntil: at(60), Notify: true, UnsubscribeHash: []byte("unsub-1"),
		Unsubscribe: sealed("u"), UpdatedAt: at(1)}
	confirm := store.OutMail{ID: "C1", PersonID: alice, Kind: store.OutMailConfirm, Ref: "68617368", CreatedAt: at(1)}
	got, err := s.UpdateEmail(ctx, alice, func(e *store.Email) error {
		seen = *e
		e.Pending, e.PendingHash, e.PendingToken, e.PendingUntil = want.Pending, want.PendingHash, want.PendingToken, want.PendingUntil
		e.UnsubscribeHash, e.Unsubscribe, e.UpdatedAt = want.UnsubscribeHash, want.Unsubscribe, want.UpdatedAt
		return nil
	}, confirm)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Email{PersonID: alice, Notify: true}, seen); diff != "" {
		t.Errorf("fn saw for a new record (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateEmail (-want +got):\n%s", diff)
	}
	for name, read := range map[string]func() (store.Email, error){
		"by person":      func() (store.Email, error) { return s.EmailByPerson(ctx, alice) },
		"by pending":     func() (store.Email, error) { return s.EmailByPendingHash(ctx, []byte("hash-1")) },
		"by unsubscribe": func() (store.Email, error) { return s.EmailByUnsubscribeHash(ctx, []byte("unsub-1")) },
	} {
		got, err := read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	m, err := s.MailByID(ctx, "C1")
	if err != nil {
		t.Fatal(err)
	}
	wantMail := confirm
	wantMail.Status, wantMail.NextAttemptAt = store.OutMailQueued, at(1)
	if diff := cmp.Diff(wantMail, m); diff != "" {
		t.Errorf("queued confirmation mail (-want +got):\n%s", diff)
	}
	for _, h := range [][]byte{nil, []byte("hash-2")} {
		if _, err := s.EmailByPendingHash(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EmailByPendingHash(%q) = %v, want ErrNotFound", h, err)
		}
	}

	// A failing fn stores nothing, neither the record nor its mails.
	boom := errors.New("boom")
	if _, err := s.UpdateEmail(ctx, alice, func(e *store.Email) error {
		e.Pending = store.Sealed{}
		return boom
	}, store.OutMail{ID: "C2", PersonID: alice, Kind: store.OutMailConfirm, CreatedAt: at(2)}); !errors.Is(err, boom) {
		t.Errorf("UpdateEmail(failing fn) = %v, want its error", err)
	}
	if got, err := s.EmailByPerson(ctx, alice); err != nil || got.Pending.IsZero() {
		t.Errorf("after a failing fn: %+v, %v; want the record unchanged", got, err)
	}
	if _, err := s.MailByID(ctx, "C2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mail of a failing update = %v, want ErrNotFound", err)
	}
	// A hash is one record's.
	if _, err := s.UpdateEmail(ctx, bob, func(e *store.Email) error {
		e.PendingHash, e.UpdatedAt = []byte("hash-1"), at(3)
		return nil
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateEmail(another's hash) = %v, want ErrConflict", err)
	}
	// Two records without hashes do not collide.
	confirmedEmail(t, s, bob, true)
	if _, err := s.UpdateEmail(ctx, 4711, func(e *store.Email) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateEmail(unknown person) = %v, want ErrNotFound", err)
	}
}

// testEmailMessageMails: every message to a person with a confirmed
// address and notices on queues one mail in its transaction; none
// otherwise.
func testEmailMessageMails(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob, carol := seedPerson(t, s, 1), seedPerson(t, s, 2), seedPerson(t, s, 3)
	confirmedEmail(t, s, alice, true)
	confirmedEmail(t, s, bob, false)                                    // notices off
	if _, err := s.UpdateEmail(ctx, carol, func(e *store.Email) error { // only pending
		e.Pending, e.PendingHash, e.UpdatedAt = sealed("c@example.de"), []byte("h-carol"), at(0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, p := range []store.PersonID{alice, bob, carol} {
		th := fmt.Sprintf("T%d", i)
		if err := s.CreateMailThread(ctx, store.MailThread{ID: th, PersonID: p, Subject: sealed("s"), CreatedAt: at(1)},
			mailMessage("M"+th, th, p, store.MailToPerson, 1)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMailMessage(ctx, mailMessage("R"+th, th, p, store.MailFromPerson, 2)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMailMessage(ctx, mailMessage("A"+th, th, p, store.MailToPerson, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.QueueNotice(ctx, notice("N1", alice, "password_changed", "pw", 4)); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueNotice(ctx, notice("N1b", alice, "password_changed", "pw", 5)); err != nil { // merged
		t.Fatal(err)
	}
	if err := s.QueueNotice(ctx, notice("N2", bob, "password_changed", "pw-bob", 4)); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimMails(ctx, at(10), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range claimed {
		if m.PersonID != alice || m.Kind != store.OutMailMessage || m.ID != store.MailIDForMessage(m.Ref) {
			t.Errorf("queued mail %+v: want a message mail of alice named after its message", m)
		}
		got = append(got, m.ID)
	}
	want := []string{"eml_MT0", "eml_AT0", "eml_msg_N1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mails queued by messages (-want +got):\n%s", diff)
	}
}

// testMailQueue: claims lease, retries keep a mail queued, finished mails
// stay finished.
func testMailQueue(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := seedPerson(t, s, 1)
	queue := []store.OutMail{
		{ID: "Q1", PersonID: p, Kind: store.OutMailMessage, Ref: "m1", CreatedAt: at(0)},
		{ID: "Q2", PersonID: p, Kind: store.OutMailMessage, Ref: "m2", CreatedAt: at(1)},
		{ID: "Q3", PersonID: p, Kind: store.OutMailConfirm, Ref: "h", CreatedAt: at(2), NextAttemptAt: at(20)},
	}
	if _, err := s.UpdateEmail(ctx, p, func(e *store.Email) error { return nil }, queue...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateEmail(ctx, p, func(e *store.Email) error { return nil },
		store.OutMail{ID: "Q1", PersonID: p, Kind: store.OutMailConfirm, Ref: "other", CreatedAt: at(5)}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.MailByID(ctx, "Q1"); err != nil || m.Ref != "m1" {
		t.Errorf("a mail queued again under its id = %+v, %v; want the first kept", m, err)
	}
	claimed, err := s.ClaimMails(ctx, at(1), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Q1", "Q2"}, mailIDs(claimed)); diff != "" {
		t.Errorf("claim at minute 1 (-want +got):\n%s", diff)
	}
	if claimed[0].Attempts != 1 || !claimed[0].NextAttemptAt.Equal(at(2)) {
		t.Errorf("claimed: attempts %d, next %v; want 1, minute 2", claimed[0].Attempts, claimed[0].NextAttemptAt)
	}
	if again, err := s.ClaimMails(ctx, at(1), time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("claim during the lease = %v, %v; want none", mailIDs(again), err)
	}
	if err := s.RetryMail(ctx, "Q1", at(30), "relay down"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishMail(ctx, "Q2", store.OutMailSent, at(1), ""); err != nil {
		t.Fatal(err)
	}
	// After the lease: Q2 is sent, Q1 waits for minute 30, Q3 is due at 20.
	if got, err := s.ClaimMails(ctx, at(25), time.Minute, 10); err != nil || !cmp.Equal(mailIDs(got), []string{"Q3"}) {
		t.Errorf("claim at minute 25 = %v, %v; want [Q3]", mailIDs(got), err)
	}
	if err := s.FinishMail(ctx, "Q3", store.OutMailDropped, at(25), "link replaced"); err != nil {
		t.Fatal(err)
	}
	q1, err := s.ClaimMails(ctx, at(30), time.Minute, 10)
	if err != nil || len(q1) != 1 || q1[0].ID != "Q1" || q1[0].Attempts != 2 || q1[0].LastError != "relay down" {
		t.Errorf("claim at minute 30 = %+v, %v; want Q1 at its second attempt with its last error", q1, err)
	}
	if err := s.FinishMail(ctx, "Q1", store.OutMailFailed, at(30), "gave up"); err != nil {
		t.Fatal(err)
	}
	// Finished mails stay as they are and are never claimed again.
	if err := s.FinishMail(ctx, "Q1", store.OutMailSent, at(31), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryMail(ctx, "Q2", at(31), "x"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]store.OutMailStatus{"Q1": store.OutMailFailed, "Q2": store.OutMailSent, "Q3": store.OutMailDropped} {
		m, err := s.MailByID(ctx, id)
		if err != nil || m.Status != want || m.DoneAt.IsZero() {
			t.Errorf("%s = %+v, %v; want %s with its time", id, m, err, want)
		}
	}
	if got, err := s.ClaimMails(ctx, at(999), time.Minute, 10); err != nil || len(got) != 0 {
		t.Errorf("claim after all finished = %v, %v; want none", mailIDs(got), err)
	}
	for _, err := range []error{
		s.FinishMail(ctx, "nope", store.OutMailSent, at(1), ""),
		s.RetryMail(ctx, "nope", at(1), ""),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown mail: %v, want ErrNotFound", err)
		}
	}
	if err := s.FinishMail(ctx, "Q1", store.OutMailQueued, at(1), ""); err == nil {
		t.Error("FinishMail(queued) succeeded")
	}
}

// testMailQueueParallelClaimers: claimers racing over one queue send each
// mail exactly once.
func testMailQueueParallelClaimers(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := seedPerson(t, s, 1)
	const mails, claimers = 120, 8
	queue := make([]store.OutMail, mails)
	for i := range queue {
		queue[i] = store.OutMail{ID: fmt.Sprintf("P%03d", i), PersonID: p, Kind: store.OutMailMessage, Ref: "m", CreatedAt: at(0)}
	}
	if _, err := s.UpdateEmail(ctx, p, func(e *store.Email) error { return nil }, queue...); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		sent = map[string]int{}
		wg   sync.WaitGroup
		errs = make(chan error, claimers)
	)
	for range claimers {
		wg.Go(func() {
			for {
				batch, err := s.ClaimMails(ctx, at(1), time.Hour, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(batch) == 0 {
					return
				}
				for _, m := range batch {
					mu.Lock()
					sent[m.ID]++
					mu.Unlock()
					if err := s.FinishMail(ctx, m.ID, store.OutMailSent, at(1), ""); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(sent) != mails {
		t.Errorf("%d mails sent, want %d", len(sent), mails)
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("mail %s sent %d times, want once", id, n)
		}
	}
}

func mailIDs(ms []store.OutMail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}
