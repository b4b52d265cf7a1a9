package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// mailbox implements store.Mailbox. Notices file their thread through
// fileNoticeThreads inside the transaction that queues them.
type mailbox struct{ *db }

var _ store.Mailbox = (*mailbox)(nil)

// threadSelect reads a thread with its notice (if any); fillCounts adds
// the counts of its messages.
const threadSelect = `SELECT t.id, t.person_id, t.subject_key_id, t.subject, t.notice_id, t.reply_by, t.archived,
	t.created_at, t.last_at, COALESCE(n.kind, ''), COALESCE(n.details_key_id, ''), n.details, COALESCE(n.count, 0)
	FROM mail_threads t LEFT JOIN notices n ON n.id = t.notice_id`

func scanThread(row rowScanner) (store.MailThread, error) {
	var (
		t                             store.MailThread
		replyBy, created, last, count int64
		noticeDetails                 []byte
	)
	err := row.Scan(&t.ID, &t.PersonID, &t.Subject.KeyID, &t.Subject.Ciphertext, &t.NoticeID, &replyBy, &t.Archived,
		&created, &last, &t.NoticeKind, &t.NoticeDetails.KeyID, &noticeDetails, &count)
	if errors.Is(err, sql.ErrNoRows) {
		return store.MailThread{}, store.ErrNotFound
	}
	if err != nil {
		return store.MailThread{}, fmt.Errorf("sqlstore: scan mail thread: %w", err)
	}
	if len(noticeDetails) > 0 {
		t.NoticeDetails.Ciphertext = noticeDetails
	}
	t.ReplyBy, t.CreatedAt, t.LastAt = fromMicros(replyBy), fromMicros(created), fromMicros(last)
	t.NoticeCount = int(count)
	return t, nil
}

// fillCounts adds to each thread the counts of its messages, in one
// grouped query over the threads' ids.
func (s *mailbox) fillCounts(ctx context.Context, threads []store.MailThread) error {
	if len(threads) == 0 {
		return nil
	}
	at := make(map[string]int, len(threads))
	args := make([]any, 0, len(threads))
	var in strings.Builder
	for i, t := range threads {
		at[t.ID] = i
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString(s.placeholder(i + 1))
		args = append(args, t.ID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT thread_id, count(*),
		COALESCE(sum(CASE WHEN direction = 'to_person' AND read_at = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN direction = 'from_person' AND read_at = 0 THEN 1 ELSE 0 END), 0)
		FROM mail_messages WHERE thread_id IN (`+in.String()+`) GROUP BY thread_id`, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: mail thread counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                    string
			all, unread, forStaff int64
		)
		if err := rows.Scan(&id, &all, &unread, &forStaff); err != nil {
			return fmt.Errorf("sqlstore: mail thread counts: %w", err)
		}
		if i, ok := at[id]; ok {
			threads[i].Messages, threads[i].Unread, threads[i].UnreadByStaff = int(all), int(unread), int(forStaff)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: mail thread counts: %w", err)
	}
	return nil
}

const messageColumns = `id, thread_id, person_id, direction, author, body_key_id, body, created_at, read_at`

func scanMessage(row rowScanner) (store.MailMessage, error) {
	var (
		m             store.MailMessage
		dir           string
		created, read int64
	)
	if err := row.Scan(&m.ID, &m.ThreadID, &m.PersonID, &dir, &m.Author, &m.Body.KeyID, &m.Body.Ciphertext, &created, &read); err != nil {
		return store.MailMessage{}, fmt.Errorf("sqlstore: scan mail message: %w", err)
	}
	m.Direction = store.MailDirection(dir)
	m.CreatedAt, m.ReadAt = fromMicros(created), fromMicros(read)
	return m, nil
}

func checkMessage(m store.MailMessage) error {
	if m.ID == "" || m.ThreadID == "" || m.PersonID == 0 || !m.Direction.Valid() || m.CreatedAt.IsZero() {
		return errors.New("sqlstore: mail message: id, thread, person, direction and time are required")
	}
	for _, a := range m.Attachments {
		if a.ID == "" || a.Type == "" || a.Size < 0 {
			return errors.New("sqlstore: mail attachment: id and type are required")
		}
	}
	return nil
}

// insertMessage stores m and its attachments inside tx.
func insertMessage(ctx context.Context, tx *sql.Tx, m store.MailMessage) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_messages (`+messageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ID, m.ThreadID, int64(m.PersonID), string(m.Direction), m.Author, m.Body.KeyID, nonNil(m.Body.Ciphertext),
		micros(m.CreatedAt), micros(m.ReadAt))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add mail message: %w", err)
	}
	for i, a := range m.Attachments {
		_, err := tx.ExecContext(ctx, `INSERT INTO mail_attachments (id, message_id, position, type, size, name_key_id, name,
			content_key_id, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			a.ID, m.ID, i, a.Type, a.Size, a.Name.KeyID, nonNil(a.Name.Ciphertext), a.Content.KeyID, nonNil(a.Content.Ciphertext))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add mail attachment: %w", err)
		}
	}
	if m.Direction == store.MailToPerson {
		return queueMessageMail(ctx, tx, m.PersonID, m.ID, m.CreatedAt)
	}
	return nil
}

// CreateMailThread implements store.Mailbox.
func (s *mailbox) CreateMailThread(ctx context.Context, t store.MailThread, m store.MailMessage) error {
	if t.ID == "" || t.PersonID == 0 || t.CreatedAt.IsZero() || m.ThreadID != t.ID || m.PersonID != t.PersonID {
		return errors.New("sqlstore: create mail thread: id, person and time are required, and the message must belong to it")
	}
	if err := checkMessage(m); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM persons WHERE id = $1`, int64(t.PersonID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create mail thread: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mail_threads (id, person_id, subject_key_id, subject, notice_id, reply_by,
			archived, created_at, last_at) VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8)`,
			t.ID, int64(t.PersonID), t.Subject.KeyID, nonNil(t.Subject.Ciphertext), micros(t.ReplyBy), false,
			micros(t.CreatedAt), micros(m.CreatedAt))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create mail thread: %w", err)
		}
		return insertMessage(ctx, tx, m)
	})
}

// AddMailMessage implements store.Mailbox.
func (s *mailbox) AddMailMessage(ctx context.Context, m store.MailMessage) error {
	if err := checkMessage(m); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_threads SET last_at = CASE WHEN last_at < $1 THEN $1 ELSE last_at END, archived = $2 WHERE id = $3 AND person_id = $4`,
			micros(m.CreatedAt), false, m.ThreadID, int64(m.PersonID))
		if err != nil {
			return fmt.Errorf("sqlstore: add mail message: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: add mail message: %w", err)
		} else if n == 0 {
			return store.ErrNotFound
		}
		return insertMessage(ctx, tx, m)
	})
}

