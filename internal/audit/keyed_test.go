package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

var otherKey = func() Key {
	k, err := NewKey([]byte("another key of thirty-two bytes!"))
	if err != nil {
		panic(err)
	}
	return k
}()

// rehashFrom rewrites the chain from entry seq on as someone without the key
// would after editing entry seq: unkeyed hashes, relinked, head moved.
func rehashFrom(c *memChain, seq int64, edit func(e *store.AuditEntry)) {
	c.edit(func(entries []store.AuditEntry) []store.AuditEntry {
		var prev []byte
		for i := range entries {
			e := &entries[i]
			if e.Seq >= seq {
				if e.Seq == seq {
					edit(e)
				}
				e.PrevHash = prev
				e.Hash = entryHash(*e)
			}
			prev = e.Hash
		}
		return entries
	})
	entries, _ := c.AuditEntries(context.Background(), 0, 1<<20)
	last := entries[len(entries)-1]
	c.setHead(store.AuditHead{Seq: last.Seq, Hash: last.Hash})
}

func brokenAt(t *testing.T, err error, seq int64, reason string) {
	t.Helper()
	var broken *BrokenError
	if !errors.As(err, &broken) {
		t.Fatalf("Verify: err = %v, want *BrokenError", err)
	}
	if broken.Seq != seq || !strings.Contains(broken.Reason, reason) {
		t.Errorf("broken at %d (%s), want %d (%s)", broken.Seq, broken.Reason, seq, reason)
	}
}

func TestKeyedHashFormat(t *testing.T) {
	e := store.AuditEntry{Seq: 1, Time: time.Date(2026, 11, 29, 8, 0, 0, 123456000, time.UTC), Actor: "system",
		Event: "node.start", Subject: "node", Details: []byte(`{}`)}
	got := fmt.Sprintf("%x", keyedHash(testKey, e))
	// Computed independently (Python hmac and hashlib) from the package comment.
	if want := "6d88e7a71b1633a1c2db6a6decbb92c25a535068f3fe1bba056e0c571eb5cf29"; got != want {
		t.Errorf("keyed hash = %s, want %s", got, want)
	}
	if bytes.Equal(keyedHash(testKey, e), entryHash(e)) || bytes.Equal(keyedHash(testKey, e), keyedHash(otherKey, e)) {
		t.Error("keyed hash does not depend on the key")
	}
}

// A chain rewritten from an edited entry on, with hashes recomputed by
// someone without the key, fails at the edited entry.
func TestVerifyRefusesChainRewrittenWithoutKey(t *testing.T) {
	c := recordedChain(t, 6)
	rehashFrom(c, 3, func(e *store.AuditEntry) { e.Actor = "staff:1" })
	_, err := Verify(t.Context(), c, testKey, nil, nil)
	brokenAt(t, err, 3, "without the audit key")

	// Deleting an entry in the middle and renumbering and rehashing the rest.
	c = recordedChain(t, 6)
	c.edit(func(entries []store.AuditEntry) []store.AuditEntry {
		entries = slices.DeleteFunc(entries, func(e store.AuditEntry) bool { return e.Seq == 3 })
		for i := range entries {
			entries[i].Seq = int64(i + 1)
		}
		return entries
	})
	rehashFrom(c, 3, func(*store.AuditEntry) {})
	_, err = Verify(t.Context(), c, testKey, nil, nil)
	brokenAt(t, err, 3, "without the audit key")

	// The whole chain rewritten without the key: nothing is keyed.
	c = recordedChain(t, 6)
	rehashFrom(c, 1, func(e *store.AuditEntry) { e.Actor = "staff:1" })
	_, err = Verify(t.Context(), c, testKey, nil, nil)
	brokenAt(t, err, 1, "no entry is keyed")
}

func TestVerifyWithAnotherKey(t *testing.T) {
	_, err := Verify(t.Context(), recordedChain(t, 3), otherKey, nil, nil)
	brokenAt(t, err, 1, "audit key")
	if _, err := Verify(t.Context(), recordedChain(t, 1), Key{}, nil, nil); err == nil {
		t.Error("Verify with the zero key passed")
	}
}

