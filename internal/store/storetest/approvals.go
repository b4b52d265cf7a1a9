package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
		if err := s.CreateApproval(ctx, a, at(-10), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateApproval(ctx, approval("A2", pid, "bank.change", 3), at(-10), nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id = %v, want ErrConflict", err)
	}
	if err := s.CreateApproval(ctx, approval("X", 4711, "bank.change", 3), at(-10), nil); !errors.Is(err, store.ErrNotFound) {
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

	answered, err := s.AnswerApproval(ctx, "A2", store.ApprovalApproved, "D1", "fpt", false, at(3))
	if err != nil {
		t.Fatal(err)
	}
	want := approval("A2", pid, "address.change", 1)
	want.Status, want.DeviceID, want.Method, want.AnsweredAt = store.ApprovalApproved, "D1", "fpt", at(3)
	if diff := cmp.Diff(want, answered); diff != "" {
		t.Errorf("AnswerApproval (-want +got):\n%s", diff)
	}
	if stored, _ := s.ApprovalByID(ctx, "A2"); !cmp.Equal(want, stored) {
		t.Errorf("stored after answer: %+v", stored)
	}
	if _, err := s.AnswerApproval(ctx, "A2", store.ApprovalDeclined, "D1", "", true, at(3)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second answer = %v, want ErrConflict", err)
	}
	if _, err := s.AnswerApproval(ctx, "A1", store.ApprovalApproved, "D1", "pin", false, at(5)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("answer at expiry = %v, want ErrConflict", err)
	}
	if _, err := s.AnswerApproval(ctx, "nope", store.ApprovalApproved, "D1", "pin", false, at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("answer of an unknown approval = %v, want ErrNotFound", err)
	}
	if _, err := s.AnswerApproval(ctx, "A3", store.ApprovalExpired, "D1", "", false, at(3)); err == nil {
		t.Error("answer with status expired accepted")
	}
	declined, err := s.AnswerApproval(ctx, "A3", store.ApprovalDeclined, "D2", "", true, at(4))
	if err != nil || declined.Status != store.ApprovalDeclined || !declined.NotMe || declined.DeviceID != "D2" {
		t.Errorf("decline = %+v, %v", declined, err)
	}

	// The sweep moves only pending requests past their expiry.
	n, err := s.ExpireApprovals(ctx, at(6))
	if err != nil || n != 2 {
		t.Errorf("ExpireApprovals = %d, %v; want 2 (A1, B1)", n, err)
	}
	for id, status := range map[string]store.ApprovalStatus{"A1": store.ApprovalExpired, "B1": store.ApprovalExpired,
		"A2": store.ApprovalApproved, "A3": store.ApprovalDeclined} {
		if a, _ := s.ApprovalByID(ctx, id); a.Status != status {
			t.Errorf("%s after the sweep: %q, want %q", id, a.Status, status)
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
		if err := s.CreateApproval(ctx, approval(id, pid, "portal.login", i), at(-10), record); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateApproval(ctx, approval("C1", pid, "address.change", 3), at(-10), record); err != nil {
		t.Fatal(err)
	}
	// Approved requests and requests before since do not count.
	if _, err := s.AnswerApproval(ctx, "L2", store.ApprovalApproved, "D", "pin", false, at(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnswerApproval(ctx, "L3", store.ApprovalDeclined, "D", "", true, at(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("L4", pid, "portal.login", 4), at(-10), record); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("L5", pid, "portal.login", 4), at(1), record); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 1, 2, 0, 2, 2}, seen); diff != "" {
		t.Errorf("counts passed to check (-want +got):\n%s", diff)
	}
	refused := errors.New("too many")
	if err := s.CreateApproval(ctx, approval("L6", pid, "portal.login", 4), at(-10), func(int) error { return refused }); !errors.Is(err, refused) {
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
			})
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
	if err := s.CreateApproval(t.Context(), approval("A", pid, "address.change", 0), at(-10), nil); err != nil {
		t.Fatal(err)
	}
	var ok, conflict atomic.Int64
	var winner atomic.Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			status := store.ApprovalApproved
			if i%2 == 1 {
				status = store.ApprovalDeclined
			}
			a, err := s.AnswerApproval(t.Context(), "A", status, store.DeviceID(fmt.Sprintf("D%d", i)), "", false, at(1))
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

func addressChange(pid store.PersonID, eventID string) store.Change {
	return store.Change{PersonID: pid,
		Address: &store.AddressChange{Street: "Lindenweg", HouseNumber: "3", PostalCode: "04109", City: "Leipzig"},
		Outbox:  store.OutboxEvent{ID: eventID, Type: "address.changed", Payload: []byte(`{"city":"Leipzig"}`)}}
}

func testExecuteApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid, other := seedPerson(t, s, 1), seedPerson(t, s, 2)
	before, _ := s.PersonByID(ctx, pid)
	a := approval("A", pid, "address.change", 0)
	if err := s.CreateApproval(ctx, a, at(-10), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ExecuteApproval(ctx, "A", a.ContentHash, at(1), addressChange(pid, "ev-A")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("execute while pending = %v, want ErrConflict", err)
	}
	if _, err := s.AnswerApproval(ctx, "A", store.ApprovalApproved, "D", "pin", false, at(1)); err != nil {
		t.Fatal(err)
	}
	changedHash := append([]byte(nil), a.ContentHash...)
	changedHash[0] ^= 1
	if err := s.ExecuteApproval(ctx, "A", changedHash, at(2), addressChange(pid, "ev-A")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("execute with another hash = %v, want ErrConflict", err)
	}
	if err := s.ExecuteApproval(ctx, "A", a.ContentHash, at(2), addressChange(other, "ev-A")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("execute for another person = %v, want ErrConflict", err)
	}
	if err := s.ExecuteApproval(ctx, "nope", a.ContentHash, at(2), addressChange(pid, "ev-A")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("execute unknown = %v, want ErrNotFound", err)
	}
	if events, _ := s.OutboxAfter(ctx, 0, 10); len(events) != 0 {
		t.Fatalf("refused executions wrote %d outbox events", len(events))
	}
	if err := s.ExecuteApproval(ctx, "A", a.ContentHash, at(3), addressChange(pid, "ev-A")); err != nil {
		t.Fatal(err)
	}
	after, _ := s.PersonByID(ctx, pid)
	wantPerson := before
	wantPerson.Street, wantPerson.HouseNumber, wantPerson.PostalCode, wantPerson.City = "Lindenweg", "3", "04109", "Leipzig"
	// A zero VerifiedAt clears the verification.
	wantPerson.AddressVerifiedAt, wantPerson.AddressVerifiedBy = time.Time{}, ""
	wantPerson.Version, wantPerson.UpdatedAt = before.Version+1, at(3)
	if diff := cmp.Diff(wantPerson, after); diff != "" {
		t.Errorf("person after execution (-want +got):\n%s", diff)
	}
	if used, _ := s.ApprovalByID(ctx, "A"); !used.UsedAt.Equal(at(3)) {
		t.Errorf("UsedAt = %v, want %v", used.UsedAt, at(3))
	}
	if err := s.ExecuteApproval(ctx, "A", a.ContentHash, at(4), addressChange(pid, "ev-A2")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second execution = %v, want ErrConflict", err)
	}

	// A bank change with an event id that exists: the change applies, the
	// event is not stored twice.
	b := approval("B", pid, "bank.change", 5)
	if err := s.CreateApproval(ctx, b, at(-10), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnswerApproval(ctx, "B", store.ApprovalApproved, "D", "face", false, at(6)); err != nil {
		t.Fatal(err)
	}
	iban := store.Sealed{KeyID: "k2", Ciphertext: []byte{7, 7, 7}}
	if err := s.ExecuteApproval(ctx, "B", b.ContentHash, at(7), store.Change{PersonID: pid, IBAN: &iban,
		Outbox: store.OutboxEvent{ID: "ev-A", Type: "bank.changed", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PersonByID(ctx, pid); !cmp.Equal(iban, p.IBAN) || p.Version != before.Version+2 || p.Street != "Lindenweg" {
		t.Errorf("after the bank change: IBAN %+v, version %d, street %q", p.IBAN, p.Version, p.Street)
	}
	// An execution without a person change or event only marks the request used.
	c := approval("C", pid, "portal.login", 8)
	if err := s.CreateApproval(ctx, c, at(-10), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnswerApproval(ctx, "C", store.ApprovalApproved, "D", "pin", false, at(8)); err != nil {
		t.Fatal(err)
	}
	if err := s.ExecuteApproval(ctx, "C", c.ContentHash, at(9), store.Change{PersonID: pid}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PersonByID(ctx, pid); p.Version != before.Version+2 {
		t.Errorf("an empty change moved the version to %d", p.Version)
	}
	events, err := s.OutboxAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := []store.OutboxEvent{{Seq: 1, ID: "ev-A", Type: "address.changed", PersonID: pid, Payload: []byte(`{"city":"Leipzig"}`), CreatedAt: at(3)}}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

func testOutboxAfter(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	for i := range 5 {
		a := approval(fmt.Sprintf("A%d", i), pid, "address.change", i)
		if err := s.CreateApproval(ctx, a, at(-10), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnswerApproval(ctx, a.ID, store.ApprovalApproved, "D", "pin", false, at(i)); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecuteApproval(ctx, a.ID, a.ContentHash, at(i), addressChange(pid, fmt.Sprintf("ev-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	var seqs []int64
	for cursor := int64(0); ; {
		page, err := s.OutboxAfter(ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			ids, seqs = append(ids, e.ID), append(seqs, e.Seq)
		}
		cursor = page[len(page)-1].Seq
	}
	if diff := cmp.Diff([]string{"ev-0", "ev-1", "ev-2", "ev-3", "ev-4"}, ids); diff != "" {
		t.Errorf("outbox read in pages of 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4, 5}, seqs); diff != "" {
		t.Errorf("sequence numbers (-want +got):\n%s", diff)
	}
}

// testExecuteApprovalExactlyOnce: 50 parallel executions of one approved request —
// exactly one applies the change, the outbox holds one event and the person's
// version goes up by one.
func testExecuteApprovalExactlyOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	before, _ := s.PersonByID(ctx, pid)
	a := approval("A", pid, "address.change", 0)
	if err := s.CreateApproval(ctx, a, at(-10), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnswerApproval(ctx, "A", store.ApprovalApproved, "D", "pin", false, at(1)); err != nil {
		t.Fatal(err)
	}
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			err := s.ExecuteApproval(t.Context(), "A", a.ContentHash, at(2), addressChange(pid, fmt.Sprintf("ev-%d", i)))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflict.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	events, err := s.OutboxAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.PersonByID(ctx, pid)
	if ok.Load() != 1 || conflict.Load() != 49 || len(events) != 1 || after.Version != before.Version+1 {
		t.Errorf("50 parallel executions: %d applied, %d conflicted, %d outbox events, version %d → %d",
			ok.Load(), conflict.Load(), len(events), before.Version, after.Version)
	}
}
