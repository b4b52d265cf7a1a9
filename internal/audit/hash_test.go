package audit

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// goldenTime is the instant of the golden entries.
var goldenTime = time.Date(2026, 11, 29, 10, 15, 30, 123456000, time.UTC)

// TestHashGolden pins the hash format. The expected values were computed by a
// separate implementation of the format in the package comment. If this test
// fails, the format changed and every stored chain would stop verifying:
// introduce a new tag instead.
func TestHashGolden(t *testing.T) {
	first := store.AuditEntry{
		Seq:      1,
		Time:     goldenTime,
		Actor:    "person:42",
		Event:    "account.login_failed",
		Subject:  "account:42",
		ClientIP: "192.0.2.1",
		Details:  []byte(`{"attempt":3}`),
	}
	const wantFirst = "f93f40d03a2dc716c4e06bf5ceeb0f95864e2d5ec6e1ff41acc8c3976ef271b9"
	if got := hex.EncodeToString(entryHash(first)); got != wantFirst {
		t.Errorf("hash of entry 1 = %s, want %s", got, wantFirst)
	}
	second := store.AuditEntry{
		Seq:      2,
		Time:     goldenTime.Add(time.Microsecond),
		Actor:    "system",
		Event:    "registry.import",
		Details:  []byte(`{}`),
		PrevHash: entryHash(first),
	}
	const wantSecond = "fddfac5f7cfcfb3e9249dc4bb6e3642f6aca7257f8057e263f2ebb06ba5b5e02"
	if got := hex.EncodeToString(entryHash(second)); got != wantSecond {
		t.Errorf("hash of entry 2 = %s, want %s", got, wantSecond)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	base := store.AuditEntry{
		Seq:      7,
		Time:     goldenTime,
		Actor:    "staff:1",
		Event:    "approval.granted",
		Subject:  "person:9",
		ClientIP: "2001:db8::1",
		Details:  []byte(`{"a":1}`),
		PrevHash: make([]byte, 32),
	}
	baseHash := hex.EncodeToString(entryHash(base))
	tests := []struct {
		name   string
		change func(e *store.AuditEntry)
	}{
		{"seq", func(e *store.AuditEntry) { e.Seq++ }},
		{"time", func(e *store.AuditEntry) { e.Time = e.Time.Add(time.Microsecond) }},
		{"actor", func(e *store.AuditEntry) { e.Actor = "staff:2" }},
		{"event", func(e *store.AuditEntry) { e.Event = "approval.denied" }},
		{"subject", func(e *store.AuditEntry) { e.Subject = "person:8" }},
		{"client ip", func(e *store.AuditEntry) { e.ClientIP = "2001:db8::2" }},
		{"details", func(e *store.AuditEntry) { e.Details = []byte(`{"a":2}`) }},
		{"prev hash", func(e *store.AuditEntry) { e.PrevHash = append(make([]byte, 31), 1) }},
		// Length prefixes keep field boundaries apart.
		{"actor/event boundary", func(e *store.AuditEntry) { e.Actor, e.Event = "staff:1a", "pproval.granted" }},
		{"subject/ip boundary", func(e *store.AuditEntry) { e.Subject, e.ClientIP = "", "person:92001:db8::1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			tt.change(&e)
			if got := hex.EncodeToString(entryHash(e)); got == baseHash {
				t.Errorf("hash unchanged after changing %s", tt.name)
			}
		})
	}

	// The stored Hash itself and the time zone are not part of the hash.
	e := base
	e.Hash = []byte("ignored")
	e.Time = base.Time.In(time.FixedZone("CET", 3600))
	if got := hex.EncodeToString(entryHash(e)); got != baseHash {
		t.Errorf("hash depends on Hash field or time zone: got %s, want %s", got, baseHash)
	}
}

func TestEntryTime(t *testing.T) {
	in := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	want := time.Date(2026, 3, 1, 11, 0, 0, 123456000, time.UTC)
	got := entryTime(in)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("entryTime(%v) = %v, want %v", in, got, want)
	}
}
