package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// Hash tags separate audit hashes from any other use of SHA-256 and HMAC; a
// new hash format gets a new tag. Version 1 hashes are plain SHA-256, written
// before the chain was keyed; version 2 hashes are HMACs under the audit key.
const (
	hashTag      = "pforte-audit-v1"
	keyedHashTag = "pforte-audit-v2"
)

// entryHash computes a version 1 (unkeyed) Hash as the package comment
// defines it, from every field but Hash itself. Record no longer writes
// these; Verify accepts them only before the first keyed entry.
func entryHash(e store.AuditEntry) []byte {
	h := sha256.New()
	writeEntry(h, hashTag, e)
	return h.Sum(nil)
}

// keyedHash computes a version 2 Hash: HMAC-SHA256 under the key's chain key
// over the same fields, tagged "pforte-audit-v2".
func keyedHash(k Key, e store.AuditEntry) []byte {
	h := hmac.New(sha256.New, k.chain)
	writeEntry(h, keyedHashTag, e)
	return h.Sum(nil)
}

func writeEntry(h hash.Hash, tag string, e store.AuditEntry) {
	var n [8]byte
	writeField(h, []byte(tag))
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	writeField(h, n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.Time.UnixMicro()))
	writeField(h, n[:])
	writeField(h, []byte(e.Actor))
	writeField(h, []byte(e.Event))
	writeField(h, []byte(e.Subject))
	writeField(h, []byte(e.ClientIP))
	writeField(h, e.Details)
	writeField(h, e.PrevHash)
}

// writeField writes len(b) as 4 bytes big-endian, then b. Every field is far
// below 4 GiB (Record bounds them, and SHA-256 input from the store is what the
// store gave back).
func writeField(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// entryTime is how Record stores an instant: UTC, truncated to the microsecond
// the store keeps, so that the hash covers exactly what is read back.
func entryTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
