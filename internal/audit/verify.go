package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

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
	// Head is the hex Hash of the last verified entry, empty for an empty
	// chain. Kept elsewhere, it lets a later Verify show that the chain still
	// extends it.
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
// numbered 1, 2, 3, … without gaps, that each one's PrevHash is the Hash of the
// one before, that each one's Hash matches its content, and that the last one
// is the store's head. It thus detects any modified, deleted, inserted or
// reordered entry. It calls fn, if not nil, after each page with the number of
// entries verified so far.
//
// Verify runs alongside Record: entries appended while it reads are verified
// too. It returns a *BrokenError for a broken chain, together with the Result
// for the entries that linked up before the break, and other errors when the
// store fails.
func Verify(ctx context.Context, chain Reader, fn func(progress int64)) (Result, error) {
	var (
		res  Result
		last store.AuditHead // the last verified entry
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
				if err := checkEntry(last, e); err != nil {
					return res, err
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

// checkEntry checks that e follows last.
func checkEntry(last store.AuditHead, e store.AuditEntry) error {
	want := last.Seq + 1
	switch {
	case e.Seq > want:
		return &BrokenError{Seq: want, Reason: fmt.Sprintf("missing; next stored entry is %d", e.Seq)}
	case e.Seq < want:
		return &BrokenError{Seq: want, Reason: fmt.Sprintf("out of order; store returned entry %d", e.Seq)}
	case !bytes.Equal(entryHash(e), e.Hash):
		return &BrokenError{Seq: e.Seq, Reason: "hash does not match the content"}
	case !bytes.Equal(e.PrevHash, last.Hash):
		return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("does not link to entry %d", last.Seq)}
	}
	return nil
}
