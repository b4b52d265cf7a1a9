package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// chainEntry continues head with a test entry. The hash here only needs to be
// unique; package audit defines the real one.
func chainEntry(prevSeq int64, prevHash []byte, event string) store.AuditEntry {
	e := store.AuditEntry{
		Seq:      prevSeq + 1,
		Time:     at(int(prevSeq)),
		Actor:    "system",
		Event:    event,
		Subject:  "person:1",
		ClientIP: "192.0.2.1",
		Details:  []byte(`{"n":1}`),
		PrevHash: prevHash,
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%d|%x|%s", e.Seq, prevHash, event))
	e.Hash = h[:]
	return e
}

func appendN(t *testing.T, s store.Store, n int, event string) {
	t.Helper()
	err := s.AppendAudit(t.Context(), func(head store.AuditHead) ([]store.AuditEntry, error) {
		out := make([]store.AuditEntry, 0, n)
		seq, hash := head.Seq, head.Hash
		for range n {
			e := chainEntry(seq, hash, event)
			out = append(out, e)
			seq, hash = e.Seq, e.Hash
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testAuditAppendAndRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	head, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != 0 || len(head.Hash) != 0 {
		t.Errorf("empty chain head = %+v", head)
	}
	appendN(t, s, 3, "test.one")
	appendN(t, s, 2, "test.two")
	head, err = s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.AuditEntries(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || head.Seq != 5 || !bytes.Equal(head.Hash, all[4].Hash) {
		t.Fatalf("after 5 appends: %d entries, head %+v", len(all), head)
	}
	var prev []byte
	for i, e := range all {
		want := chainEntry(int64(i), prev, map[bool]string{true: "test.one", false: "test.two"}[i < 3])
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("entry %d (-want +got):\n%s", i+1, diff)
		}
		prev = e.Hash
	}
	page, err := s.AuditEntries(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("AuditEntries(after 2, limit 2) = seqs %v", seqs(page))
	}
	if none, err := s.AuditEntries(ctx, 5, 10); err != nil || len(none) != 0 {
		t.Errorf("AuditEntries past the end = %v, %v", seqs(none), err)
	}
	// An fn that returns nothing writes nothing.
	if err := s.AppendAudit(ctx, func(store.AuditHead) ([]store.AuditEntry, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.AuditHead(ctx); !cmp.Equal(head, again) {
		t.Errorf("an empty append moved the head: %+v -> %+v", head, again)
	}
}

func seqs(es []store.AuditEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func testAuditRejectsBroken(t *testing.T, s store.Store) {
	ctx := t.Context()
	appendN(t, s, 2, "test.base")
	head, _ := s.AuditHead(ctx)
	cases := map[string]func(h store.AuditHead) []store.AuditEntry{
		"gap in seq": func(h store.AuditHead) []store.AuditEntry {
			e := chainEntry(h.Seq+1, h.Hash, "test.bad")
			return []store.AuditEntry{e}
		},
		"wrong prev hash": func(h store.AuditHead) []store.AuditEntry {
			return []store.AuditEntry{chainEntry(h.Seq, []byte("forged"), "test.bad")}
		},
		"second entry does not continue the first": func(h store.AuditHead) []store.AuditEntry {
			a := chainEntry(h.Seq, h.Hash, "test.bad")
			b := chainEntry(a.Seq, h.Hash, "test.bad")
			return []store.AuditEntry{a, b}
		},
	}
	for name, build := range cases {
		err := s.AppendAudit(ctx, func(h store.AuditHead) ([]store.AuditEntry, error) { return build(h), nil })
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: AppendAudit = %v, want ErrConflict", name, err)
		}
	}
	boom := errors.New("boom")
	if err := s.AppendAudit(ctx, func(store.AuditHead) ([]store.AuditEntry, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("failing fn: AppendAudit = %v, want boom", err)
	}
	after, _ := s.AuditHead(ctx)
	if diff := cmp.Diff(head, after); diff != "" {
		t.Errorf("refused appends moved the head (-before +after):\n%s", diff)
	}
	if all, _ := s.AuditEntries(ctx, 0, 100); len(all) != 2 {
		t.Errorf("refused appends wrote entries: %v", seqs(all))
	}
}

func testAuditParallel(t *testing.T, s store.Store) {
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range each {
				appendN(t, s, 1, fmt.Sprintf("test.w%d", w))
			}
		})
	}
	wg.Wait()
	all, err := s.AuditEntries(t.Context(), 0, writers*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("%d entries, want %d", len(all), writers*each)
	}
	var prev []byte
	for i, e := range all {
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("entry %d: seq %d, prev hash continues: %v", i+1, e.Seq, bytes.Equal(e.PrevHash, prev))
		}
		prev = e.Hash
	}
}
