package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

var contentHash = approval("", 0, "", 0).ContentHash

// moveTo is an executor that moves the person to Leipzig, appends eventID to
// the outbox and queues a notice to the old address; old receives the street
// the person had in the transaction.
func moveTo(eventID string, old *string) func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
	return func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
		if _, err := tx.UpdatePerson(ctx, a.PersonID, func(p *store.Person) error {
			if old != nil {
				*old = p.Street
			}
			p.Street, p.HouseNumber, p.PostalCode, p.City = "Lindenweg", "3", "04109", "Leipzig"
			p.UpdatedAt = a.AnsweredAt
			return nil
		}); err != nil {
			return err
		}
		if err := tx.AppendOutbox(ctx, store.OutboxEvent{ID: eventID, Type: "address.changed", Payload: []byte(`{"city":"Leipzig"}`)}); err != nil {
			return err
		}
		return tx.QueueNotice(ctx, notice("N-"+eventID, a.PersonID, "address_changed", "merge-"+eventID, a.AnsweredAt.Minute()))
	}
}

func notice(id string, pid store.PersonID, kind, merge string, minute int) store.Notice {
	return store.Notice{ID: id, PersonID: pid, Kind: kind, MergeKey: merge,
		Details: store.Sealed{KeyID: "k1", Ciphertext: []byte("sealed " + id)}, CreatedAt: at(minute)}
}

