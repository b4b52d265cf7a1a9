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

// testNotices: queueing merges by key, claims lease, finished notices stay
// sent, retries keep a notice queued.
func testNotices(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	if err := s.QueueNotice(ctx, notice("N1", pid, "password_changed", "pw-day1", 0)); err != nil {
		t.Fatal(err)
	}
	// The same merge key merges, whatever the id.
	if err := s.QueueNotice(ctx, notice("N1b", pid, "password_changed", "pw-day1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueNotice(ctx, notice("N2", pid, "device_bound", "dev-day1", 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueNotice(ctx, store.Notice{ID: "N3", PersonID: pid, Kind: "x"}); err == nil {
		t.Error("a notice without merge key was queued")
	}
	got, err := s.NoticeByID(ctx, "N1")
	if err != nil {
		t.Fatal(err)
	}
	want := notice("N1", pid, "password_changed", "pw-day1", 0)
	want.Count, want.Status, want.NextAttemptAt = 2, store.NoticeQueued, at(0)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged notice (-want +got):\n%s", diff)
	}
	if _, err := s.NoticeByID(ctx, "N1b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("merged notice stored apart: %v", err)
	}

	claimed, err := s.ClaimNotices(ctx, at(1), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"N1"}, noticeIDs(claimed)); diff != "" {
		t.Errorf("claim at minute 1 (-want +got):\n%s", diff)
	}
	if claimed[0].Attempts != 1 || !claimed[0].NextAttemptAt.Equal(at(2)) {
		t.Errorf("claimed: attempts %d, next %v; want 1, minute 2", claimed[0].Attempts, claimed[0].NextAttemptAt)
	}
	// Leased: not claimed again before minute 2.
	if again, err := s.ClaimNotices(ctx, at(1), time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("claim during the lease = %v, %v; want none", noticeIDs(again), err)
	}
	if err := s.RetryNotice(ctx, "N1", at(30), "budget"); err != nil {
		t.Fatal(err)
	}
	if again, err := s.ClaimNotices(ctx, at(10), time.Minute, 10); err != nil || !cmp.Equal([]string{"N2"}, noticeIDs(again)) {
		t.Errorf("claim at minute 10 = %v, %v; want N2 only (N1 retries at 30)", noticeIDs(again), err)
	}
	if err := s.FinishNotice(ctx, "N2", at(11)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishNotice(ctx, "nope", at(11)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finish unknown = %v, want ErrNotFound", err)
	}
	if n, err := s.NoticeByID(ctx, "N2"); err != nil || n.Status != store.NoticeSent || !n.SentAt.Equal(at(11)) {
		t.Errorf("finished: %+v, %v", n, err)
	}
	if again, err := s.ClaimNotices(ctx, at(40), time.Minute, 10); err != nil || !cmp.Equal([]string{"N1"}, noticeIDs(again)) {
		t.Errorf("claim at minute 40 = %v, %v; want N1 (N2 is sent)", noticeIDs(again), err)
	}
	if n, err := s.NoticeByID(ctx, "N1"); err != nil || n.LastError != "budget" || n.Attempts != 2 {
		t.Errorf("retried notice: %+v, %v", n, err)
	}
	list, err := s.PersonNotices(ctx, pid, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"N2", "N1"}, noticeIDs(list)); diff != "" {
		t.Errorf("PersonNotices (-want +got):\n%s", diff)
	}
}

func noticeIDs(list []store.Notice) []string {
	var ids []string
	for _, n := range list {
		ids = append(ids, n.ID)
	}
	return ids
}