// MailThreads implements store.Mailbox.
func (s *mailbox) MailThreads(ctx context.Context, person store.PersonID, q store.MailThreadQuery) ([]store.MailThread, error) {
	before, beforeID := int64(math.MaxInt64), ""
	if !q.BeforeAt.IsZero() {
		before, beforeID = micros(q.BeforeAt), q.BeforeID
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	rows, err := s.r.QueryContext(ctx, threadSelect+` WHERE t.person_id = $1 AND t.archived = $2
		AND (t.last_at < $3 OR (t.last_at = $3 AND t.id < $4))
		ORDER BY t.last_at DESC, t.id DESC LIMIT $5`, int64(person), q.Archived, before, beforeID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mail threads: %w", err)
	}
	threads, err := collectThreads(rows)
	if err != nil {
		return nil, err
	}
	return threads, s.fillCounts(ctx, threads)
}

func collectThreads(rows *sql.Rows) ([]store.MailThread, error) {
	defer rows.Close()
	var out []store.MailThread
	for rows.Next() {
		t, err := scanThread(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: mail threads: %w", err)
	}
	return out, nil
}

// MailThread implements store.Mailbox.
func (s *mailbox) MailThread(ctx context.Context, person store.PersonID, id string) (store.MailThread, []store.MailMessage, error) {
	t, err := scanThread(s.r.QueryRowContext(ctx, threadSelect+` WHERE t.id = $1 AND t.person_id = $2`, id, int64(person)))
	if err != nil {
		return store.MailThread{}, nil, err
	}
	one := []store.MailThread{t}
	if err := s.fillCounts(ctx, one); err != nil {
		return store.MailThread{}, nil, err
	}
	t = one[0]
	rows, err := s.r.QueryContext(ctx, "SELECT "+messageColumns+` FROM mail_messages WHERE thread_id = $1
		ORDER BY created_at, id`, id)
	if err != nil {
		return store.MailThread{}, nil, fmt.Errorf("sqlstore: mail thread: %w", err)
	}
	msgs, err := collectMessages(rows)
	if err != nil {
		return store.MailThread{}, nil, err
	}
	byID := make(map[string]int, len(msgs))
	for i, m := range msgs {
		byID[m.ID] = i
	}
	arows, err := s.r.QueryContext(ctx, `SELECT a.id, a.message_id, a.type, a.size, a.name_key_id, a.name
		FROM mail_attachments a JOIN mail_messages m ON m.id = a.message_id
		WHERE m.thread_id = $1 ORDER BY a.message_id, a.position`, id)
	if err != nil {
		return store.MailThread{}, nil, fmt.Errorf("sqlstore: mail attachments: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var a store.MailAttachment
		if err := arows.Scan(&a.ID, &a.MessageID, &a.Type, &a.Size, &a.Name.KeyID, &a.Name.Ciphertext); err != nil {
			return store.MailThread{}, nil, fmt.Errorf("sqlstore: mail attachments: %w", err)
		}
		if i, ok := byID[a.MessageID]; ok {
			msgs[i].Attachments = append(msgs[i].Attachments, a)
		}
	}
	if err := arows.Err(); err != nil {
		return store.MailThread{}, nil, fmt.Errorf("sqlstore: mail attachments: %w", err)
	}
	return t, msgs, nil
}

func collectMessages(rows *sql.Rows) ([]store.MailMessage, error) {
	defer rows.Close()
	var out []store.MailMessage
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: mail messages: %w", err)
	}
	return out, nil
}

// MailThreadOwner implements store.Mailbox.
func (s *mailbox) MailThreadOwner(ctx context.Context, id string) (store.PersonID, error) {
	var p int64
	err := s.r.QueryRowContext(ctx, `SELECT person_id FROM mail_threads WHERE id = $1`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: mail thread owner: %w", err)
	}
	return store.PersonID(p), nil
}

// MarkMailRead implements store.Mailbox.
func (s *mailbox) MarkMailRead(ctx context.Context, person store.PersonID, thread string, dir store.MailDirection, now time.Time) (int, error) {
	n, err := s.execCount(ctx, "mark mail read", `UPDATE mail_messages SET read_at = $1
		WHERE thread_id = $2 AND person_id = $3 AND direction = $4 AND read_at = 0`, micros(now), thread, int64(person), string(dir))
	return int(n), err
}

// SetMailArchived implements store.Mailbox.
func (s *mailbox) SetMailArchived(ctx context.Context, person store.PersonID, thread string, archived bool) error {
	n, err := s.execCount(ctx, "archive mail thread", `UPDATE mail_threads SET archived = $1 WHERE id = $2 AND person_id = $3`,
		archived, thread, int64(person))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// MailAttachment implements store.Mailbox.
func (s *mailbox) MailAttachment(ctx context.Context, person store.PersonID, id string) (store.MailAttachment, error) {
	var a store.MailAttachment
	err := s.r.QueryRowContext(ctx, `SELECT a.id, a.message_id, a.type, a.size, a.name_key_id, a.name, a.content_key_id, a.content
		FROM mail_attachments a JOIN mail_messages m ON m.id = a.message_id
		WHERE a.id = $1 AND m.person_id = $2`, id, int64(person)).Scan(&a.ID, &a.MessageID, &a.Type, &a.Size,
		&a.Name.KeyID, &a.Name.Ciphertext, &a.Content.KeyID, &a.Content.Ciphertext)
	if errors.Is(err, sql.ErrNoRows) {
		return store.MailAttachment{}, store.ErrNotFound
	}
	if err != nil {
		return store.MailAttachment{}, fmt.Errorf("sqlstore: mail attachment: %w", err)
	}
	return a, nil
}

// MailUnread implements store.Mailbox.
func (s *mailbox) MailUnread(ctx context.Context, person store.PersonID) (int, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM mail_messages
		WHERE person_id = $1 AND direction = 'to_person' AND read_at = 0`, int64(person)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: mail unread: %w", err)
	}
	return int(n), nil
}

// MailMessages implements store.Mailbox.
func (s *mailbox) MailMessages(ctx context.Context, person store.PersonID, limit int) ([]store.MailMessage, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+messageColumns+` FROM mail_messages WHERE person_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, int64(person), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mail messages: %w", err)
	}
	return collectMessages(rows)
}

// StaffMailInbox implements store.Mailbox.
func (s *mailbox) StaffMailInbox(ctx context.Context, limit int) ([]store.MailThread, error) {
	rows, err := s.r.QueryContext(ctx, threadSelect+` WHERE t.id IN (SELECT thread_id FROM mail_messages
		WHERE direction = 'from_person' AND read_at = 0)
		ORDER BY (SELECT min(created_at) FROM mail_messages m WHERE m.thread_id = t.id AND m.direction = 'from_person'
		AND m.read_at = 0), t.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: staff mail inbox: %w", err)
	}
	threads, err := collectThreads(rows)
	if err != nil {
		return nil, err
	}
	return threads, s.fillCounts(ctx, threads)
}
