package approval_test

import (
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// next waits for the next delivery of ch.
func next(t *testing.T, ch <-chan store.Approval) store.Approval {
	t.Helper()
	select {
	case a, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("nothing delivered within 10 s")
	}
	return store.Approval{}
}

// TestWatch: a request created by this node arrives through the broadcaster,
// one created and answered by another node (another Service on the same
// database) through the poll.
func TestWatch(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		phone := f.bind(t)
		early := f.createAddressChange(t)
		// A long interval: after the first poll only the broadcaster delivers.
		slow := f.svc.Watch(t.Context(), f.person.ID, time.Hour)
		if a := next(t, slow); a.ID != early.ID || a.Status != store.ApprovalPending {
			t.Errorf("first delivery %s %s, want the request pending before Watch", a.ID, a.Status)
		}
		// Another action: a second address change would withdraw the first.
		local, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionBankChange, "Neue Bankverbindung: DE89 …",
			[]byte(`{"iban":"DE89370400440532013000"}`), "", "", session.LevelSubstantial)
		if err != nil {
			t.Fatal(err)
		}
		if a := next(t, slow); a.ID != local.ID {
			t.Errorf("broadcast delivered %s, want %s", a.ID, local.ID)
		}

		fast := f.svc.Watch(t.Context(), f.person.ID, 20*time.Millisecond)
		seen := map[string]bool{next(t, fast).ID: true, next(t, fast).ID: true}
		if !seen[early.ID] || !seen[local.ID] {
			t.Errorf("a new watch delivered %v, want both pending requests", seen)
		}
		node2 := f.otherNode()
		remote, err := node2.Create(t.Context(), f.person.ID, approval.ActionApplicationSubmit, "Neue Bankverbindung: DE02 …", []byte(`{"iban":"DE02120300000000202051"}`), "", "", session.LevelSubstantial)
		if err != nil {
			t.Fatal(err)
		}
		if a := next(t, fast); a.ID != remote.ID || a.Status != store.ApprovalPending {
			t.Errorf("poll delivered %s %s, want %s pending", a.ID, a.Status, remote.ID)
		}
		if _, err := node2.Approve(t.Context(), remote.ID, store.DeviceID(phone.ID),
			f.approveProof(t, phone, remote.ID, remote.Action, remote.Text, remote.Data, pin), "pin", 0, ""); err != nil {
			t.Fatal(err)
		}
		if a := next(t, fast); a.ID != remote.ID || a.Status != store.ApprovalApproved {
			t.Errorf("poll delivered %s %s, want %s approved", a.ID, a.Status, remote.ID)
		}
	})
}

// TestAwait: the portal's waiting page learns the answer, from this node at once
// and from another node by polling.
func TestAwait(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		phone := f.bind(t)
		for _, answerer := range []*approval.Service{f.svc, f.otherNode()} {
			a := f.createAddressChange(t)
			done := make(chan store.Approval, 1)
			go func() {
				got, err := f.svc.Await(t.Context(), a.ID, f.person.ID, 20*time.Millisecond)
				if err != nil {
					t.Error(err)
				}
				done <- got
			}()
			if _, err := answerer.Decline(t.Context(), a.ID, store.DeviceID(phone.ID), f.declineProof(t, phone, a), false, ""); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-done:
				if got.ID != a.ID || got.Status != store.ApprovalDeclined {
					t.Errorf("Await = %s %s", got.ID, got.Status)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Await did not return")
			}
		}
		// An expired request ends the wait too.
		a := f.createAddressChange(t)
		f.clk.advance(5 * time.Minute)
		if got, err := f.svc.Await(t.Context(), a.ID, f.person.ID, 20*time.Millisecond); err != nil || got.Status != store.ApprovalExpired {
			t.Errorf("Await of an expired request = %s, %v", got.Status, err)
		}
	})
}
