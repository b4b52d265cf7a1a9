package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const poolPW = "Kx7!mehrWald92"

// blockedHasher returns a Hasher with one slot, taken as if by a hash that
// does not finish until the test calls release.
func blockedHasher(t *testing.T, opts ...Option) (h *Hasher, stored string, release func()) {
	t.Helper()
	h, err := NewHasher(fast, nil, 1, opts...)
	if err != nil {
		t.Fatal(err)
	}
	stored, err = h.Hash(t.Context(), poolPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.pool.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	return h, stored, h.pool.release
}

func TestPoolBusyBeyondQueueBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, stored, release := blockedHasher(t, WithMaxWaiting(2))
		results := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := h.Hash(t.Context(), poolPW)
				results <- err
			}()
		}
		synctest.Wait() // both wait for the slot
		if got := h.pool.waiting.Load(); got != 2 {
			t.Fatalf("waiting = %d, want 2", got)
		}

		start := time.Now()
		if _, err := h.Hash(t.Context(), poolPW); !errors.Is(err, ErrBusy) {
			t.Errorf("Hash beyond the queue bound: error = %v, want ErrBusy", err)
		}
		if _, _, err := h.Verify(t.Context(), poolPW, stored); !errors.Is(err, ErrBusy) {
			t.Errorf("Verify beyond the queue bound: error = %v, want ErrBusy", err)
		}
		if err := h.DummyVerify(t.Context(), poolPW); !errors.Is(err, ErrBusy) {
			t.Errorf("DummyVerify beyond the queue bound: error = %v, want ErrBusy", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("ErrBusy took %v, want it at once", d)
		}

		release()
		for range 2 {
			if err := <-results; err != nil {
				t.Errorf("waiting Hash: %v", err)
			}
		}
		if w, n := h.pool.waiting.Load(), len(h.pool.slots); w != 0 || n != 0 {
			t.Errorf("after all finished: waiting = %d, slots taken = %d; want 0, 0", w, n)
		}
	})
}

func TestPoolNoWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, release := blockedHasher(t, WithMaxWaiting(0))
		defer release()
		start := time.Now()
		if _, err := h.Hash(t.Context(), poolPW); !errors.Is(err, ErrBusy) || time.Since(start) != 0 {
			t.Errorf("Hash = %v after %v, want ErrBusy at once", err, time.Since(start))
		}
	})
}

func TestPoolQueueTimeout(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []Option
		want time.Duration
	}{
		{"default", nil, DefaultQueueTimeout},
		{"configured", []Option{WithQueueTimeout(300 * time.Millisecond)}, 300 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, _, release := blockedHasher(t, tt.opts...)
				defer release()
				start := time.Now()
				_, err := h.Hash(t.Context(), poolPW)
				if !errors.Is(err, ErrBusy) {
					t.Errorf("Hash error = %v, want ErrBusy", err)
				}
				if d := time.Since(start); d != tt.want {
					t.Errorf("ErrBusy after %v, want %v", d, tt.want)
				}
				if got := h.pool.waiting.Load(); got != 0 {
					t.Errorf("waiting = %d after the timeout, want 0", got)
				}
			})
		})
	}
}

func TestPoolSlotFreedWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, release := blockedHasher(t)
		go func() {
			time.Sleep(time.Second) // the blocking hash finishes within the queue timeout
			release()
		}()
		start := time.Now()
		if _, err := h.Hash(t.Context(), poolPW); err != nil {
			t.Errorf("Hash: %v", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("Hash finished after %v, want 1s", d)
		}
	})
}

func TestPoolContextCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, stored, release := blockedHasher(t)
		defer release()
		ctx, cancel := context.WithCancel(t.Context())
		results := make(chan error, 2)
		go func() {
			_, err := h.Hash(ctx, poolPW)
			results <- err
		}()
		go func() {
			_, _, err := h.Verify(ctx, poolPW, stored)
			results <- err
		}()
		synctest.Wait()
		start := time.Now()
		cancel()
		for range 2 {
			if err := <-results; !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("returned %v after cancel, want at once", d)
		}
		if got := h.pool.waiting.Load(); got != 0 {
			t.Errorf("waiting = %d, want 0", got)
		}
	})
}

func TestPoolContextDoneBeforeCall(t *testing.T) {
	h := newTestHasher(t, fast, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Hash(ctx, poolPW); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a done context: error = %v, want context.Canceled", err)
	}
}

// TestPoolBound checks that no more than maxConcurrent hashes hold a slot at
// once under a burst of callers.
func TestPoolBound(t *testing.T) {
	h, err := NewHasher(fast, nil, 2, WithMaxWaiting(100), WithQueueTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	maxSeen := 0
	for range 8 {
		wg.Go(func() {
			if err := h.pool.acquire(t.Context()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			maxSeen = max(maxSeen, len(h.pool.slots))
			mu.Unlock()
			h.input(poolPW)
			h.pool.release()
		})
	}
	wg.Wait()
	for range 4 {
		wg.Go(func() {
			if _, err := h.Hash(t.Context(), poolPW); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if maxSeen > 2 || len(h.pool.slots) != 0 || h.pool.waiting.Load() != 0 {
		t.Errorf("max slots seen %d (want ≤ 2), slots taken %d, waiting %d (want 0, 0)", maxSeen, len(h.pool.slots), h.pool.waiting.Load())
	}
}

func TestAdmitBoundsCallers(t *testing.T) {
	p := newPool(2, 3, time.Second)
	var done []func()
	for range 5 {
		d, err := p.admit()
		if err != nil {
			t.Fatalf("admission %d: %v", len(done)+1, err)
		}
		done = append(done, d)
	}
	if _, err := p.admit(); !errors.Is(err, ErrBusy) {
		t.Errorf("sixth admission = %v, want ErrBusy", err)
	}
	done[0]()
	done[0]() // ending twice counts once
	if _, err := p.admit(); err != nil {
		t.Errorf("admission after one ended: %v", err)
	}
	if _, err := p.admit(); !errors.Is(err, ErrBusy) {
		t.Errorf("admission over the bound = %v", err)
	}
}
