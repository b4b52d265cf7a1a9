package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// recordedChain returns a chain of n entries written by Record.
func recordedChain(t *testing.T, n int) *memChain {
	t.Helper()
	c := &memChain{}
	l := newTestLog(c)
	for i := range n {
		ev := Event{
			Actor:    fmt.Sprintf("person:%d", i),
			Event:    "account.login",
			Subject:  fmt.Sprintf("account:%d", i),
			ClientIP: "198.51.100.4",
			Details:  map[string]any{"i": i},
		}
		if err := l.Record(t.Context(), ev); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	return c
}

func TestVerifyIntact(t *testing.T) {
	for _, n := range []int{0, 1, 2, pageSize - 1, pageSize, pageSize + 1, 2*pageSize + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := recordedChain(t, n)
			var progress []int64
			res, err := Verify(t.Context(), c, testKey, nil, func(p int64) { progress = append(progress, p) })
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			head, _ := c.AuditHead(t.Context())
			want := Result{Entries: int64(n), Head: hex.EncodeToString(head.Hash), KeyedFrom: min(int64(n), 1)}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("Verify result mismatch (-want +got):\n%s", diff)
			}
			var wantProgress []int64
			for done := pageSize; done < n; done += pageSize {
				wantProgress = append(wantProgress, int64(done))
			}
			if n > 0 {
				wantProgress = append(wantProgress, int64(n))
			}
			if diff := cmp.Diff(wantProgress, progress); diff != "" {
				t.Errorf("progress mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n, k = 6, 3 // chain length, tampered entry
	at := func(entries []store.AuditEntry, seq int64) *store.AuditEntry {
		i := slices.IndexFunc(entries, func(e store.AuditEntry) bool { return e.Seq == seq })
		return &entries[i]
	}
	modify := func(fn func(e *store.AuditEntry)) func([]store.AuditEntry) []store.AuditEntry {
		return func(entries []store.AuditEntry) []store.AuditEntry {
			fn(at(entries, k))
			return entries
		}
	}
	tests := []struct {
		name string
		edit func([]store.AuditEntry) []store.AuditEntry
		head func(store.AuditHead) store.AuditHead // nil keeps the head
		want BrokenError
	}{
		{"time", modify(func(e *store.AuditEntry) { e.Time = e.Time.Add(time.Second) }), nil, BrokenError{Seq: k}},
		{"time by a microsecond", modify(func(e *store.AuditEntry) { e.Time = e.Time.Add(time.Microsecond) }), nil, BrokenError{Seq: k}},
		{"actor", modify(func(e *store.AuditEntry) { e.Actor = "staff:1" }), nil, BrokenError{Seq: k}},
		{"event", modify(func(e *store.AuditEntry) { e.Event = "account.logout" }), nil, BrokenError{Seq: k}},
		{"subject", modify(func(e *store.AuditEntry) { e.Subject = "account:99" }), nil, BrokenError{Seq: k}},
		{"client ip", modify(func(e *store.AuditEntry) { e.ClientIP = "198.51.100.5" }), nil, BrokenError{Seq: k}},
		{"details", modify(func(e *store.AuditEntry) { e.Details = []byte(`{"i":9}`) }), nil, BrokenError{Seq: k}},
		{"details whitespace", modify(func(e *store.AuditEntry) { e.Details = append(e.Details, ' ') }), nil, BrokenError{Seq: k}},
		{"prev hash", modify(func(e *store.AuditEntry) { e.PrevHash[0] ^= 1 }), nil, BrokenError{Seq: k}},
		{"hash", modify(func(e *store.AuditEntry) { e.Hash[31] ^= 1 }), nil, BrokenError{Seq: k}},
		{"seq", modify(func(e *store.AuditEntry) { e.Seq = 100 }), nil, BrokenError{Seq: k}},
		{"rehashed after edit", modify(func(e *store.AuditEntry) {
			e.Actor = "staff:1"
			e.Hash = entryHash(*e)
		}), nil, BrokenError{Seq: k}},
		{"rehashed with the key after edit", modify(func(e *store.AuditEntry) {
			e.Actor = "staff:1"
			e.Hash = keyedHash(testKey, *e)
		}), nil, BrokenError{Seq: k + 1}},
		{"delete middle", func(entries []store.AuditEntry) []store.AuditEntry {
			return slices.DeleteFunc(entries, func(e store.AuditEntry) bool { return e.Seq == k })
		}, nil, BrokenError{Seq: k}},
		{"delete first", func(entries []store.AuditEntry) []store.AuditEntry {
			return entries[1:]
		}, nil, BrokenError{Seq: 1}},
		{"delete last", func(entries []store.AuditEntry) []store.AuditEntry {
			return entries[:n-1]
		}, nil, BrokenError{Seq: n}},
		{"delete all", func([]store.AuditEntry) []store.AuditEntry { return nil }, nil, BrokenError{Seq: 1}},
		{"swap seqs", func(entries []store.AuditEntry) []store.AuditEntry {
			at(entries, 2).Seq, at(entries, 5).Seq = 5, 2
			return entries
		}, nil, BrokenError{Seq: 2}},
		{"swap adjacent seqs", func(entries []store.AuditEntry) []store.AuditEntry {
			at(entries, k).Seq, at(entries, k+1).Seq = k+1, k
			return entries
		}, nil, BrokenError{Seq: k}},
		{"duplicate entry", func(entries []store.AuditEntry) []store.AuditEntry {
			return append(entries, cloneEntry(*at(entries, k)))
		}, nil, BrokenError{Seq: k + 1}},
		{"entry after head", func(entries []store.AuditEntry) []store.AuditEntry {
			last := entries[n-1]
			extra := store.AuditEntry{Seq: n + 1, Time: last.Time, Actor: "system", Event: "forged", Details: []byte(`{}`), PrevHash: last.Hash}
			extra.Hash = entryHash(extra)
			return append(entries, extra)
		}, nil, BrokenError{Seq: n + 1}},
		{"head hash", nil, func(h store.AuditHead) store.AuditHead {
			h.Hash = slices.Clone(h.Hash)
			h.Hash[0] ^= 1
			return h
		}, BrokenError{Seq: n}},
		{"head ahead", nil, func(h store.AuditHead) store.AuditHead {
			h.Seq += 2
			return h
		}, BrokenError{Seq: n + 1}},
		{"head behind", nil, func(h store.AuditHead) store.AuditHead {
			h.Seq--
			return h
		}, BrokenError{Seq: n}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := recordedChain(t, n)
			if tt.edit != nil {
				c.edit(tt.edit)
			}
			if tt.head != nil {
				h, _ := c.AuditHead(t.Context())
				c.setHead(tt.head(h))
			}
			res, err := Verify(t.Context(), c, testKey, nil, nil)
			var broken *BrokenError
			if !errors.As(err, &broken) {
				t.Fatalf("Verify: err = %v, want *BrokenError", err)
			}
			if broken.Seq != tt.want.Seq {
				t.Errorf("broken at %d (%s), want %d", broken.Seq, broken.Reason, tt.want.Seq)
			}
			if broken.Reason == "" {
				t.Error("BrokenError without reason")
			}
			if res.Entries > n+1 {
				t.Errorf("Result.Entries = %d, want at most the %d entries read", res.Entries, n+1)
			}
		})
	}
}

func TestVerifyEmptyChainWithEntries(t *testing.T) {
	c := recordedChain(t, 2)
	c.setHead(store.AuditHead{})
	_, err := Verify(t.Context(), c, testKey, nil, nil)
	var broken *BrokenError
	if !errors.As(err, &broken) || broken.Seq != 1 {
		t.Fatalf("Verify: err = %v, want broken at 1", err)
	}
}

// TestVerifyWhileRecording appends between Verify's reads: new entries are
// verified, not reported as beyond the head.
func TestVerifyWhileRecording(t *testing.T) {
	c := recordedChain(t, 3)
	l := newTestLog(c)
	r := &appendingReader{memChain: c, onHead: func() {
		if err := l.Record(t.Context(), Event{Actor: "system", Event: "late"}); err != nil {
			t.Errorf("Record: %v", err)
		}
	}, times: 2}
	res, err := Verify(t.Context(), r, testKey, nil, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Entries != 5 {
		t.Errorf("Entries = %d, want 5", res.Entries)
	}
}

// appendingReader calls onHead before the first times AuditHead calls, as if
// entries arrived just before each head read.
type appendingReader struct {
	*memChain
	onHead func()
	times  int
}

func (r *appendingReader) AuditHead(ctx context.Context) (store.AuditHead, error) {
	if r.times > 0 {
		r.times--
		r.onHead()
	}
	return r.memChain.AuditHead(ctx)
}

type errReader struct {
	headErr, entriesErr error
}

func (r errReader) AuditHead(context.Context) (store.AuditHead, error) {
	return store.AuditHead{}, r.headErr
}

func (r errReader) AuditEntries(context.Context, int64, int) ([]store.AuditEntry, error) {
	return nil, r.entriesErr
}

func TestVerifyStoreErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, r := range []errReader{{entriesErr: boom}, {headErr: boom}} {
		_, err := Verify(t.Context(), r, testKey, nil, nil)
		var broken *BrokenError
		if !errors.Is(err, boom) || errors.As(err, &broken) {
			t.Errorf("Verify: err = %v, want store error, not *BrokenError", err)
		}
	}
}
