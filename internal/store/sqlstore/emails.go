package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// emails implements store.Emails: the persons' addresses and the mail
// queue. Mailbox messages queue their mail with queueMessageMail inside
// the transaction that stores them.
type emails struct{ *db }

const emailColumns = `person_id, address_key_id, address, confirmed_at, pending_key_id, pending, pending_hash,
	pending_token_key, pending_token, pending_until, notify, unsubscribe_hash, unsubscribe_key_id, unsubscribe, updated_at`

func scanEmail(row rowScanner) (store.Email, error) {
	var (
		e                            store.Email
		confirmed, until, updated    int64
		pendingHash, unsubscribeHash []byte
	)
	err := row.Scan(&e.PersonID, &e.Address.KeyID, &e.Address.Ciphertext, &confirmed, &e.Pending.KeyID, &e.Pending.Ciphertext,
		&pendingHash, &e.PendingToken.KeyID, &e.PendingToken.Ciphertext, &until, &e.Notify, &unsubscribeHash,
		&e.Unsubscribe.KeyID, &e.Unsubscribe.Ciphertext, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Email{}, store.ErrNotFound
	}
	if err != nil {
		return store.Email{}, fmt.Errorf("sqlstore: scan email: %w", err)
	}
	for _, s := range []*store.Sealed{&e.Address, &e.Pending, &e.PendingToken, &e.Unsubscribe} {
		if len(s.Ciphertext) == 0 {
			s.Ciphertext = nil
		}
	}
	if len(pendingHash) > 0 {
		e.PendingHash = pendingHash
	}
	if len(unsubscribeHash) > 0 {
		e.UnsubscribeHash = unsubscribeHash
	}
	e.ConfirmedAt, e.PendingUntil, e.UpdatedAt = fromMicros(confirmed), fromMicros(until), fromMicros(updated)
	return e, nil
}

// EmailByPerson implements store.Emails.
func (s *emails) EmailByPerson(ctx context.Context, id store.PersonID) (store.Email, error) {
	return scanEmail(s.r.QueryRowContext(ctx, "SELECT "+emailColumns+" FROM emails WHERE person_id = $1", int64(id)))
}

// EmailByPendingHash implements store.Emails.
func (s *emails) EmailByPendingHash(ctx context.Context, hash []byte) (store.Email, error) {
	if len(hash) == 0 {
		return store.Email{}, store.ErrNotFound
	}
	return scanEmail(s.r.QueryRowContext(ctx, "SELECT "+emailColumns+" FROM emails WHERE pending_hash = $1", hash))
}

// EmailByUnsubscribeHash implements store.Emails.
func (s *emails) EmailByUnsubscribeHash(ctx context.Context, hash []byte) (store.Email, error) {
	if len(hash) == 0 {
		return store.Email{}, store.ErrNotFound
	}
	return scanEmail(s.r.QueryRowContext(ctx, "SELECT "+emailColumns+" FROM emails WHERE unsubscribe_hash = $1", hash))
}

// UpdateEmail implements store.Emails.
func (s *emails) UpdateEmail(ctx context.Context, id store.PersonID, fn func(e *store.Email) error, queue ...store.OutMail) (store.Email, error) {
	var out store.Email
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = updateEmail(ctx, tx, s.forUpdate(), id, fn, queue)
		return err
	})
	return out, err
}

