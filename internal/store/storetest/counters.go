package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func testCounterCreateAndUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CounterByKey(ctx, "test:a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CounterByKey(missing) = %v, want ErrNotFound", err)
	}
	boom := errors.New("boom")
	_, err := s.UpdateCounter(ctx, "test:a", func(c *store.Counter) error {
		c.Value = 99
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdateCounter with failing fn = %v, want boom", err)
	}
	if _, err := s.CounterByKey(ctx, "test:a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed first update created the counter: %v", err)
	}
	got, err := s.UpdateCounter(ctx, "test:a", func(c *store.Counter) error {
		if c.Key != "test:a" || c.Value != 0 || !c.WindowStart.IsZero() {
			t.Errorf("new counter passed to fn: %+v", c)
		}
		c.Value = 1
		c.WindowStart = at(0)
		c.LockedUntil = at(5)
		c.UpdatedAt = at(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Counter{Key: "test:a", Value: 1, WindowStart: at(0), LockedUntil: at(5), UpdatedAt: at(1)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateCounter result (-want +got):\n%s", diff)
	}
	stored, err := s.CounterByKey(ctx, "test:a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored counter (-want +got):\n%s", diff)
	}
	got, err = s.UpdateCounter(ctx, "test:a", func(c *store.Counter) error {
		c.Value++
		c.Key = "test:other" // must be ignored
		c.LockedUntil = time.Time{}
		return nil
	})
	if err != nil || got.Value != 2 || got.Key != "test:a" || !got.LockedUntil.IsZero() {
		t.Errorf("second update = %+v, %v", got, err)
	}
	if _, err := s.CounterByKey(ctx, "test:other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updater renamed the counter: %v", err)
	}
}

func parallelIncrements(t *testing.T, s store.Store, key string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.UpdateCounter(t.Context(), key, func(c *store.Counter) error {
				c.Value++
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func testCounterParallelNewKey(t *testing.T, s store.Store) {
	const n = 50
	parallelIncrements(t, s, "test:new", n)
	c, err := s.CounterByKey(t.Context(), "test:new")
	if err != nil {
		t.Fatal(err)
	}
	if c.Value != n {
		t.Errorf("after %d parallel increments of a new counter: %d", n, c.Value)
	}
}

func testCounterParallelExisting(t *testing.T, s store.Store) {
	const n = 50
	parallelIncrements(t, s, "test:existing", 1)
	parallelIncrements(t, s, "test:existing", n)
	c, err := s.CounterByKey(t.Context(), "test:existing")
	if err != nil {
		t.Fatal(err)
	}
	if c.Value != n+1 {
		t.Errorf("after 1 + %d parallel increments: %d", n, c.Value)
	}
}
