package audit

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// memChain is an in-memory chain for the unit tests of hashing, group commit
// and verification only; it keeps the AppendAudit contract (lock, continuation
// check, all or nothing). The real store passes the same contract in its own
// conformance suite.
// testKey keys the chains of this package's tests.
var testKey = func() Key {
	k, err := NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return k
}()

type memChain struct {
	// commitDelay, if set, stands for the fsync of a real commit.
	commitDelay time.Duration
	// runTwice calls fn twice per append, as a store that retries may.
	runTwice bool
	// gate, if set, is received from before each append, so a test can hold
	// an append in flight.
	gate chan struct{}

	appends  atomic.Int64 // AppendAudit calls that stored entries
	maxBatch atomic.Int64 // most entries stored by one call

	mu      sync.Mutex
	entries []store.AuditEntry // ordered by Seq
	head    store.AuditHead
}

func (c *memChain) AppendAudit(ctx context.Context, fn func(head store.AuditHead) ([]store.AuditEntry, error)) error {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	head := store.AuditHead{Seq: c.head.Seq, Hash: bytes.Clone(c.head.Hash)}
	if c.runTwice {
		if _, err := fn(head); err != nil {
			return err
		}
	}
	entries, err := fn(head)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	prev := c.head
	for _, e := range entries {
		if e.Seq != prev.Seq+1 || !bytes.Equal(e.PrevHash, prev.Hash) {
			return store.ErrConflict
		}
		prev = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
	}
	if c.commitDelay > 0 {
		time.Sleep(c.commitDelay)
	}
	for _, e := range entries {
		c.entries = append(c.entries, cloneEntry(e))
	}
	c.head = store.AuditHead{Seq: prev.Seq, Hash: bytes.Clone(prev.Hash)}
	c.appends.Add(1)
	if n := int64(len(entries)); n > c.maxBatch.Load() {
		c.maxBatch.Store(n) // under c.mu, so no lost update
	}
	return nil
}

func (c *memChain) AuditHead(context.Context) (store.AuditHead, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return store.AuditHead{Seq: c.head.Seq, Hash: bytes.Clone(c.head.Hash)}, nil
}

func (c *memChain) AuditEntries(_ context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []store.AuditEntry
	for _, e := range c.entries {
		if e.Seq > after && len(out) < limit {
			out = append(out, cloneEntry(e))
		}
	}
	return out, nil
}

// edit applies fn to the stored entries, then restores Seq order, as a
// database would return rows after someone edited them.
func (c *memChain) edit(fn func(entries []store.AuditEntry) []store.AuditEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = fn(c.entries)
	slices.SortStableFunc(c.entries, func(a, b store.AuditEntry) int { return int(a.Seq - b.Seq) })
}

func (c *memChain) setHead(h store.AuditHead) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.head = h
}

func cloneEntry(e store.AuditEntry) store.AuditEntry {
	e.Details = bytes.Clone(e.Details)
	e.PrevHash = bytes.Clone(e.PrevHash)
	e.Hash = bytes.Clone(e.Hash)
	return e
}
