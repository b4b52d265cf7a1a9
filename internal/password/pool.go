package password

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrBusy is returned when too many hashes are running or waiting; the
// caller should answer 503 with Retry-After and change nothing.
var ErrBusy = errors.New("password: too many password hashes at once")

// Defaults of the pool's waiting room.
const (
	DefaultQueueTimeout = 2 * time.Second
	DefaultMaxWaiting   = 64
)

// pool bounds how many hashes run at once and how many callers wait for a
// slot. Its zero value is not usable; see newPool.
type pool struct {
	slots      chan struct{} // a send takes a slot, a receive gives it back
	waiting    atomic.Int64  // callers currently waiting for a slot
	admitted   atomic.Int64  // callers admitted by admit and not yet done
	maxWaiting int64
	timeout    time.Duration

	// workspaces holds the hashes' memory between hashes: at most one per
	// slot, so hashing keeps at most size × the largest memory it was asked
	// for (the parameters' bounds cap that).
	workspaces     chan *workspace
	workspacesMade atomic.Int64
}

func newPool(size, maxWaiting int, timeout time.Duration) *pool {
	return &pool{slots: make(chan struct{}, size), maxWaiting: int64(maxWaiting), timeout: timeout,
		workspaces: make(chan *workspace, size)}
}

// hash runs idKey in a kept workspace, or a new one when none is free (only a
// hash outside the slots, as NewHasher's, can find none).
func (p *pool) hash(password, salt []byte, passes, memKiB uint32, lanes uint8, keyLen uint32) []byte {
	var w *workspace
	select {
	case w = <-p.workspaces:
	default:
		w = new(workspace)
		p.workspacesMade.Add(1)
	}
	key := idKey(w, password, salt, nil, nil, passes, memKiB, lanes, keyLen)
	select {
	case p.workspaces <- w:
	default: // as many are kept as there are slots
	}
	return key
}

// acquire takes a slot, waiting if all are taken. It returns ErrBusy at once
// when maxWaiting callers already wait and after the timeout otherwise, and
// the context's error (wrapped) when ctx ends first. On success the caller
// must call release.
func (p *pool) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: wait for hash slot: %w", err)
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.waiting.Add(1) > p.maxWaiting {
		p.waiting.Add(-1)
		return ErrBusy
	}
	defer p.waiting.Add(-1)
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: wait for hash slot: %w", ctx.Err())
	case <-t.C:
		return ErrBusy
	}
}

// admit lets a caller in before it does any other work for a hash (a login
// writes to the database before it hashes): at most as many callers as the
// pool can run and queue are admitted; the rest get ErrBusy at once and change
// nothing. The returned function ends the admission.
func (p *pool) admit() (func(), error) {
	if p.admitted.Add(1) > int64(cap(p.slots))+p.maxWaiting {
		p.admitted.Add(-1)
		return nil, ErrBusy
	}
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			p.admitted.Add(-1)
		}
	}, nil
}

// release gives back a slot taken by acquire.
func (p *pool) release() { <-p.slots }
