package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func testPersonLocks(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := seedPerson(t, s, 1), seedPerson(t, s, 2)
	if _, err := s.PersonLockByID(ctx, p1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonLockByID(not locked) = %v, want ErrNotFound", err)
	}
	// The lock revokes the person's OIDC tokens with it, not another's.
	mine, theirs, old := accessToken("lock-1", "lf1"), accessToken("lock-2", "lf2"), refreshToken("lock-3", "lf3")
	mine.PersonID, theirs.PersonID, old.PersonID = p1, p2, p1
	old.RevokedAt = at(1)
	if err := s.CreateTokens(ctx, mine, theirs, old); err != nil {
		t.Fatal(err)
	}
	want := store.PersonLock{PersonID: p1, LockedAt: at(3), LockedBy: "staff:7"}
	if err := s.LockPerson(ctx, want); err != nil {
		t.Fatal(err)
	}
	for id, revoked := range map[string]time.Time{"lock-1": at(3), "lock-2": {}, "lock-3": at(1)} {
		k, err := s.TokenByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !k.RevokedAt.Equal(revoked) {
			t.Errorf("token %s after the lock: revoked at %v, want %v", id, k.RevokedAt, revoked)
		}
	}
	if err := s.LockPerson(ctx, store.PersonLock{PersonID: p1, LockedAt: at(4), LockedBy: "staff:8"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("LockPerson(locked) = %v, want ErrConflict", err)
	}
	if err := s.LockPerson(ctx, store.PersonLock{PersonID: p2 + 100, LockedAt: at(4), LockedBy: "staff:8"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LockPerson(unknown person) = %v, want ErrNotFound", err)
	}
	got, err := s.PersonLockByID(ctx, p1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PersonLockByID (-want +got):\n%s", diff)
	}
	if _, err := s.PersonLockByID(ctx, p2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonLockByID(other person) = %v, want ErrNotFound", err)
	}
	if err := s.UnlockPerson(ctx, p2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UnlockPerson(not locked) = %v, want ErrNotFound", err)
	}
	// Of parallel unlocks exactly one succeeds.
	var ok, gone atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch err := s.UnlockPerson(ctx, p1); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrNotFound):
				gone.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || gone.Load() != 19 {
		t.Errorf("parallel UnlockPerson: %d succeeded, %d not found; want 1, 19", ok.Load(), gone.Load())
	}
	if _, err := s.PersonLockByID(ctx, p1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonLockByID(unlocked) = %v, want ErrNotFound", err)
	}
	if err := s.LockPerson(ctx, store.PersonLock{PersonID: p1, LockedAt: at(9), LockedBy: "staff:8"}); err != nil {
		t.Errorf("LockPerson(again after unlock) = %v", err)
	}
}

func testStaffRequestFailed(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := seedPerson(t, s, 1)
	by, other := seedStaff(t, s, "a"), seedStaff(t, s, "b")
	r := store.StaffRequest{ID: "r1", Kind: "pin.reset", PersonID: p, Target: "dev-1", Reason: "Anruf", Method: "eid",
		Status: store.StaffRequestPending, RequestedBy: by, CreatedAt: at(1)}
	if err := s.AddStaffRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FailStaffRequest(ctx, "r1", "pin_not_locked"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("FailStaffRequest(pending) = %v, want ErrConflict", err)
	}
	if _, err := s.FailStaffRequest(ctx, "nope", "pin_not_locked"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FailStaffRequest(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.DecideStaffRequest(ctx, "r1", store.StaffRequestConfirmed, other, at(2), func(store.StaffRequest) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.FailStaffRequest(ctx, "r1", "pin_not_locked")
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.Status, want.DecidedBy, want.DecidedAt, want.Outcome = store.StaffRequestFailed, other, at(2), "pin_not_locked"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FailStaffRequest (-want +got):\n%s", diff)
	}
	if again, err := s.StaffRequestByID(ctx, "r1"); err != nil || !cmp.Equal(want, again) {
		t.Errorf("StaffRequestByID after failure = %+v, %v; want %+v", again, err, want)
	}
	if _, err := s.FailStaffRequest(ctx, "r1", "other"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("FailStaffRequest(failed) = %v, want ErrConflict", err)
	}
	if list, err := s.PendingStaffRequests(ctx, p, 10); err != nil || len(list) != 0 {
		t.Errorf("PendingStaffRequests after failure = %v, %v; want none", list, err)
	}
}