// testApproveExecutes: the executor's writes commit with the transition, and
// an executor error leaves everything as it was.
func testApproveExecutes(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	before, err := s.PersonByID(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("A", pid, "address.change", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	failing := errors.New("executor failed")
	_, err = s.ApproveApproval(ctx, "A", contentHash, "D", "pin", at(1), func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
		if err := moveTo("ev-A", nil)(ctx, tx, a); err != nil {
			return err
		}
		return failing
	})
	if !errors.Is(err, failing) {
		t.Fatalf("ApproveApproval with a failing executor = %v, want its error", err)
	}
	if a, err := s.ApprovalByID(ctx, "A"); err != nil || a.Status != store.ApprovalPending || !a.UsedAt.IsZero() {
		t.Errorf("after a failed executor: %s used %v (%v), want pending, unused", a.Status, a.UsedAt, err)
	}
	if p, err := s.PersonByID(ctx, pid); err != nil || p.Street != before.Street || p.Version != before.Version {
		t.Errorf("after a failed executor the person is %q v%d (%v), want %q v%d", p.Street, p.Version, err, before.Street, before.Version)
	}
	if events, err := s.OutboxAfter(ctx, 0, 10); err != nil || len(events) != 0 {
		t.Errorf("after a failed executor the outbox holds %d events (%v)", len(events), err)
	}
	if _, err := s.NoticeByID(ctx, "N-ev-A"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a failed executor the notice = %v, want ErrNotFound", err)
	}

	var old string
	got, err := s.ApproveApproval(ctx, "A", contentHash, "D", "pin", at(2), moveTo("ev-A", &old))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.ApprovalApproved || !got.UsedAt.Equal(at(2)) || !got.AnsweredAt.Equal(at(2)) {
		t.Errorf("approved: %s answered %v used %v, want approved, both at minute 2", got.Status, got.AnsweredAt, got.UsedAt)
	}
	if old != before.Street {
		t.Errorf("the executor saw street %q, want %q", old, before.Street)
	}
	p, err := s.PersonByID(ctx, pid)
	if err != nil || p.City != "Leipzig" || p.Version != before.Version+1 {
		t.Errorf("person after approval: %q v%d (%v), want Leipzig v%d", p.City, p.Version, err, before.Version+1)
	}
	events, err := s.OutboxAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.OutboxEvent{{Seq: 1, ID: "ev-A", Type: "address.changed", PersonID: pid, Payload: []byte(`{"city":"Leipzig"}`), CreatedAt: at(2)}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	if n, err := s.NoticeByID(ctx, "N-ev-A"); err != nil || n.Status != store.NoticeQueued || n.PersonID != pid {
		t.Errorf("notice: %+v, %v", n, err)
	}
	if _, err := s.ApproveApproval(ctx, "A", contentHash, "D", "pin", at(3), moveTo("ev-A2", nil)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second approval = %v, want ErrConflict", err)
	}
}

// testApproveNeverAfterExpiry: an executor never runs at or after the expiry.
func testApproveNeverAfterExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	if err := s.CreateApproval(ctx, approval("A", pid, "address.change", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	ran := false
	_, err := s.ApproveApproval(ctx, "A", contentHash, "D", "pin", at(5), func(context.Context, store.ApprovalTx, store.Approval) error {
		ran = true
		return nil
	})
	if !errors.Is(err, store.ErrConflict) || ran {
		t.Errorf("approval at expiry = %v, executor ran %v; want ErrConflict, not run", err, ran)
	}
}

// testApproveExecutesExactlyOnce: 50 parallel approvals of one request carry it
// out once: one outbox event, the person's version up by one.
func testApproveExecutesExactlyOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	before, err := s.PersonByID(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("A", pid, "address.change", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			_, err := s.ApproveApproval(t.Context(), "A", contentHash, store.DeviceID(fmt.Sprintf("D%d", i)), "pin", at(1),
				moveTo(fmt.Sprintf("ev-%d", i), nil))
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
	after, err := s.PersonByID(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	notices, err := s.PersonNotices(ctx, pid, 100)
	if err != nil {
		t.Fatal(err)
	}
	if ok.Load() != 1 || conflict.Load() != 49 || len(events) != 1 || len(notices) != 1 || after.Version != before.Version+1 {
		t.Errorf("50 parallel approvals: %d carried out, %d conflicted, %d outbox events, %d notices, version %d → %d",
			ok.Load(), conflict.Load(), len(events), len(notices), before.Version, after.Version)
	}
}

// testApprovalWithdraw: a new request withdraws the pending ones its withdraw
// function picks, and a withdrawn request can no longer be answered.
func testApprovalWithdraw(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid, other := seedPerson(t, s, 1), seedPerson(t, s, 2)
	all := func(store.Approval) bool { return true }
	for _, a := range []store.Approval{approval("A1", pid, "address.change", 0), approval("B1", pid, "bank.change", 0),
		approval("O1", other, "address.change", 0)} {
		if err := s.CreateApproval(ctx, a, at(-10), nil, all); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateApproval(ctx, approval("A2", pid, "address.change", 1), at(-10), nil, all); err != nil {
		t.Fatal(err)
	}
	keep := approval("A3", pid, "address.change", 1)
	if err := s.CreateApproval(ctx, keep, at(-10), nil, func(old store.Approval) bool { return old.ID != "A2" }); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingApprovals(ctx, pid, at(2))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"B1", "A2", "A3"}, approvalIDs(pending)); diff != "" {
		t.Errorf("pending after withdrawals (-want +got):\n%s", diff)
	}
	for id, want := range map[string]store.ApprovalStatus{"A1": store.ApprovalWithdrawn, "O1": store.ApprovalPending} {
		if a, err := s.ApprovalByID(ctx, id); err != nil || a.Status != want {
			t.Errorf("%s: %s (%v), want %s", id, a.Status, err, want)
		}
	}
	if _, err := s.ApproveApproval(ctx, "A1", contentHash, "D", "pin", at(2), nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("approving a withdrawn request = %v, want ErrConflict", err)
	}
	if _, err := s.AnswerApproval(ctx, "A1", "D", store.DeclineDeclined, at(2)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("declining a withdrawn request = %v, want ErrConflict", err)
	}
	// A withdrawn request counts as unapproved.
	var counted int
	if err := s.CreateApproval(ctx, approval("A4", pid, "address.change", 2), at(-10), func(n int) error { counted = n; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if counted != 3 {
		t.Errorf("unapproved address changes counted %d, want 3 (A1 withdrawn, A2, A3 pending)", counted)
	}
}

// testRedeemApproval: an approved request is redeemed once, by its person.
func testRedeemApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid, other := seedPerson(t, s, 1), seedPerson(t, s, 2)
	if err := s.CreateApproval(ctx, approval("L", pid, "portal.login", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RedeemApproval(ctx, "L", pid, at(1)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("redeeming a pending request = %v, want ErrConflict", err)
	}
	if _, err := s.ApproveApproval(ctx, "L", contentHash, "D", "pin", at(1), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RedeemApproval(ctx, "L", other, at(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("redeeming another person's request = %v, want ErrNotFound", err)
	}
	if err := s.RedeemApproval(ctx, "nope", pid, at(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("redeeming an unknown request = %v, want ErrNotFound", err)
	}
	if err := s.RedeemApproval(ctx, "L", pid, at(2)); err != nil {
		t.Fatal(err)
	}
	if a, err := s.ApprovalByID(ctx, "L"); err != nil || !a.UsedAt.Equal(at(2)) {
		t.Errorf("redeemed: used %v (%v), want minute 2", a.UsedAt, err)
	}
	if err := s.RedeemApproval(ctx, "L", pid, at(3)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second redemption = %v, want ErrConflict", err)
	}
}

func testOutboxAfter(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	for i := range 5 {
		a := approval(fmt.Sprintf("A%d", i), pid, "address.change", i)
		if err := s.CreateApproval(ctx, a, at(-10), nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveApproval(ctx, a.ID, a.ContentHash, "D", "pin", at(i), moveTo(fmt.Sprintf("ev-%d", i), nil)); err != nil {
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

// testApproveTxReadsDevice: an executor reads a binding through the approving
// transaction.
func testApproveTxReadsDevice(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	if err := s.AddDevice(ctx, device("D1", pid, 0), func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("A", pid, "address.change", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	var got store.Device
	if _, err := s.ApproveApproval(ctx, "A", contentHash, "D1", "pin", at(1), func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
		var err error
		got, err = tx.DeviceByID(ctx, a.DeviceID)
		if err != nil {
			return err
		}
		_, err = tx.DeviceByID(ctx, "nope")
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("unknown device in the transaction = %v, want ErrNotFound", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(device("D1", pid, 0), got); diff != "" {
		t.Errorf("device read in the transaction (-want +got):\n%s", diff)
	}
}
