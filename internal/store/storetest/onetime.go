package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func oneTime(digest string) store.OneTime {
	return store.OneTime{
		Kind:      "activation",
		Digest:    []byte(digest),
		Subject:   "person:1",
		Data:      []byte(`{"letter":7}`),
		CreatedAt: at(0),
		ExpiresAt: at(30),
	}
}

func testOneTimeLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	v := oneTime("d1")
	if err := s.PutOneTime(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOneTime(ctx, v); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second PutOneTime = %v, want ErrConflict", err)
	}
	other := v
	other.Kind = "reset" // the same digest in another kind is another value
	if err := s.PutOneTime(ctx, other); err != nil {
		t.Errorf("PutOneTime in another kind: %v", err)
	}
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("unknown"), at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consume unknown = %v, want ErrNotFound", err)
	}
	peek, err := s.OneTimeByDigest(ctx, "activation", []byte("d1"), at(1))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, peek); diff != "" {
		t.Errorf("OneTimeByDigest (-want +got):\n%s", diff)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("d1"), at(30)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("peek after expiry = %v, want ErrNotFound", err)
	}
	got, err := s.ConsumeOneTime(ctx, "activation", []byte("d1"), at(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("d1"), at(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("peek after consumption = %v, want ErrNotFound", err)
	}
	want := v
	want.ConsumedAt = at(1)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("consumed (-want +got):\n%s", diff)
	}
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("d1"), at(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second consume = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeOneTime(ctx, "reset", []byte("d1"), at(2)); err != nil {
		t.Errorf("consume in the other kind: %v", err)
	}
}

func testOneTimeExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.PutOneTime(ctx, oneTime("d1")); err != nil {
		t.Fatal(err)
	}
	// ExpiresAt is exclusive: at that instant the value is gone.
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("d1"), at(30)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consume at expiry = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("d1"), at(29)); err != nil {
		t.Errorf("consume before expiry after a refused late attempt: %v", err)
	}
}

func testOneTimeExactlyOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.PutOneTime(ctx, oneTime("race")); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var (
		wg        sync.WaitGroup
		won, lost atomic.Int64
		start     = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			_, err := s.ConsumeOneTime(ctx, "activation", []byte("race"), at(1))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, store.ErrNotFound):
				lost.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won.Load() != 1 || lost.Load() != n-1 {
		t.Errorf("%d parallel consumers: %d won, %d lost; want 1 and %d", n, won.Load(), lost.Load(), n-1)
	}
}

func testOneTimeVoidAndDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, d := range []string{"a", "b"} {
		if err := s.PutOneTime(ctx, oneTime(d)); err != nil {
			t.Fatal(err)
		}
	}
	foreign := oneTime("c")
	foreign.Subject = "person:2"
	if err := s.PutOneTime(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("a"), at(1)); err != nil {
		t.Fatal(err)
	}
	n, err := s.VoidOneTimes(ctx, "activation", "person:1", at(2))
	if err != nil || n != 1 {
		t.Errorf("VoidOneTimes = %d, %v; want 1 (only the unused one)", n, err)
	}
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("b"), at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consume voided = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeOneTime(ctx, "activation", []byte("c"), at(3)); err != nil {
		t.Errorf("another subject's value was voided: %v", err)
	}
	if err := s.PutOneTime(ctx, func() store.OneTime { v := oneTime("late"); v.ExpiresAt = at(600); return v }()); err != nil {
		t.Fatal(err)
	}
	n, err = s.DeleteOneTimesBefore(ctx, at(31))
	if err != nil || n != 3 {
		t.Errorf("DeleteOneTimesBefore = %d, %v; want 3", n, err)
	}
	if err := s.PutOneTime(ctx, oneTime("a")); err != nil {
		t.Errorf("re-put after delete: %v", err)
	}
}