// updateEmail is UpdateEmail inside tx; lock is the row lock clause.
func updateEmail(ctx context.Context, tx *sql.Tx, lock string, id store.PersonID, fn func(e *store.Email) error, queue []store.OutMail) (store.Email, error) {
	var exists int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM persons WHERE id = $1"+lock, int64(id)).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Email{}, store.ErrNotFound
	}
	if err != nil {
		return store.Email{}, fmt.Errorf("sqlstore: update email: %w", err)
	}
	cur, err := scanEmail(tx.QueryRowContext(ctx, "SELECT "+emailColumns+" FROM emails WHERE person_id = $1", int64(id)))
	fresh := errors.Is(err, store.ErrNotFound)
	if fresh {
		cur, err = store.Email{PersonID: id, Notify: true}, nil
	}
	if err != nil {
		return store.Email{}, err
	}
	next := cur
	if err := fn(&next); err != nil {
		return store.Email{}, err
	}
	next.PersonID = id
	args := []any{int64(id), next.Address.KeyID, nonNil(next.Address.Ciphertext), micros(next.ConfirmedAt),
		next.Pending.KeyID, nonNil(next.Pending.Ciphertext), nullBytes(next.PendingHash), next.PendingToken.KeyID,
		nonNil(next.PendingToken.Ciphertext), micros(next.PendingUntil), next.Notify, nullBytes(next.UnsubscribeHash),
		next.Unsubscribe.KeyID, nonNil(next.Unsubscribe.Ciphertext), micros(next.UpdatedAt)}
	if fresh {
		_, err = tx.ExecContext(ctx, `INSERT INTO emails (`+emailColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, args...)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE emails SET address_key_id = $2, address = $3, confirmed_at = $4,
			pending_key_id = $5, pending = $6, pending_hash = $7, pending_token_key = $8, pending_token = $9,
			pending_until = $10, notify = $11, unsubscribe_hash = $12, unsubscribe_key_id = $13, unsubscribe = $14,
			updated_at = $15 WHERE person_id = $1`, args...)
	}
	if isUniqueViolation(err) {
		return store.Email{}, store.ErrConflict
	}
	if err != nil {
		return store.Email{}, fmt.Errorf("sqlstore: update email: %w", err)
	}
	for _, m := range queue {
		if err := queueMail(ctx, tx, m); err != nil {
			return store.Email{}, err
		}
	}
	return next, nil
}

const mailColumns = `id, person_id, kind, ref, status, attempts, last_error, created_at, next_attempt_at, done_at`

func scanMail(row rowScanner) (store.OutMail, error) {
	var (
		m                   store.OutMail
		kind, status        string
		created, next, done int64
	)
	err := row.Scan(&m.ID, &m.PersonID, &kind, &m.Ref, &status, &m.Attempts, &m.LastError, &created, &next, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return store.OutMail{}, store.ErrNotFound
	}
	if err != nil {
		return store.OutMail{}, fmt.Errorf("sqlstore: scan mail: %w", err)
	}
	m.Kind, m.Status = store.OutMailKind(kind), store.OutMailStatus(status)
	m.CreatedAt, m.NextAttemptAt, m.DoneAt = fromMicros(created), fromMicros(next), fromMicros(done)
	return m, nil
}

// queueMail stores m as queued inside tx; a mail whose id exists stays as
// it is.
func queueMail(ctx context.Context, tx *sql.Tx, m store.OutMail) error {
	if m.ID == "" || m.PersonID == 0 || (m.Kind != store.OutMailMessage && m.Kind != store.OutMailConfirm) || m.CreatedAt.IsZero() {
		return errors.New("sqlstore: queue mail: id, person, kind and time are required")
	}
	next := m.NextAttemptAt
	if next.IsZero() {
		next = m.CreatedAt
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_queue (`+mailColumns+`)
		VALUES ($1, $2, $3, $4, 'queued', 0, '', $5, $6, 0) ON CONFLICT (id) DO NOTHING`,
		m.ID, int64(m.PersonID), string(m.Kind), m.Ref, micros(m.CreatedAt), micros(next))
	if err != nil {
		return fmt.Errorf("sqlstore: queue mail: %w", err)
	}
	return nil
}

// queueMessageMail queues, inside tx, the mail that tells person of the
// mailbox message msg, if the person has a confirmed address with notices
// on (the contract of store.Emails).
func queueMessageMail(ctx context.Context, tx *sql.Tx, person store.PersonID, msg string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_queue (`+mailColumns+`)
		SELECT $1, person_id, 'message', $2, 'queued', 0, '', $3, $3, 0 FROM emails
		WHERE person_id = $4 AND confirmed_at <> 0 AND notify = $5
		ON CONFLICT (id) DO NOTHING`,
		store.MailIDForMessage(msg), msg, micros(at), int64(person), true)
	if err != nil {
		return fmt.Errorf("sqlstore: queue mail for message: %w", err)
	}
	return nil
}

// ClaimMails implements store.Emails, as ClaimNotices does: the due rows
// are selected and leased in one transaction (PostgreSQL skips rows
// another node holds locked; SQLite has one writer).
func (s *emails) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutMail, error) {
	return leaseQueue[store.OutMail]{
		what: "claim mails",
		due: "SELECT " + mailColumns + ` FROM mail_queue
			WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`,
		lease:  `UPDATE mail_queue SET next_attempt_at = $1, attempts = attempts + 1 WHERE id = $2`,
		scan:   scanMail,
		id:     func(m *store.OutMail) any { return m.ID },
		leased: func(m *store.OutMail, until time.Time) { m.Attempts, m.NextAttemptAt = m.Attempts+1, until },
	}.claim(ctx, s.db, now, lease, limit)
}

func clip(reason string) string {
	if len(reason) > 200 {
		return reason[:200]
	}
	return reason
}

// FinishMail implements store.Emails.
func (s *emails) FinishMail(ctx context.Context, id string, status store.OutMailStatus, now time.Time, reason string) error {
	if status != store.OutMailSent && status != store.OutMailFailed && status != store.OutMailDropped {
		return fmt.Errorf("sqlstore: finish mail: status %q", status)
	}
	n, err := s.execCount(ctx, "finish mail", `UPDATE mail_queue SET status = $1, done_at = $2, last_error = $3
		WHERE id = $4 AND status = 'queued'`, string(status), micros(now), clip(reason), id)
	if err != nil {
		return err
	}
	if n == 0 {
		_, err := s.MailByID(ctx, id)
		return err
	}
	return nil
}

// RetryMail implements store.Emails.
func (s *emails) RetryMail(ctx context.Context, id string, next time.Time, reason string) error {
	n, err := s.execCount(ctx, "retry mail", `UPDATE mail_queue SET next_attempt_at = $1, last_error = $2
		WHERE id = $3 AND status = 'queued'`, micros(next), clip(reason), id)
	if err != nil {
		return err
	}
	if n == 0 {
		_, err := s.MailByID(ctx, id)
		return err
	}
	return nil
}

// MailByID implements store.Emails.
func (s *emails) MailByID(ctx context.Context, id string) (store.OutMail, error) {
	return scanMail(s.r.QueryRowContext(ctx, "SELECT "+mailColumns+" FROM mail_queue WHERE id = $1", id))
}
