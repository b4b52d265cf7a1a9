package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func intake(id string, created int) store.Intake {
	return store.Intake{ID: id, Kind: "reset", Data: store.Sealed{KeyID: "k1", Ciphertext: []byte("sealed-" + id)}, CreatedAt: at(created)}
}

func intakeIDs(ins []store.Intake) []string {
	out := []string{}
	for _, in := range ins {
		out = append(out, in.ID)
	}
	return out
}

// testIntakes: the limit refuses a request and stores nothing; a claim
// leases the requests, oldest first; a leased request is claimed again only
// after its lease (a worker that died); a deleted one never.
func testIntakes(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, id := range []string{"I1", "I2", "I3"} {
		if err := s.AddIntake(ctx, intake(id, i), 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddIntake(ctx, intake("I4", 4), 3); !errors.Is(err, store.ErrIntakeFull) {
		t.Errorf("AddIntake over the limit = %v, want ErrIntakeFull", err)
	}
	if err := s.AddIntake(ctx, intake("I1", 5), 10); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddIntake of an existing id = %v, want ErrConflict", err)
	}
	if n, err := s.IntakeBacklog(ctx); err != nil || n != 3 {
		t.Errorf("IntakeBacklog = %d, %v; want 3 (nothing of the refused ones stored)", n, err)
	}
	got, err := s.ClaimIntakes(ctx, at(10), time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"I1", "I2"}, intakeIDs(got)); diff != "" {
		t.Errorf("claim at minute 10 (-want +got):\n%s", diff)
	}
	if got[0].Attempts != 1 || !got[0].LeaseUntil.Equal(at(11)) || got[0].Kind != "reset" ||
		got[0].Data.KeyID != "k1" || string(got[0].Data.Ciphertext) != "sealed-I1" || !got[0].CreatedAt.Equal(at(0)) {
		t.Errorf("claimed = %+v; want I1 as stored, attempt 1, leased to minute 11", got[0])
	}
	if again, err := s.ClaimIntakes(ctx, at(10), time.Minute, 10); err != nil || !cmp.Equal(intakeIDs(again), []string{"I3"}) {
		t.Errorf("claim during the leases = %v, %v; want [I3]", intakeIDs(again), err)
	}
	if err := s.DeleteIntake(ctx, "I2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIntake(ctx, "I2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteIntake twice = %v, want ErrNotFound", err)
	}
	// After the leases: I1 and I3 come back (their workers died), I2 not.
	back, err := s.ClaimIntakes(ctx, at(12), time.Minute, 10)
	if err != nil || !cmp.Equal(intakeIDs(back), []string{"I1", "I3"}) {
		t.Fatalf("claim after the leases = %v, %v; want [I1 I3]", intakeIDs(back), err)
	}
	if back[0].Attempts != 2 {
		t.Errorf("I1 attempts = %d, want 2", back[0].Attempts)
	}
	if n, err := s.IntakeBacklog(ctx); err != nil || n != 2 {
		t.Errorf("IntakeBacklog = %d, %v; want 2", n, err)
	}
}

// testIntakesClaimedOnce: parallel claimers get each request once.
func testIntakesClaimedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 40 {
		if err := s.AddIntake(ctx, intake(fmt.Sprintf("I%02d", i), 0), 100); err != nil {
			t.Fatal(err)
		}
	}
	claimedOnceEach(t, "requests", 40, func() ([]string, error) {
		got, err := s.ClaimIntakes(t.Context(), at(1), time.Hour, 3)
		ids := make([]string, len(got))
		for i, in := range got {
			ids[i] = in.ID
		}
		return ids, err
	})
}

// testIntakeDeletedWithLetter: the letter a request caused deletes the
// request in its transaction; a second letter for the same request (a
// worker whose lease ran out while the first one's letter was stored) finds
// it gone and stores nothing; a letter refused by its limit leaves the
// request where it was.
func testIntakeDeletedWithLetter(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	const subject = "person:1"
	allow := func(store.LetterCounts) error { return nil }
	refuse := errors.New("limit")
	code := func(digest string) store.OneTime {
		return store.OneTime{Kind: "reset", Digest: []byte(digest), Subject: subject, Data: []byte("letter"), CreatedAt: at(1), ExpiresAt: at(60)}
	}
	if err := s.AddIntake(ctx, intake("R1", 0), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueLetter(ctx, letter("L0", pid, "password_reset", 1), passwordKinds, at(-100), "2026-11-29",
		func(store.LetterCounts) error { return refuse },
		store.LetterCodes{Subject: subject, Put: []store.OneTime{code("r0")}, Intake: "R1"}); !errors.Is(err, refuse) {
		t.Fatalf("refused letter = %v, want the check's error", err)
	}
	if n, err := s.IntakeBacklog(ctx); err != nil || n != 1 {
		t.Errorf("after a refused letter: backlog %d, %v; want the request kept", n, err)
	}
	if _, err := s.QueueLetter(ctx, letter("L1", pid, "password_reset", 1), passwordKinds, at(-100), "2026-11-29", allow,
		store.LetterCodes{Subject: subject, Put: []store.OneTime{code("r1")}, Intake: "R1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.IntakeBacklog(ctx); err != nil || n != 0 {
		t.Errorf("after the letter: backlog %d, %v; want the request gone", n, err)
	}
	if _, err := s.QueueLetter(ctx, letter("L2", pid, "password_reset", 2), passwordKinds, at(-100), "2026-11-29", allow,
		store.LetterCodes{Subject: subject, Void: []string{"reset"}, Put: []store.OneTime{code("r2")}, Intake: "R1"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second letter for the same request = %v, want ErrNotFound", err)
	}
	if _, err := s.LetterByID(ctx, "L2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second letter stored: %v", err)
	}
	if _, err := s.OneTimeByDigest(ctx, "reset", []byte("r2"), at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second letter's code stored: %v", err)
	}
	if _, err := s.OneTimeByDigest(ctx, "reset", []byte("r1"), at(3)); err != nil {
		t.Errorf("first letter's code voided by the refused second one: %v", err)
	}
	if l, err := s.LetterByID(ctx, "L1"); err != nil || l.Status != store.LetterQueued {
		t.Errorf("first letter = %s, %v; want queued", l.Status, err)
	}
	if c, err := s.CounterByKey(ctx, "letters:day:2026-11-29"); err != nil || c.Value != 1 {
		t.Errorf("day counter = %d, %v; want 1", c.Value, err)
	}
}
