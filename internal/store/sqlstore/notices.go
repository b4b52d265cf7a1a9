package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// notices implements store.Notices. The other roles queue their notices with
// queueNotices inside their own transactions.
type notices struct{ *db }

var _ store.Notices = (*notices)(nil)

const noticeColumns = `id, person_id, kind, merge_key, details_key_id, details, count, status, attempts, last_error,
	created_at, next_attempt_at, sent_at`

func scanNotice(row rowScanner) (store.Notice, error) {
	var (
		n                   store.Notice
		status              string
		created, next, sent int64
	)
	err := row.Scan(&n.ID, &n.PersonID, &n.Kind, &n.MergeKey, &n.Details.KeyID, &n.Details.Ciphertext, &n.Count, &status,
		&n.Attempts, &n.LastError, &created, &next, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Notice{}, store.ErrNotFound
	}
	if err != nil {
		return store.Notice{}, fmt.Errorf("sqlstore: scan notice: %w", err)
	}
	n.Status = store.NoticeStatus(status)
	n.CreatedAt, n.NextAttemptAt, n.SentAt = fromMicros(created), fromMicros(next), fromMicros(sent)
	return n, nil
}

// queueNotices stores the notices inside tx, merging each into an existing
// notice with its merge key.
func queueNotices(ctx context.Context, tx *sql.Tx, notices []store.Notice) error {
	for _, n := range notices {
		if n.ID == "" || n.MergeKey == "" || n.PersonID == 0 || n.Kind == "" {
			return fmt.Errorf("sqlstore: queue notice: id, merge key, person and kind are required")
		}
		var id string
		err := tx.QueryRowContext(ctx, `INSERT INTO notices (`+noticeColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, 1, 'queued', 0, '', $7, $8, 0)
			ON CONFLICT (merge_key) DO UPDATE SET count = notices.count + 1
			RETURNING id`,
			n.ID, int64(n.PersonID), n.Kind, n.MergeKey, n.Details.KeyID, nonNil(n.Details.Ciphertext),
			micros(n.CreatedAt), micros(n.CreatedAt)).Scan(&id)
		if err != nil {
			return fmt.Errorf("sqlstore: queue notice: %w", err)
		}
		if err := fileNoticeThread(ctx, tx, id, n); err != nil {
			return err
		}
	}
	return nil
}

// fileNoticeThread files the notice id (n, or the queued notice n merged
// into) in the person's mailbox, inside tx: one thread per notice with one
// message from "notice", whose text the mailbox tells from the notice. A
// merged repeat makes the message unread again and brings the thread to
// the top of the inbox, out of the archive.
func fileNoticeThread(ctx context.Context, tx *sql.Tx, id string, n store.Notice) error {
	thread, msg, at := "thr_"+id, "msg_"+id, micros(n.CreatedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO mail_threads (id, person_id, subject_key_id, subject, notice_id, reply_by,
		archived, created_at, last_at) VALUES ($1, $2, '', $3, $4, 0, $5, $6, $6)
		ON CONFLICT (notice_id) WHERE notice_id <> '' DO UPDATE SET last_at = excluded.last_at, archived = excluded.archived`,
		thread, int64(n.PersonID), []byte{}, id, false, at); err != nil {
		return fmt.Errorf("sqlstore: file notice in the mailbox: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mail_messages (`+messageColumns+`)
		VALUES ($1, $2, $3, 'to_person', 'notice', '', $4, $5, 0)
		ON CONFLICT (id) DO UPDATE SET read_at = 0, created_at = excluded.created_at`,
		msg, thread, int64(n.PersonID), []byte{}, at); err != nil {
		return fmt.Errorf("sqlstore: file notice in the mailbox: %w", err)
	}
	return queueMessageMail(ctx, tx, n.PersonID, msg, n.CreatedAt)
}

// QueueNotice implements store.Notices.
func (s *notices) QueueNotice(ctx context.Context, n store.Notice) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return queueNotices(ctx, tx, []store.Notice{n}) })
}

// ClaimNotices implements store.Notices: the due rows are selected and their
// lease written in one transaction (PostgreSQL skips rows another node holds
// locked; SQLite has one writer).
func (s *notices) ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error) {
	return leaseQueue[store.Notice]{
		what: "claim notices",
		due: "SELECT " + noticeColumns + ` FROM notices
			WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`,
		lease:  `UPDATE notices SET next_attempt_at = $1, attempts = attempts + 1 WHERE id = $2`,
		scan:   scanNotice,
		id:     func(n *store.Notice) any { return n.ID },
		leased: func(n *store.Notice, until time.Time) { n.Attempts, n.NextAttemptAt = n.Attempts+1, until },
	}.claim(ctx, s.db, now, lease, limit)
}

// FinishNotice implements store.Notices.
func (s *notices) FinishNotice(ctx context.Context, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE notices SET status = 'sent', sent_at = $1, last_error = ''
		WHERE id = $2 AND status = 'queued'`, micros(now), id)
	if err != nil {
		return fmt.Errorf("sqlstore: finish notice: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: finish notice: %w", err)
	} else if n == 0 {
		_, err := s.NoticeByID(ctx, id)
		return err
	}
	return nil
}

// RetryNotice implements store.Notices.
func (s *notices) RetryNotice(ctx context.Context, id string, next time.Time, reason string) error {
	if len(reason) > 200 {
		reason = reason[:200]
	}
	res, err := s.exec(ctx, `UPDATE notices SET next_attempt_at = $1, last_error = $2
		WHERE id = $3 AND status = 'queued'`, micros(next), reason, id)
	if err != nil {
		return fmt.Errorf("sqlstore: retry notice: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: retry notice: %w", err)
	} else if n == 0 {
		_, err := s.NoticeByID(ctx, id)
		return err
	}
	return nil
}

// NoticeByID implements store.Notices.
func (s *notices) NoticeByID(ctx context.Context, id string) (store.Notice, error) {
	return scanNotice(s.r.QueryRowContext(ctx, "SELECT "+noticeColumns+" FROM notices WHERE id = $1", id))
}

// PersonNotices implements store.Notices.
func (s *notices) PersonNotices(ctx context.Context, id store.PersonID, limit int) ([]store.Notice, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+noticeColumns+` FROM notices WHERE person_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, int64(id), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: person notices: %w", err)
	}
	defer rows.Close()
	var out []store.Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: person notices: %w", err)
	}
	return out, nil
}
