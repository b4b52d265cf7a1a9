package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// hashTag separates audit hashes from any other SHA-256 use; a new hash format
// gets a new tag.
const hashTag = "pforte-audit-v1"

// entryHash computes an entry's Hash as the package comment defines it, from
// every field but Hash itself.
func entryHash(e store.AuditEntry) []byte {
	h := sha256.New()
	var n [8]byte
	writeField(h, []byte(hashTag))
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
	return h.Sum(nil)
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
