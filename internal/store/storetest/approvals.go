package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// approval returns a pending request of pid created at minute created, expiring 5
// minutes later.
func approval(id string, pid store.PersonID, action string, created int) store.Approval {
	return store.Approval{ID: id, PersonID: pid, Action: action, Text: "Neue Anschrift: Lindenweg 3, 04109 Leipzig",
		Data: []byte(`{"street":"Lindenweg","house_number":"3"}`), ContentHash: []byte("0123456789abcdef0123456789abcdef"),
		Level: "substantial", Status: store.ApprovalPending, Client: "session:abc", CreatedAt: at(created), ExpiresAt: at(created + 5)}
}

func approvalIDs(list []store.Approval) []string {
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return ids
}

func testApprovals(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid, other := seedPerson(t, s, 1), seedPerson(t, s, 2)
	login := approval("A1", pid, "portal.login", 0)
	login.Number, login.Choices = 47, []int{83, 47, 12}
	for _, a := range []store.Approval{login, approval("A2", pid, "address.change", 1), approval("A3", pid, "bank.change", 2),
		approval("B1", other, "address.change", 1)} {
		if err := s.CreateApproval(ctx, a, at(-10), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateApproval(ctx, approval("A2", pid, "bank.change", 3), at(-10), nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id = %v, want ErrConflict", err)
	}
	if err := s.CreateApproval(ctx, approval("X", 4711, "bank.change", 3), at(-10), nil, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown person = %v, want ErrNotFound", err)
	}
	got, err := s.ApprovalByID(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(login, got); diff != "" {
		t.Errorf("ApprovalByID (-want +got):\n%s", diff)
	}
	if _, err := s.ApprovalByID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown approval = %v, want ErrNotFound", err)
	}
	pending, err := s.PendingApprovals(ctx, pid, at(5))
	if err != nil {
		t.Fatal(err)
	}
	// A1 expires at minute 5 (exclusive): gone at 5.
	if diff := cmp.Diff([]string{"A2", "A3"}, approvalIDs(pending)); diff != "" {
		t.Errorf("PendingApprovals (-want +got):\n%s", diff)
	}

	answered, err := s.ApproveApproval(ctx, "A2", approval("A2", pid, "", 0).ContentHash, "D1", "fpt", at(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := approval("A2", pid, "address.change", 1)
	want.Status, want.DeviceID, want.Method, want.AnsweredAt = store.ApprovalApproved, "D1", "fpt", at(3)
	if diff := cmp.Diff(want, answered); diff != "" {
		t.Errorf("ApproveApproval (-want +got):\n%s", diff)
	}
	if stored, err := s.ApprovalByID(ctx, "A2"); err != nil || !cmp.Equal(want, stored) {
		t.Errorf("stored after answer: %+v, %v", stored, err)
	}
	if _, err := s.AnswerApproval(ctx, "A2", "D1", store.DeclineNotMe, at(3)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second answer = %v, want ErrConflict", err)
	}
	if _, err := s.ApproveApproval(ctx, "A1", login.ContentHash, "D1", "pin", at(5), nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("answer at expiry = %v, want ErrConflict", err)
	}
	if _, err := s.ApproveApproval(ctx, "nope", login.ContentHash, "D1", "pin", at(3), nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("answer of an unknown approval = %v, want ErrNotFound", err)
	}
	if _, err := s.AnswerApproval(ctx, "nope", "D1", store.DeclineDeclined, at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("decline of an unknown approval = %v, want ErrNotFound", err)
	}
	if _, err := s.ApproveApproval(ctx, "A3", []byte("another content hash, 32 bytes!"), "D1", "pin", at(3), nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("approval over another content hash = %v, want ErrConflict", err)
	}
	declined, err := s.AnswerApproval(ctx, "A3", "D2", store.DeclineNotMe, at(4))
	if err != nil || declined.Status != store.ApprovalDeclined || !declined.NotMe || declined.DeviceID != "D2" ||
		declined.DeclineReason != store.DeclineNotMe {
		t.Errorf("decline = %+v, %v", declined, err)
	}
	if stored, err := s.ApprovalByID(ctx, "A3"); err != nil || stored.DeclineReason != store.DeclineNotMe || !stored.NotMe {
		t.Errorf("stored decline = %+v, %v", stored, err)
	}

	// The sweep moves only pending requests past their expiry.
	n, err := s.ExpireApprovals(ctx, at(6))
	if err != nil || n != 2 {
		t.Errorf("ExpireApprovals = %d, %v; want 2 (A1, B1)", n, err)
	}
	for id, status := range map[string]store.ApprovalStatus{"A1": store.ApprovalExpired, "B1": store.ApprovalExpired,
		"A2": store.ApprovalApproved, "A3": store.ApprovalDeclined} {
		if a, err := s.ApprovalByID(ctx, id); err != nil || a.Status != status {
			t.Errorf("%s after the sweep: %q (%v), want %q", id, a.Status, err, status)
		}
	}
	if n, err := s.ExpireApprovals(ctx, at(7)); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v", n, err)
	}
}

func testApprovalCreateCheck(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	var seen []int
	record := func(n int) error { seen = append(seen, n); return nil }
	for i, id := range []string{"L1", "L2", "L3"} {
		if err := s.CreateApproval(ctx, approval(id, pid, "portal.login", i), at(-10), record, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateApproval(ctx, approval("C1", pid, "address.change", 3), at(-10), record, nil); err != nil {
		t.Fatal(err)
	}
	// Approved requests and requests before since do not count.
	if _, err := s.ApproveApproval(ctx, "L2", approval("L2", pid, "", 0).ContentHash, "D", "pin", at(3), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnswerApproval(ctx, "L3", "D", store.DeclineNotMe, at(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("L4", pid, "portal.login", 4), at(-10), record, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("L5", pid, "portal.login", 4), at(1), record, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 1, 2, 0, 2, 2}, seen); diff != "" {
		t.Errorf("counts passed to check (-want +got):\n%s", diff)
	}
	refused := errors.New("too many")
	if err := s.CreateApproval(ctx, approval("L6", pid, "portal.login", 4), at(-10), func(int) error { return refused }, nil); !errors.Is(err, refused) {
		t.Errorf("refusing check = %v", err)
	}
	if _, err := s.ApprovalByID(ctx, "L6"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused request was stored: %v", err)
	}
}

// testApprovalCreateParallelCheck: 30 parallel requests against a limit of 3 —
// exactly 3 are stored.
func testApprovalCreateParallelCheck(t *testing.T, s store.Store) {
	pid := seedPerson(t, s, 1)
	limit := errors.New("limit")
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 30 {
		wg.Go(func() {
			<-start
			err := s.CreateApproval(t.Context(), approval(fmt.Sprintf("L%d", i), pid, "portal.login", 0), at(-10), func(n int) error {
				if n >= 3 {
					return limit
				}
				return nil
			}, nil)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, limit):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	pending, err := s.PendingApprovals(t.Context(), pid, at(1))
	if err != nil {
		t.Fatal(err)
	}
	if ok.Load() != 3 || refused.Load() != 27 || len(pending) != 3 {
		t.Errorf("30 parallel requests, limit 3: %d stored, %d refused, %d pending", ok.Load(), refused.Load(), len(pending))
	}
}

// testApprovalAnsweredExactlyOnce: 50 parallel answers, half approving, half
// declining — exactly one transition happens.
func testApprovalAnsweredExactlyOnce(t *testing.T, s store.Store) {
	pid := seedPerson(t, s, 1)
	if err := s.CreateApproval(t.Context(), approval("A", pid, "address.change", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	var ok, conflict atomic.Int64
	var winner atomic.Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			dev := store.DeviceID(fmt.Sprintf("D%d", i))
			var (
				a   store.Approval
				err error
			)
			if i%2 == 1 {
				a, err = s.AnswerApproval(t.Context(), "A", dev, store.DeclineDeclined, at(1))
			} else {
				a, err = s.ApproveApproval(t.Context(), "A", approval("A", pid, "", 0).ContentHash, dev, "pin", at(1), nil)
			}
			switch {
			case err == nil:
				ok.Add(1)
				winner.Store(a)
			case errors.Is(err, store.ErrConflict):
				conflict.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 49 {
		t.Fatalf("50 parallel answers: %d succeeded, %d conflicted", ok.Load(), conflict.Load())
	}
	stored, err := s.ApprovalByID(t.Context(), "A")
	if err != nil {
		t.Fatal(err)
	}
	if w := winner.Load().(store.Approval); w.Status != stored.Status || w.DeviceID != stored.DeviceID {
		t.Errorf("stored %s by %s, the winner saw %s by %s", stored.Status, stored.DeviceID, w.Status, w.DeviceID)
	}
}
