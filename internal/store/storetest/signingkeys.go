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

// signingKey returns a test key that signs from minute from for 60 minutes and
// is deleted 30 minutes after that.
func signingKey(id string, from int) store.SigningKey {
	return store.SigningKey{
		ID:          id,
		Algorithm:   "ES256",
		Private:     store.Sealed{KeyID: "k1", Ciphertext: []byte("sealed " + id)},
		Public:      []byte("public " + id),
		CreatedAt:   at(from - 10),
		ActivateAt:  at(from),
		RetireAt:    at(from + 60),
		DeleteAfter: at(from + 90),
	}
}

func signingKeyIDs(ks []store.SigningKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.SigningKeys(ctx); err != nil || len(got) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v, %v", signingKeyIDs(got), err)
	}
	// Added out of order; listed by ActivateAt.
	want := []store.SigningKey{signingKey("a", 0), signingKey("b", 60), signingKey("c", 120)}
	for _, i := range []int{1, 2, 0} {
		if err := s.AddSigningKey(ctx, want[i]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SigningKeys (-want +got):\n%s", diff)
	}
	dup := signingKey("b", 500)
	if err := s.AddSigningKey(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddSigningKey with an existing id = %v, want ErrConflict", err)
	}
	// a is deleted after minute 90, b after 150: at 150 only a goes (b's
	// DeleteAfter is not before 150).
	n, err := s.DeleteSigningKeysBefore(ctx, at(150))
	if err != nil || n != 1 {
		t.Errorf("DeleteSigningKeysBefore(150) = %d, %v; want 1", n, err)
	}
	got, _ = s.SigningKeys(ctx)
	if diff := cmp.Diff([]string{"b", "c"}, signingKeyIDs(got)); diff != "" {
		t.Errorf("after deleting (-want +got):\n%s", diff)
	}
	if n, err := s.DeleteSigningKeysBefore(ctx, at(150)); err != nil || n != 0 {
		t.Errorf("second DeleteSigningKeysBefore(150) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteSigningKeysBefore(ctx, at(1000)); err != nil || n != 2 {
		t.Errorf("DeleteSigningKeysBefore(1000) = %d, %v; want 2", n, err)
	}
}

func testRotateSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, k := range []store.SigningKey{signingKey("old", 0), signingKey("cur", 60)} {
		if err := s.AddSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	// fn sees the keys not past DeleteAfter at now: at minute 91 "old" (deleted
	// after minute 90) is gone, at 90 it is still there.
	for _, tt := range []struct {
		now  int
		want []string
	}{
		{90, []string{"old", "cur"}},
		{91, []string{"cur"}},
	} {
		var seen []string
		err := s.RotateSigningKeys(ctx, at(tt.now), func(cur []store.SigningKey) (*store.SigningKey, error) {
			seen = signingKeyIDs(cur)
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, seen); diff != "" {
			t.Errorf("RotateSigningKeys at minute %d: fn saw (-want +got):\n%s", tt.now, diff)
		}
	}
	// Returning nil wrote nothing.
	if got, _ := s.SigningKeys(ctx); len(got) != 2 {
		t.Errorf("a rotation adding nothing left %v", signingKeyIDs(got))
	}

	// A failing fn writes nothing and its error comes back.
	boom := errors.New("boom")
	err := s.RotateSigningKeys(ctx, at(100), func([]store.SigningKey) (*store.SigningKey, error) {
		k := signingKey("never", 120)
		return &k, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("failing fn: RotateSigningKeys = %v, want boom", err)
	}
	// A key with an existing id is a conflict.
	err = s.RotateSigningKeys(ctx, at(100), func([]store.SigningKey) (*store.SigningKey, error) {
		k := signingKey("cur", 120)
		return &k, nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("adding an existing id: RotateSigningKeys = %v, want ErrConflict", err)
	}
	if got, _ := s.SigningKeys(ctx); len(got) != 2 {
		t.Errorf("refused rotations left %v, want old and cur", signingKeyIDs(got))
	}

	// The key fn returns is stored as given.
	next := signingKey("next", 120)
	err = s.RotateSigningKeys(ctx, at(100), func([]store.SigningKey) (*store.SigningKey, error) { return &next, nil })
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.SigningKey{signingKey("old", 0), signingKey("cur", 60), next}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the rotation (-want +got):\n%s", diff)
	}
}

func testRotateSigningKeysParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 10
	now := at(0)
	var (
		wg    sync.WaitGroup
		calls atomic.Int64
		start = make(chan struct{})
		// Each fn waits briefly for all the others to be inside fn too, which
		// happens only when the lock is missing: it widens the race window
		// so that a missing lock shows as extra keys, not as luck.
		allIn     = make(chan struct{})
		closeOnce sync.Once
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := s.RotateSigningKeys(ctx, now, func(cur []store.SigningKey) (*store.SigningKey, error) {
				if calls.Add(1) == n {
					closeOnce.Do(func() { close(allIn) })
				}
				select {
				case <-allIn:
				case <-time.After(20 * time.Millisecond):
				}
				for _, k := range cur {
					if !k.ActivateAt.After(now) && now.Before(k.RetireAt) {
						return nil, nil // one is active: nothing to do
					}
				}
				k := signingKey(fmt.Sprintf("node-%d", i), 0)
				return &k, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	got, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("%d parallel rotations added %v, want exactly one key", n, signingKeyIDs(got))
	}
	if calls.Load() < n {
		t.Errorf("fn ran %d times for %d rotations", calls.Load(), n)
	}
}
