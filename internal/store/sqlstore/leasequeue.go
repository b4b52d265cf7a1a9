package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// leaseQueue is a table of work that workers on every node claim with a
// lease (the notices, the mails, the intake of requests): claim selects the
// due rows and leases them in one transaction. PostgreSQL skips rows another
// node holds locked; SQLite has one writer. A worker that dies leaves its
// rows to be claimed again once the lease ran out.
type leaseQueue[T any] struct {
	what  string // for errors, e.g. "claim notices"
	due   string // SELECT … WHERE the row is due at $1 … ORDER BY … LIMIT $2, without a lock clause
	lease string // UPDATE … SET <the due column> = $1, attempts = attempts + 1 WHERE id = $2
	scan  func(rowScanner) (T, error)
	id    func(*T) any
	// leased records on a claimed row its counted attempt and its lease.
	leased func(*T, time.Time)
}

func (q leaseQueue[T]) claim(ctx context.Context, d *db, now time.Time, lease time.Duration, limit int) ([]T, error) {
	var out []T
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		lock := ""
		if d.dialect == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := tx.QueryContext(ctx, q.due+lock, micros(now), limit)
		if err != nil {
			return fmt.Errorf("sqlstore: %s: %w", q.what, err)
		}
		for rows.Next() {
			v, err := q.scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, v)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", q.what, err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", q.what, err)
		}
		until := now.Add(lease)
		for i := range out {
			if _, err := tx.ExecContext(ctx, q.lease, micros(until), q.id(&out[i])); err != nil {
				return fmt.Errorf("sqlstore: %s: %w", q.what, err)
			}
			q.leased(&out[i], fromMicros(micros(until)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
