package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// pageSize is how many entries Verify reads at a time.
const pageSize = 1000

// Reader is the part of the store that Verify reads.
type Reader interface {
	// AuditHead returns the current head: the last entry's Seq and Hash, or
	// zero and empty for an empty chain.
	AuditHead(ctx context.Context) (store.AuditHead, error)
	// AuditEntries returns up to limit entries with Seq > after, ordered by
	// Seq; fewer than limit only at the end of the chain.
	AuditEntries(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error)
}

// Result is what Verify found.
type Result struct {
	// Entries is how many entries were verified.
	Entries int64
	// KeyedFrom is the Seq of the first entry whose hash is keyed with the
	// audit key; every later entry is keyed too. Entries before it were
	// written before the chain was keyed and are only hash-chained. Zero
	// when no entry is keyed.
	KeyedFrom int64
	// Checkpoints is how many of the given checkpoints matched an entry.
	Checkpoints int
	// LastCheckpoint is the highest matched checkpoint (zero if none).
	LastCheckpoint Checkpoint
	// Head is the hex Hash of the last verified entry, empty for an empty
	// chain.
	Head string
}

// BrokenError reports the first entry at which the chain does not hold.
type BrokenError struct {
	Seq    int64  // the first broken entry, or the first missing one
	Reason string // what is wrong with it
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit: chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify reads the whole chain from entry 1 and checks that the entries are
// numbered 1, 2, 3, … without gaps, that each one's PrevHash is the Hash of
// the one before, that each one's Hash matches its content, and that the last
// one is the store's head.
//
// Hashes are keyed: from the first entry whose Hash is the HMAC under key
// (Result.KeyedFrom) on, every entry must be keyed, so nobody without the key
// can change, insert or delete an entry there and recompute the chain. Before
// it, entries written before the chain was keyed are accepted with their
// unkeyed hash; the first keyed entry's PrevHash seals them. A non-empty chain
// without any keyed entry is broken: it was never written with this key, or
// it was rewritten without it.
//
// checkpoints (published outside the database, see Checkpoint) must each
// match the entry at their Seq; a checkpoint beyond the end of the chain
// reports the truncation of the tail. Checkpoints must have passed
// Key.CheckCheckpoint (ParseCheckpoints does that).
//
// It calls fn, if not nil, after each page with the number of entries
// verified so far. Verify runs alongside Record: entries appended while it
// reads are verified too. It returns a *BrokenError for a broken chain,
// together with the Result for the entries that linked up before the break,
// and other errors when the store fails.
func Verify(ctx context.Context, chain Reader, key Key, checkpoints []Checkpoint, fn func(progress int64)) (Result, error) {
	if key.IsZero() {
		return Result{}, fmt.Errorf("audit: verify: no key")
	}
	cps := slices.Clone(checkpoints)
	slices.SortFunc(cps, func(a, b Checkpoint) int { return cmpInt(a.Seq, b.Seq) })
	var (
		res  Result
		last store.AuditHead // the last verified entry
		next int             // the first checkpoint not yet reached
		// atHeadCheck is last.Seq when the head was last found ahead of
		// the entries; -1 before that.
		atHeadCheck int64 = -1
	)
	for {
		for {
			page, err := chain.AuditEntries(ctx, last.Seq, pageSize)
			if err != nil {
				return res, fmt.Errorf("audit: verify: read entries after %d: %w", last.Seq, err)
			}
			for _, e := range page {
				if err := checkEntry(key, &res, last, e); err != nil {
					return res, err
				}
				for next < len(cps) && cps[next].Seq <= e.Seq {
					cp := cps[next]
					if cp.Seq == e.Seq && !bytes.Equal(cp.Head, e.Hash) {
						return res, &BrokenError{Seq: e.Seq, Reason: "differs from the checkpoint published " + cp.Time.Format(time.RFC3339)}
					}
					if cp.Seq < 1 {
						return res, &BrokenError{Seq: 1, Reason: fmt.Sprintf("checkpoint with impossible entry %d", cp.Seq)}
					}
					res.Checkpoints++
					res.LastCheckpoint = cp
					next++
				}
				last = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
				res.Entries++
				res.Head = hex.EncodeToString(e.Hash)
			}
			if len(page) > 0 && fn != nil {
				fn(res.Entries)
			}
			if len(page) < pageSize {
				break
			}
		}

		head, err := chain.AuditHead(ctx)
		if err != nil {
			return res, fmt.Errorf("audit: verify: read head: %w", err)
		}
		switch {
		case head.Seq == last.Seq:
			if !bytes.Equal(head.Hash, last.Hash) {
				return res, &BrokenError{Seq: last.Seq, Reason: "hash differs from the chain head"}
			}
			if next < len(cps) {
				cp := cps[len(cps)-1]
				return res, &BrokenError{Seq: last.Seq + 1, Reason: fmt.Sprintf(
					"missing; a checkpoint published %s shows the chain up to entry %d (the tail was cut off)",
					cp.Time.Format(time.RFC3339), cp.Seq)}
			}
			if res.Entries > 0 && res.KeyedFrom == 0 {
				return res, &BrokenError{Seq: 1, Reason: "no entry is keyed with the audit key: the chain was never " +
					"written with this key, or it was rewritten without it"}
			}
			return res, nil
		case head.Seq < last.Seq:
			return res, &BrokenError{Seq: head.Seq + 1, Reason: fmt.Sprintf("entry after the chain head at %d", head.Seq)}
		case last.Seq == atHeadCheck:
			// The head was ahead before, and reading again found nothing.
			return res, &BrokenError{Seq: last.Seq + 1, Reason: fmt.Sprintf("missing; the chain head is at %d", head.Seq)}
		default:
			// Entries appended since the last page: read on.
			atHeadCheck = last.Seq
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkEntry checks that e follows last and that its hash is right: keyed
// once res.KeyedFrom is set, keyed or (before) unkeyed otherwise. The first
// keyed entry sets res.KeyedFrom.
func checkEntry(key Key, res *Result, last store.AuditHead, e store.AuditEntry) error {
	want := last.Seq + 1
	switch {
	case e.Seq > want:
		return &BrokenError{Seq: want, Reason: fmt.Sprintf("missing; next stored entry is %d", e.Seq)}
	case e.Seq < want:
		return &BrokenError{Seq: want, Reason: fmt.Sprintf("out of order; store returned entry %d", e.Seq)}
	}
	keyed := bytes.Equal(keyedHash(key, e), e.Hash)
	switch {
	case keyed:
		if res.KeyedFrom == 0 {
			res.KeyedFrom = e.Seq
		}
	case res.KeyedFrom != 0 && bytes.Equal(entryHash(e), e.Hash):
		return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf(
			"hash not keyed although the chain is keyed from entry %d: written or recomputed without the audit key", res.KeyedFrom)}
	case res.KeyedFrom != 0 || !bytes.Equal(entryHash(e), e.Hash):
		return &BrokenError{Seq: e.Seq, Reason: "hash does not match the content (or the audit key is not the one it was written with)"}
	}
	if !bytes.Equal(e.PrevHash, last.Hash) {
		return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("does not link to entry %d", last.Seq)}
	}
	return nil
}
