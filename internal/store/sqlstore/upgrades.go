package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// upgrades implements store.Upgrades.
type upgrades struct{ *db }

var _ store.Upgrades = (*upgrades)(nil)

// UpgradeDone implements store.Upgrades.
func (s *upgrades) UpgradeDone(ctx context.Context, name string) (bool, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, "SELECT done_at FROM data_upgrades WHERE name = $1", name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: upgrade %s: %w", name, err)
	}
	return true, nil
}

// MarkUpgradeDone implements store.Upgrades.
func (s *upgrades) MarkUpgradeDone(ctx context.Context, name string, at time.Time) error {
	_, err := s.exec(ctx, "INSERT INTO data_upgrades (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
		name, micros(at))
	if err != nil {
		return fmt.Errorf("sqlstore: mark upgrade %s: %w", name, err)
	}
	return nil
}

// RewriteIBANs implements store.Upgrades.
func (s *upgrades) RewriteIBANs(ctx context.Context, after store.PersonID, limit int,
	fn func(id store.PersonID, kvnr string, iban store.Sealed) (store.Sealed, bool, error)) (store.PersonID, int, error) {
	var (
		last      store.PersonID
		rewritten int
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		last, rewritten = after, 0
		type row struct {
			id   store.PersonID
			kvnr string
			iban store.Sealed
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, kvnr, iban_key_id, iban_sealed FROM persons
			WHERE id > $1 AND iban_key_id <> '' ORDER BY id LIMIT $2`+s.forUpdate(), int64(after), limit)
		if err != nil {
			return fmt.Errorf("sqlstore: rewrite ibans: %w", err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.kvnr, &r.iban.KeyID, &r.iban.Ciphertext); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: rewrite ibans: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: rewrite ibans: %w", err)
		}
		for _, r := range batch {
			next, changed, err := fn(r.id, r.kvnr, r.iban)
			if err != nil {
				return err
			}
			last = r.id
			if !changed {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE persons SET iban_key_id = $1, iban_sealed = $2 WHERE id = $3",
				next.KeyID, nonNil(next.Ciphertext), int64(r.id)); err != nil {
				return fmt.Errorf("sqlstore: rewrite iban of person %d: %w", r.id, err)
			}
			rewritten++
		}
		return nil
	})
	if err != nil {
		return after, 0, err
	}
	return last, rewritten, nil
}

// RewriteOutboxPayloads implements store.Upgrades.
func (s *upgrades) RewriteOutboxPayloads(ctx context.Context, after int64, limit int,
	fn func(e store.OutboxEvent) ([]byte, bool, error)) (int64, int, error) {
	var (
		last      int64
		rewritten int
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		last, rewritten = after, 0
		rows, err := tx.QueryContext(ctx, `SELECT seq, id, type, person_id, payload, created_at FROM outbox
			WHERE seq > $1 ORDER BY seq LIMIT $2`+s.forUpdate(), after, limit)
		if err != nil {
			return fmt.Errorf("sqlstore: rewrite outbox: %w", err)
		}
		var batch []store.OutboxEvent
		for rows.Next() {
			var (
				e       store.OutboxEvent
				created int64
			)
			if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &e.PersonID, &e.Payload, &created); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: rewrite outbox: %w", err)
			}
			e.CreatedAt = fromMicros(created)
			batch = append(batch, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: rewrite outbox: %w", err)
		}
		for _, e := range batch {
			next, changed, err := fn(e)
			if err != nil {
				return err
			}
			last = e.Seq
			if !changed {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE outbox SET payload = $1 WHERE seq = $2", nonNil(next), e.Seq); err != nil {
				return fmt.Errorf("sqlstore: rewrite outbox event %s: %w", e.ID, err)
			}
			rewritten++
		}
		return nil
	})
	if err != nil {
		return after, 0, err
	}
	return last, rewritten, nil
}