// testNoticesClaimedOnce: ten claimers in parallel claim each of 40 notices
// exactly once.
func testNoticesClaimedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	for i := range 40 {
		if err := s.QueueNotice(ctx, notice(fmt.Sprintf("N%02d", i), pid, "k", fmt.Sprintf("m%d", i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	claimedOnceEach(t, "notices", 40, func() ([]string, error) {
		got, err := s.ClaimNotices(t.Context(), at(1), time.Hour, 3)
		ids := make([]string, len(got))
		for i, n := range got {
			ids[i] = n.ID
		}
		return ids, err
	})
}

// claimedOnceEach runs ten claimers of a queue with a lease at once, each
// claiming (claim: the ids of one batch) until the queue is empty, and checks
// that all want rows were claimed, each by one claimer only.
func claimedOnceEach(t *testing.T, what string, want int, claim func() ([]string, error)) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 10 {
		wg.Go(func() {
			for {
				ids, err := claim()
				if err != nil {
					t.Error(err)
					return
				}
				if len(ids) == 0 {
					return
				}
				mu.Lock()
				for _, id := range ids {
					seen[id]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != want {
		t.Errorf("claimed %d distinct %s, want %d", len(seen), what, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

// testNoticesWithChanges: changes that owe a notice queue it in their own
// transaction, and only when the change is written.
func testNoticesWithChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	refuse := errors.New("refused")
	if err := s.AddDevice(ctx, device("D1", pid, 0), func(int) error { return refuse }, notice("bound-refused", pid, "device_bound", "b0", 0)); !errors.Is(err, refuse) {
		t.Fatalf("refused AddDevice = %v", err)
	}
	if err := s.AddDevice(ctx, device("D1", pid, 0), func(int) error { return nil }, notice("bound", pid, "device_bound", "b1", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateAccount(ctx, pid, at(1), func(*store.Account, bool) error { return refuse }, notice("pw-refused", pid, "password_changed", "p0", 1)); !errors.Is(err, refuse) {
		t.Fatalf("refused UpdateAccount = %v", err)
	}
	if _, err := s.UpdateAccount(ctx, pid, at(1), func(a *store.Account, _ bool) error { a.PasswordHash = "h"; return nil },
		notice("pw", pid, "password_changed", "p1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateDevice(ctx, "D1", func(*store.Device) error { return refuse }, notice("removed-refused", pid, "device_removed", "r0", 2)); !errors.Is(err, refuse) {
		t.Fatalf("refused UpdateDevice = %v", err)
	}
	if _, err := s.UpdateDevice(ctx, "D1", func(d *store.Device) error { d.Name = "neu"; return nil }, notice("renamed", pid, "device_renamed", "r1", 2)); err != nil {
		t.Fatal(err)
	}
	// PIN lock: only the proof that locks queues the notice.
	d, err := s.DeviceByID(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		res, err := s.DecideDeviceProof(ctx, store.DeviceProof{Device: "D1", ChallengeDigest: fmt.Appendf(nil, "lock-%d", i),
			ChallengeExpires: at(10), DeviceKey: d.DeviceKey, PINKey: d.PINKey, DeviceOK: true, Limit: 3, Now: at(3),
			LockNotices: []store.Notice{notice(fmt.Sprintf("locked-%d", i), pid, "pin_locked", fmt.Sprintf("l%d", i), 3)}})
		if err != nil || (res.Outcome == store.ProofLockedNow) != (i == 2) {
			t.Fatalf("wrong PIN #%d = %v, %v", i, res.Outcome, err)
		}
	}
	list, err := s.PersonNotices(ctx, pid, 20)
	if err != nil {
		t.Fatal(err)
	}
	got := noticeIDs(list)
	if diff := cmp.Diff([]string{"locked-2", "renamed", "pw", "bound"}, got); diff != "" {
		t.Errorf("notices queued with their changes (-want +got):\n%s", diff)
	}
}

// testCounterNotice: a counter update queues its notice in the same
// transaction when, and only when, its function says the update owes it.
func testCounterNotice(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	refuse := errors.New("refused")
	for i, tc := range []struct {
		owed bool
		err  error
	}{{false, nil}, {true, refuse}, {true, nil}} {
		_, err := s.UpdateCounterNotice(ctx, "login:1", func(c *store.Counter) (bool, error) {
			c.Value++
			return tc.owed, tc.err
		}, notice(fmt.Sprintf("lock-%d", i), pid, "login_locked", fmt.Sprintf("k%d", i), i))
		if !errors.Is(err, tc.err) {
			t.Fatalf("update %d = %v, want %v", i, err, tc.err)
		}
	}
	c, err := s.CounterByKey(ctx, "login:1")
	if err != nil || c.Value != 2 {
		t.Errorf("counter = %+v (%v), want value 2 (the refused update wrote nothing)", c, err)
	}
	list, err := s.PersonNotices(ctx, pid, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lock-2"}, noticeIDs(list)); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
}
