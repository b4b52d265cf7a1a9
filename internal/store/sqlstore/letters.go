package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// letters implements store.Letters.
type letters struct{ *db }

var _ store.Letters = (*letters)(nil)

const letterColumns = `id, person_id, kind, status, address, secrets_key_id, secrets_sealed, batch_id,
	created_at, expires_at, updated_at, language`

func scanLetter(row rowScanner) (store.Letter, error) {
	var (
		l                 store.Letter
		status            string
		sealed            []byte
		created, exp, upd int64
	)
	err := row.Scan(&l.ID, &l.PersonID, &l.Kind, &status, &l.Address, &l.Secrets.KeyID, &sealed, &l.BatchID, &created, &exp, &upd,
		&l.Language)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Letter{}, store.ErrNotFound
	}
	if err != nil {
		return store.Letter{}, fmt.Errorf("sqlstore: scan letter: %w", err)
	}
	if len(sealed) > 0 {
		l.Secrets.Ciphertext = sealed
	}
	l.Status = store.LetterStatus(status)
	l.CreatedAt, l.ExpiresAt, l.UpdatedAt = fromMicros(created), fromMicros(exp), fromMicros(upd)
	return l, nil
}

// QueueLetter implements store.Letters. The day's counter row is the lock: every
// letter creation serialises on it, which makes both the per-person window and
// the global daily cap exact across nodes. Letters are rare enough for that.
// The codes' writes (writeLetterCodes) run in the same transaction, after
// the letter's: a failure anywhere rolls back the letter and the superseding.
func (s *letters) QueueLetter(ctx context.Context, l store.Letter, kinds []string, since time.Time, day string,
	check func(store.LetterCounts) error, codes store.LetterCodes) ([]string, error) {
	var superseded []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		superseded = nil
		key := "letters:day:" + day
		if _, err := tx.ExecContext(ctx, `INSERT INTO counters (key, value, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (key) DO NOTHING`, key, micros(l.CreatedAt)); err != nil {
			return fmt.Errorf("sqlstore: letter day counter: %w", err)
		}
		var counts store.LetterCounts
		if err := tx.QueryRowContext(ctx, "SELECT value FROM counters WHERE key = $1"+s.forUpdate(), key).Scan(&counts.Day); err != nil {
			return fmt.Errorf("sqlstore: letter day counter: %w", err)
		}
		if len(kinds) > 0 {
			q, args := inList("SELECT COUNT(*) FROM letters WHERE person_id = $1 AND created_at >= $2 AND kind IN ", 3, kinds)
			args = append([]any{int64(l.PersonID), micros(since)}, args...)
			if err := tx.QueryRowContext(ctx, q, args...).Scan(&counts.PersonSince); err != nil {
				return fmt.Errorf("sqlstore: count letters: %w", err)
			}
		}
		if err := check(counts); err != nil {
			return err
		}
		if len(kinds) == 0 {
			if err := s.insertLetter(ctx, tx, l, key); err != nil {
				return err
			}
			return s.writeLetterCodes(ctx, tx, l, codes)
		}
		q, args := inList(`SELECT id FROM letters WHERE person_id = $1 AND status IN ('queued', 'review', 'handed_over')
			AND kind IN `, 2, []string{l.Kind})
		args = append([]any{int64(l.PersonID)}, args...)
		rows, err := tx.QueryContext(ctx, q+" ORDER BY id", args...)
		if err != nil {
			return fmt.Errorf("sqlstore: earlier letters: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: earlier letters: %w", err)
			}
			superseded = append(superseded, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: earlier letters: %w", err)
		}
		for _, id := range superseded {
			if _, err := tx.ExecContext(ctx, `UPDATE letters SET status = 'superseded', secrets_key_id = '',
				secrets_sealed = NULL, updated_at = $1 WHERE id = $2`, micros(l.CreatedAt), id); err != nil {
				return fmt.Errorf("sqlstore: supersede letter: %w", err)
			}
		}
		if err := s.insertLetter(ctx, tx, l, key); err != nil {
			return err
		}
		return s.writeLetterCodes(ctx, tx, l, codes)
	})
	if err != nil {
		return nil, err
	}
	return superseded, nil
}

