package store

import (
	"context"
	"time"
)

// AuditEntry is one entry of the append-only, hash-chained audit trail. The store
// keeps entries; package audit defines how Hash is computed and checks the chain.
type AuditEntry struct {
	Seq      int64 // 1, 2, 3, … without gaps
	Time     time.Time
	Actor    string // who acted: "system", "person:<id>", "staff:<id>", "import"
	Event    string // what happened, e.g. "registry.import"
	Subject  string // what it happened to
	ClientIP string
	Details  []byte // a JSON object
	PrevHash []byte // Hash of entry Seq-1; empty for Seq 1
	Hash     []byte
}

// AuditHead is the end of the chain: the last entry's Seq and Hash (zero and empty
// for an empty chain).
type AuditHead struct {
	Seq  int64
	Hash []byte
}

// AuditAppend builds the entries to append after head, as AppendAudit's fn
// does; a write that records its own audit entry (SettlePasswordLogin)
// takes one and appends the entries in its transaction, under the chain's
// lock. It may run more than once; only its last result is stored.
type AuditAppend func(head AuditHead) ([]AuditEntry, error)

// AuditChain is the contract for the audit trail.
type AuditChain interface {
	// AppendAudit calls fn with the current head while holding the chain's
	// lock (across all processes sharing the database), then stores the entries
	// fn returns and moves the head to the last of them, all in one
	// transaction. The entries must continue the chain: Seq head.Seq+1, +2, …
	// and the first PrevHash equal to head.Hash; otherwise nothing is written
	// and ErrConflict is returned. fn may run more than once.
	AppendAudit(ctx context.Context, fn func(head AuditHead) ([]AuditEntry, error)) error
	// AuditHead returns the current head.
	AuditHead(ctx context.Context) (AuditHead, error)
	// AuditEntries returns up to limit entries with Seq > after, ordered by
	// Seq.
	AuditEntries(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
}
