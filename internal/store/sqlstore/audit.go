package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/store"
)

// auditChain implements store.AuditChain.
type auditChain struct{ *db }

var _ store.AuditChain = (*auditChain)(nil)

// AppendAudit implements store.AuditChain. The head row is the chain's lock:
// FOR UPDATE on PostgreSQL, the IMMEDIATE write transaction on SQLite.
func (s *auditChain) AppendAudit(ctx context.Context, fn func(head store.AuditHead) ([]store.AuditEntry, error)) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, fn) })
}

// appendAudit appends the entries fn builds after the head, in tx, holding
// the head row (the chain's lock) until tx ends.
func (d *db) appendAudit(ctx context.Context, tx *sql.Tx, fn store.AuditAppend) error {
	var head store.AuditHead
	err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1"+d.forUpdate()).
		Scan(&head.Seq, &head.Hash)
	if err != nil {
		return fmt.Errorf("sqlstore: audit head: %w", err)
	}
	entries, err := fn(head)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	prevSeq, prevHash := head.Seq, head.Hash
	for _, e := range entries {
		if e.Seq != prevSeq+1 || !bytes.Equal(e.PrevHash, prevHash) || len(e.Hash) == 0 {
			return fmt.Errorf("sqlstore: audit entry %d does not continue the chain: %w", e.Seq, store.ErrConflict)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_entries
			(seq, at, actor, event, subject, client_ip, details, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.Seq, micros(e.Time), e.Actor, e.Event, e.Subject, e.ClientIP, nonNil(e.Details), nonNil(e.PrevHash), e.Hash)
		if err != nil {
			return fmt.Errorf("sqlstore: append audit: %w", err)
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	if _, err := tx.ExecContext(ctx, "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", prevSeq, prevHash); err != nil {
		return fmt.Errorf("sqlstore: move audit head: %w", err)
	}
	return nil
}

// AuditHead implements store.AuditChain.
func (s *auditChain) AuditHead(ctx context.Context) (store.AuditHead, error) {
	var h store.AuditHead
	err := s.r.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuditHead{}, nil
	}
	if err != nil {
		return store.AuditHead{}, fmt.Errorf("sqlstore: audit head: %w", err)
	}
	return h, nil
}

// AuditEntries implements store.AuditChain.
func (s *auditChain) AuditEntries(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, at, actor, event, subject, client_ip, details, prev_hash, hash
		FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Event, &e.Subject, &e.ClientIP, &e.Details, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
		}
		e.Time = fromMicros(at)
		if len(e.PrevHash) == 0 {
			e.PrevHash = nil // the first entry has no predecessor
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
	}
	return out, nil
}
