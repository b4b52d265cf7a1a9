package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func testUpgradeMarks(t *testing.T, s store.Store) {
	ctx := t.Context()
	if done, err := s.UpgradeDone(ctx, "u1"); err != nil || done {
		t.Fatalf("UpgradeDone before marking = %v, %v", done, err)
	}
	for range 2 { // marking twice is no error
		if err := s.MarkUpgradeDone(ctx, "u1", at(0)); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := s.UpgradeDone(ctx, "u1"); err != nil || !done {
		t.Errorf("UpgradeDone after marking = %v, %v", done, err)
	}
	if done, err := s.UpgradeDone(ctx, "u2"); err != nil || done {
		t.Errorf("another upgrade done = %v, %v", done, err)
	}
}

// testRewriteIBANs: pages through persons with an IBAN, writes only what fn
// changes, touches nothing else of the person and writes nothing of a batch
// whose fn fails.
func testRewriteIBANs(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ids []store.PersonID
	for i := 1; i <= 5; i++ {
		p := person(i)
		if i == 3 {
			p.IBAN = store.Sealed{} // no IBAN: not passed to fn
		}
		if _, err := s.UpsertPersons(ctx, []store.Person{p}); err != nil {
			t.Fatal(err)
		}
		got, err := s.PersonByKVNR(ctx, p.KVNR)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	before := map[store.PersonID]store.Person{}
	for _, id := range ids {
		before[id], _ = s.PersonByID(ctx, id)
	}

	boom := errors.New("boom")
	if _, _, err := s.RewriteIBANs(ctx, 0, 10, func(store.PersonID, string, store.Sealed) (store.Sealed, bool, error) {
		return store.Sealed{KeyID: "k2", Ciphertext: []byte("x")}, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	// Undo through a failing batch: nothing of it may be written.
	calls := 0
	if _, _, err := s.RewriteIBANs(ctx, 0, 10, func(store.PersonID, string, store.Sealed) (store.Sealed, bool, error) {
		calls++
		if calls == 2 {
			return store.Sealed{}, false, boom
		}
		return store.Sealed{KeyID: "k3", Ciphertext: []byte("y")}, true, nil
	}); !errors.Is(err, boom) {
		t.Fatalf("failing fn: err = %v, want boom", err)
	}
	for _, id := range ids {
		p, _ := s.PersonByID(ctx, id)
		want := before[id]
		if !want.IBAN.IsZero() {
			want.IBAN = store.Sealed{KeyID: "k2", Ciphertext: []byte("x")}
		}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("person %d after rewrite (-want +got):\n%s", id, diff)
		}
	}

	// Paging: limit 2, only every other one changed.
	var (
		seen      []string
		after     store.PersonID
		rewritten int
	)
	for {
		last, n, err := s.RewriteIBANs(ctx, after, 2, func(id store.PersonID, kvnr string, iban store.Sealed) (store.Sealed, bool, error) {
			seen = append(seen, kvnr)
			if !bytes.Equal(iban.Ciphertext, []byte("x")) {
				return store.Sealed{}, false, fmt.Errorf("person %d: got %v", id, iban)
			}
			if len(seen)%2 == 0 {
				return iban, false, nil
			}
			return store.Sealed{KeyID: "k4", Ciphertext: []byte(kvnr)}, true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rewritten += n
		if last == after {
			break
		}
		after = last
	}
	if diff := cmp.Diff([]string{person(1).KVNR, person(2).KVNR, person(4).KVNR, person(5).KVNR}, seen); diff != "" {
		t.Errorf("persons passed to fn (-want +got):\n%s", diff)
	}
	if rewritten != 2 {
		t.Errorf("rewritten %d, want 2", rewritten)
	}
	if p, _ := s.PersonByID(ctx, ids[4]); p.IBAN.KeyID != "k2" || p.Version != before[ids[4]].Version {
		t.Errorf("unchanged person 5: IBAN %v version %d", p.IBAN, p.Version)
	}
	if p, _ := s.PersonByID(ctx, ids[3]); p.IBAN.KeyID != "k4" || string(p.IBAN.Ciphertext) != person(4).KVNR ||
		p.Version != before[ids[3]].Version || !p.UpdatedAt.Equal(before[ids[3]].UpdatedAt) {
		t.Errorf("rewritten person 4: IBAN %v version %d updated %v", p.IBAN, p.Version, p.UpdatedAt)
	}
}

func testRewriteOutboxPayloads(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	for i := range 3 {
		a := approval(fmt.Sprintf("A%d", i), pid, "address.change", i)
		if err := s.CreateApproval(ctx, a, at(-10), nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveApproval(ctx, a.ID, a.ContentHash, "D", "pin", at(i), moveTo(fmt.Sprintf("ev-%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	if _, _, err := s.RewriteOutboxPayloads(ctx, 0, 10, func(e store.OutboxEvent) ([]byte, bool, error) {
		if e.ID == "ev-2" {
			return nil, false, boom
		}
		return []byte("lost"), true, nil
	}); !errors.Is(err, boom) {
		t.Fatalf("failing fn: err = %v, want boom", err)
	}
	var after int64
	total := 0
	for {
		last, n, err := s.RewriteOutboxPayloads(ctx, after, 2, func(e store.OutboxEvent) ([]byte, bool, error) {
			if string(e.Payload) != `{"city":"Leipzig"}` {
				return nil, false, fmt.Errorf("event %s payload %q", e.ID, e.Payload)
			}
			if e.ID == "ev-1" {
				return e.Payload, false, nil
			}
			return []byte("new:" + e.ID), true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if last == after {
			break
		}
		after = last
	}
	if total != 2 {
		t.Errorf("rewritten %d, want 2", total)
	}
	events, err := s.OutboxAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.ID+"="+string(e.Payload))
	}
	want := []string{"ev-0=new:ev-0", `ev-1={"city":"Leipzig"}`, "ev-2=new:ev-2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox after rewrite (-want +got):\n%s", diff)
	}
}