// legacyChain returns a chain of n unkeyed entries, as written before the
// chain was keyed, followed by m keyed ones.
func legacyChain(t *testing.T, n, m int) *memChain {
	t.Helper()
	c := &memChain{}
	var prev []byte
	for i := 1; i <= n; i++ {
		e := store.AuditEntry{Seq: int64(i), Time: clockStart.UTC(), Actor: "system", Event: "old.event", Details: []byte(`{}`), PrevHash: prev}
		e.Hash = entryHash(e)
		c.entries = append(c.entries, e)
		c.head = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
		prev = e.Hash
	}
	l := newTestLog(c)
	for range m {
		if err := l.Record(t.Context(), Event{Actor: "system", Event: "new.event"}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestVerifyLegacyPrefix(t *testing.T) {
	res, err := Verify(t.Context(), legacyChain(t, 3, 3), testKey, nil, nil)
	if err != nil || res.Entries != 6 || res.KeyedFrom != 4 {
		t.Fatalf("Verify = %+v, %v; want 6 entries keyed from 4", res, err)
	}
	// An edit in the unkeyed prefix, rehashed up to the keyed part: the first
	// keyed entry's PrevHash seals the prefix.
	c := legacyChain(t, 3, 3)
	c.edit(func(entries []store.AuditEntry) []store.AuditEntry {
		var prev []byte
		for i := range entries[:3] {
			if i == 1 {
				entries[i].Actor = "staff:1"
			}
			entries[i].PrevHash = prev
			entries[i].Hash = entryHash(entries[i])
			prev = entries[i].Hash
		}
		return entries
	})
	_, err = Verify(t.Context(), c, testKey, nil, nil)
	brokenAt(t, err, 4, "does not link")
	// An unkeyed entry after the keyed ones.
	c = legacyChain(t, 3, 3)
	rehashFrom(c, 6, func(e *store.AuditEntry) { e.Actor = "staff:1" })
	_, err = Verify(t.Context(), c, testKey, nil, nil)
	brokenAt(t, err, 6, "keyed from entry 4")
}

// checkpointAt signs the chain's current head.
func checkpointAt(t *testing.T, c *memChain) Checkpoint {
	t.Helper()
	h, _ := c.AuditHead(t.Context())
	return testKey.Sign(h, clockStart)
}

func TestVerifyWithCheckpoints(t *testing.T) {
	t.Run("intact", func(t *testing.T) {
		c := recordedChain(t, 4)
		cp4 := checkpointAt(t, c)
		l := newTestLog(c)
		l.Record(t.Context(), Event{Actor: "system", Event: "later"})
		res, err := Verify(t.Context(), c, testKey, []Checkpoint{cp4}, nil)
		if err != nil || res.Checkpoints != 1 || res.LastCheckpoint.Seq != 4 {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
	})
	t.Run("tail cut off", func(t *testing.T) {
		c := recordedChain(t, 6)
		cp := checkpointAt(t, c)
		c.edit(func(entries []store.AuditEntry) []store.AuditEntry { return entries[:4] })
		c.setHead(store.AuditHead{Seq: 4, Hash: c.entries[3].Hash})
		if _, err := Verify(t.Context(), c, testKey, nil, nil); err != nil {
			t.Fatalf("without checkpoints a cut tail with a rewound head passes: %v", err)
		}
		_, err := Verify(t.Context(), c, testKey, []Checkpoint{cp}, nil)
		brokenAt(t, err, 5, "cut off")
	})
	t.Run("tail replaced", func(t *testing.T) {
		// Cut back to 4, then the application appends two new entries: the
		// chain is keyed and intact, but entry 6 is not the one published.
		c := recordedChain(t, 6)
		cp := checkpointAt(t, c)
		c.edit(func(entries []store.AuditEntry) []store.AuditEntry { return entries[:4] })
		c.setHead(store.AuditHead{Seq: 4, Hash: c.entries[3].Hash})
		l := New(c, testKey, stepClock(clockStart.Add(time.Hour), time.Second), nil)
		for range 2 {
			l.Record(t.Context(), Event{Actor: "system", Event: "other"})
		}
		_, err := Verify(t.Context(), c, testKey, []Checkpoint{cp}, nil)
		brokenAt(t, err, 6, "differs from the checkpoint")
	})
}

func TestParseCheckpoints(t *testing.T) {
	c := recordedChain(t, 3)
	h, _ := c.AuditHead(t.Context())
	cp := testKey.Sign(h, clockStart.Add(123456789*time.Nanosecond))
	line, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCheckpoints(strings.NewReader(string(line)+"\n\n"+string(line)+"\n"), testKey)
	if err != nil || len(got) != 2 {
		t.Fatalf("ParseCheckpoints = %v, %v", got, err)
	}
	if diff := cmp.Diff(cp, got[0]); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	forge := func(edit func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal(line, &m)
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	for name, bad := range map[string]string{
		"seq moved":   forge(func(m map[string]any) { m["seq"] = 2 }),
		"time moved":  forge(func(m map[string]any) { m["time"] = "2026-11-29T08:00:01.000000Z" }),
		"head edited": forge(func(m map[string]any) { m["head"] = strings.Repeat("00", 32) }),
		"not json":    "{",
		"no mac":      forge(func(m map[string]any) { delete(m, "mac") }),
	} {
		_, err := ParseCheckpoints(strings.NewReader(string(line)+"\n"+bad+"\n"), testKey)
		if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: err = %v, want ErrCheckpoint naming line 2", name, err)
		}
	}
	if _, err := ParseCheckpoints(strings.NewReader(string(line)), otherKey); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("another key: err = %v, want ErrCheckpoint", err)
	}
}

// syncBuffer records whether Sync was called after each Write.
type syncBuffer struct {
	bytes.Buffer
	syncs int
}

func (b *syncBuffer) Sync() error { b.syncs++; return nil }

func TestCheckpointerPublishes(t *testing.T) {
	c := recordedChain(t, 3)
	var file syncBuffer
	var logs bytes.Buffer
	cps := NewCheckpointer(c, testKey, &file, func() time.Time { return clockStart }, slog.New(slog.NewJSONHandler(&logs, nil)))
	cp, err := cps.Publish(t.Context(), true)
	if err != nil || cp.Seq != 3 {
		t.Fatalf("Publish = %+v, %v", cp, err)
	}
	if skipped, err := cps.Publish(t.Context(), true); err != nil || skipped.Seq != 0 {
		t.Errorf("unmoved head published again: %+v, %v", skipped, err)
	}
	newTestLog(c).Record(t.Context(), Event{Actor: "system", Event: "later"})
	if cp, err := cps.Publish(t.Context(), true); err != nil || cp.Seq != 4 {
		t.Fatalf("second Publish = %+v, %v", cp, err)
	}
	got, err := ParseCheckpoints(&file.Buffer, testKey)
	if err != nil || len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 4 || file.syncs != 2 {
		t.Fatalf("checkpoint file: %v, %v, %d syncs", got, err, file.syncs)
	}
	if !strings.Contains(logs.String(), `"msg":"audit checkpoint","seq":3`) {
		t.Errorf("no checkpoint log line:\n%s", logs.String())
	}
	if _, err := Verify(t.Context(), c, testKey, got, nil); err != nil {
		t.Errorf("Verify with the published checkpoints: %v", err)
	}
	if cps.Last().Seq != 4 || cps.Failures() != 0 {
		t.Errorf("Last %d, Failures %d", cps.Last().Seq, cps.Failures())
	}
}

// The Checkpointer never signs a head that does not extend its last
// checkpoint.
func TestCheckpointerRefusesRewoundChain(t *testing.T) {
	tests := map[string]func(c *memChain){
		"head rewound": func(c *memChain) {
			c.edit(func(entries []store.AuditEntry) []store.AuditEntry { return entries[:2] })
			c.setHead(store.AuditHead{Seq: 2, Hash: c.entries[1].Hash})
		},
		"head entry replaced": func(c *memChain) {
			rehashFrom(c, 4, func(e *store.AuditEntry) { e.Actor = "staff:1" })
		},
		"cut below the checkpoint, then appended by the application": func(c *memChain) {
			c.edit(func(entries []store.AuditEntry) []store.AuditEntry { return entries[:2] })
			c.setHead(store.AuditHead{Seq: 2, Hash: c.entries[1].Hash})
			l := New(c, testKey, stepClock(clockStart.Add(time.Hour), time.Second), nil)
			for range 3 {
				l.Record(context.Background(), Event{Actor: "system", Event: "other"})
			}
		},
		"entry since the checkpoint rewritten, head kept": func(c *memChain) {
			newTestLog(c).Record(context.Background(), Event{Actor: "system", Event: "more"})
			c.edit(func(entries []store.AuditEntry) []store.AuditEntry {
				entries[3].Actor = "staff:1" // entry 4, between the checkpoint (3) and the head (5)
				return entries
			})
		},
	}
	for name, tamper := range tests {
		t.Run(name, func(t *testing.T) {
			c := recordedChain(t, 3)
			var file bytes.Buffer
			cps := NewCheckpointer(c, testKey, &file, nil, nil)
			if _, err := cps.Publish(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			newTestLog(c).Record(t.Context(), Event{Actor: "system", Event: "later"})
			tamper(c)
			before := file.Len()
			if _, err := cps.Publish(t.Context(), false); !errors.Is(err, ErrRewound) {
				t.Fatalf("Publish after tampering: err = %v, want ErrRewound", err)
			}
			if file.Len() != before || cps.Failures() != 1 || cps.Last().Seq != 3 {
				t.Errorf("published anyway: file %d -> %d bytes, failures %d, last %d", before, file.Len(), cps.Failures(), cps.Last().Seq)
			}
		})
	}
}

// Run publishes a last checkpoint when its context ends.
func TestCheckpointerRunPublishesAtShutdown(t *testing.T) {
	c := recordedChain(t, 2)
	var file bytes.Buffer
	cps := NewCheckpointer(c, testKey, &file, nil, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cps.Run(ctx, time.Hour)
	got, err := ParseCheckpoints(&file, testKey)
	if err != nil || len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("after Run: %v, %v", got, err)
	}
}

func TestKeyRedaction(t *testing.T) {
	k, err := ParseKey(GenerateKeyText())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %x %s %d", k, k, k, k, k, k)} {
		if strings.Contains(s, fmt.Sprintf("%x", k.chain)) || !strings.Contains(s, "REDACTED") {
			t.Errorf("key printed as %q", s)
		}
	}
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Error("short key accepted")
	}
	if _, err := ParseKey("not base64!"); err == nil {
		t.Error("non-base64 key accepted")
	}
	if !k.Equal(k) || k.Equal(testKey) {
		t.Error("Equal is wrong")
	}
}