// insertLetter stores l and counts it under the day counter key.
func (s *letters) insertLetter(ctx context.Context, tx *sql.Tx, l store.Letter, key string) error {
	var sealed []byte
	if !l.Secrets.IsZero() {
		sealed = l.Secrets.Ciphertext
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO letters (`+letterColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		l.ID, int64(l.PersonID), l.Kind, string(l.Status), l.Address, l.Secrets.KeyID, sealed, l.BatchID,
		micros(l.CreatedAt), micros(l.ExpiresAt), micros(l.CreatedAt), l.Language)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: insert letter: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE counters SET value = value + 1, updated_at = $1 WHERE key = $2",
		micros(l.CreatedAt), key); err != nil {
		return fmt.Errorf("sqlstore: letter day counter: %w", err)
	}
	return nil
}

// writeLetterCodes makes the writes of l's codes inside the letter's
// transaction: the earlier codes voided, the new ones stored, the account
// updated, the intake request that caused the letter deleted
// (store.LetterCodes).
func (s *letters) writeLetterCodes(ctx context.Context, tx *sql.Tx, l store.Letter, codes store.LetterCodes) error {
	for _, kind := range codes.Void {
		if _, err := voidOneTimes(ctx, tx, kind, codes.Subject, l.CreatedAt); err != nil {
			return err
		}
	}
	for _, v := range codes.Put {
		if err := putOneTime(ctx, tx, v); err != nil {
			return err
		}
	}
	if codes.Account != nil {
		if _, err := updateAccountTx(ctx, tx, s.db, l.PersonID, l.CreatedAt, codes.Account, false); err != nil {
			return err
		}
	}
	if codes.Intake != "" {
		return deleteIntakeTx(ctx, tx, codes.Intake)
	}
	return nil
}

// inList appends "($first, $first+1, …)" for values to prefix.
func inList(prefix string, first int, values []string) (string, []any) {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('(')
	args := make([]any, 0, len(values))
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
		args = append(args, v)
	}
	if len(values) == 0 {
		b.WriteString("NULL")
	}
	b.WriteByte(')')
	return b.String(), args
}

// LetterByID implements store.Letters.
func (s *letters) LetterByID(ctx context.Context, id string) (store.Letter, error) {
	return scanLetter(s.r.QueryRowContext(ctx, "SELECT "+letterColumns+" FROM letters WHERE id = $1", id))
}

func (s *letters) queryLetters(ctx context.Context, q string, args ...any) ([]store.Letter, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: letters: %w", err)
	}
	defer rows.Close()
	var out []store.Letter
	for rows.Next() {
		l, err := scanLetter(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: letters: %w", err)
	}
	return out, nil
}

// LettersByStatus implements store.Letters.
func (s *letters) LettersByStatus(ctx context.Context, status store.LetterStatus, limit int) ([]store.Letter, error) {
	return s.queryLetters(ctx, "SELECT "+letterColumns+" FROM letters WHERE status = $1 ORDER BY created_at, id LIMIT $2",
		string(status), limit)
}

// PersonLetters implements store.Letters.
func (s *letters) PersonLetters(ctx context.Context, id store.PersonID) ([]store.Letter, error) {
	return s.queryLetters(ctx, "SELECT "+letterColumns+" FROM letters WHERE person_id = $1 ORDER BY created_at DESC, id",
		int64(id))
}

// MarkHandedOver implements store.Letters.
func (s *letters) MarkHandedOver(ctx context.Context, ids []string, batchID string, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE letters SET status = 'handed_over', batch_id = $1,
				secrets_key_id = '', secrets_sealed = NULL, updated_at = $2 WHERE id = $3 AND status = 'queued'`,
				batchID, micros(now), id)
			if err != nil {
				return fmt.Errorf("sqlstore: hand over letter: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("sqlstore: hand over letter: %w", err)
			} else if n == 0 {
				return fmt.Errorf("sqlstore: letter %s is not queued: %w", id, store.ErrConflict)
			}
		}
		return nil
	})
}

// SetLetterStatus implements store.Letters.
func (s *letters) SetLetterStatus(ctx context.Context, id string, from, to store.LetterStatus, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE letters SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`,
		string(to), micros(now), id, string(from))
	if err != nil {
		return fmt.Errorf("sqlstore: letter status: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: letter status: %w", err)
	}
	if n == 0 {
		if _, err := s.LetterByID(ctx, id); err != nil {
			return err
		}
		return store.ErrConflict
	}
	return nil
}
