package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// approvals implements store.Approvals. An approval's executor writes persons and
// devices in the approving transaction (see approvalTx), so approvals holds those
// two roles.
type approvals struct {
	*db

	persons *persons
	devices *devices
}

var _ store.Approvals = (*approvals)(nil)

const approvalColumns = `id, person_id, action, text, data, content_hash, level, status, not_me, device_id, method,
	number, choices, client, created_at, expires_at, answered_at, used_at, decline_reason`

func scanApproval(row rowScanner) (store.Approval, error) {
	var (
		a                                store.Approval
		status, dev, choices, reason     string
		created, expires, answered, used int64
	)
	err := row.Scan(&a.ID, &a.PersonID, &a.Action, &a.Text, &a.Data, &a.ContentHash, &a.Level, &status, &a.NotMe, &dev,
		&a.Method, &a.Number, &choices, &a.Client, &created, &expires, &answered, &used, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Approval{}, store.ErrNotFound
	}
	if err != nil {
		return store.Approval{}, fmt.Errorf("sqlstore: scan approval: %w", err)
	}
	a.Status, a.DeviceID, a.DeclineReason = store.ApprovalStatus(status), store.DeviceID(dev), store.DeclineReason(reason)
	if a.Choices, err = decodeInts(choices); err != nil {
		return store.Approval{}, fmt.Errorf("sqlstore: scan approval: choices: %w", err)
	}
	a.CreatedAt, a.ExpiresAt, a.AnsweredAt, a.UsedAt = fromMicros(created), fromMicros(expires), fromMicros(answered), fromMicros(used)
	return a, nil
}

// encodeInts stores a short list of numbers as space-separated decimals.
func encodeInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, " ")
}

func decodeInts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	fields := strings.Fields(s)
	out := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// CreateApproval implements store.Approvals.
func (s *approvals) CreateApproval(ctx context.Context, a store.Approval, since time.Time, check func(unapproved int) error,
	withdraw func(old store.Approval) bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var pid int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM persons WHERE id = $1"+s.forUpdate(), int64(a.PersonID)).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: lock person: %w", err)
		}
		if check != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM approvals
				WHERE person_id = $1 AND action = $2 AND created_at >= $3 AND status <> 'approved'`,
				int64(a.PersonID), a.Action, micros(since)).Scan(&n); err != nil {
				return fmt.Errorf("sqlstore: count approvals: %w", err)
			}
			if err := check(n); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO approvals (`+approvalColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			a.ID, int64(a.PersonID), a.Action, a.Text, nonNil(a.Data), nonNil(a.ContentHash), a.Level, string(a.Status), a.NotMe,
			string(a.DeviceID), a.Method, a.Number, encodeInts(a.Choices), a.Client,
			micros(a.CreatedAt), micros(a.ExpiresAt), micros(a.AnsweredAt), micros(a.UsedAt), string(a.DeclineReason))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create approval: %w", err)
		}
		if withdraw == nil {
			return nil
		}
		return s.withdrawApprovals(ctx, tx, a, withdraw)
	})
}

// withdrawApprovals moves the person's other pending requests of a.Action that
// withdraw picks to withdrawn.
func (s *approvals) withdrawApprovals(ctx context.Context, tx *sql.Tx, a store.Approval, withdraw func(store.Approval) bool) error {
	rows, err := tx.QueryContext(ctx, "SELECT "+approvalColumns+` FROM approvals
		WHERE person_id = $1 AND action = $2 AND status = 'pending' AND id <> $3`, int64(a.PersonID), a.Action, a.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: withdraw approvals: %w", err)
	}
	var ids []string
	for rows.Next() {
		old, err := scanApproval(rows)
		if err != nil {
			rows.Close()
			return err
		}
		if withdraw(old) {
			ids = append(ids, old.ID)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("sqlstore: withdraw approvals: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: withdraw approvals: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE approvals SET status = 'withdrawn', answered_at = $1
			WHERE id = $2 AND status = 'pending'`, micros(a.CreatedAt), id); err != nil {
			return fmt.Errorf("sqlstore: withdraw approvals: %w", err)
		}
	}
	return nil
}

// ApprovalByID implements store.Approvals.
func (s *approvals) ApprovalByID(ctx context.Context, id string) (store.Approval, error) {
	return scanApproval(s.r.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = $1", id))
}

// PendingApprovals implements store.Approvals.
func (s *approvals) PendingApprovals(ctx context.Context, id store.PersonID, now time.Time) ([]store.Approval, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+approvalColumns+` FROM approvals
		WHERE person_id = $1 AND status = 'pending' AND expires_at > $2 ORDER BY created_at, id`, int64(id), micros(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending approvals: %w", err)
	}
	defer rows.Close()
	var out []store.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: pending approvals: %w", err)
	}
	return out, nil
}

// AnswerApproval implements store.Approvals: one UPDATE checks and moves the
// request, so the database decides the single winner.
func (s *approvals) AnswerApproval(ctx context.Context, id string, dev store.DeviceID, reason store.DeclineReason, now time.Time) (store.Approval, error) {
	var a store.Approval
	err := s.writeRow(ctx, func(r rowScanner) (err error) {
		a, err = scanApproval(r)
		return err
	}, `UPDATE approvals
		SET status = 'declined', device_id = $1, method = '', not_me = $2, answered_at = $3, decline_reason = $5
		WHERE id = $4 AND status = 'pending' AND expires_at > $3
		RETURNING `+approvalColumns, string(dev), reason == store.DeclineNotMe, micros(now), id, string(reason))
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.ApprovalByID(ctx, id); err != nil {
			return store.Approval{}, err
		}
		return store.Approval{}, store.ErrConflict
	}
	if err != nil {
		return store.Approval{}, fmt.Errorf("sqlstore: answer approval: %w", err)
	}
	return a, nil
}

// errLostAnswer stops an approving transaction whose request is no longer
// answerable; ApproveApproval turns it into ErrConflict or ErrNotFound.
var errLostAnswer = errors.New("sqlstore: approval not answerable")

// ApproveApproval implements store.Approvals. The conditional UPDATE decides
// the single winner; the executor then writes through the same transaction.
func (s *approvals) ApproveApproval(ctx context.Context, id string, contentHash []byte, dev store.DeviceID, method string, now time.Time,
	exec func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error) (store.Approval, error) {
	at := micros(now)
	used := int64(0)
	if exec != nil {
		used = at
	}
	var out store.Approval
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := scanApproval(tx.QueryRowContext(ctx, `UPDATE approvals
			SET status = 'approved', device_id = $1, method = $2, not_me = $3, answered_at = $4, used_at = $5
			WHERE id = $6 AND status = 'pending' AND expires_at > $4 AND content_hash = $7
			RETURNING `+approvalColumns, string(dev), method, false, at, used, id, nonNil(contentHash)))
		if errors.Is(err, store.ErrNotFound) {
			return errLostAnswer
		}
		if err != nil {
			return fmt.Errorf("sqlstore: approve: %w", err)
		}
		if exec != nil {
			if err := exec(ctx, approvalTx{s: s, tx: tx, now: now, person: a.PersonID}, a); err != nil {
				return err
			}
		}
		out = a
		return nil
	})
	if errors.Is(err, errLostAnswer) {
		if _, err := s.ApprovalByID(ctx, id); err != nil {
			return store.Approval{}, err
		}
		return store.Approval{}, store.ErrConflict
	}
	if err != nil {
		return store.Approval{}, err
	}
	return out, nil
}

// approvalTx is the store.ApprovalTx of one approving transaction.
type approvalTx struct {
	s      *approvals
	tx     *sql.Tx
	now    time.Time
	person store.PersonID
}

var _ store.ApprovalTx = approvalTx{}

func (t approvalTx) UpdatePerson(ctx context.Context, id store.PersonID, fn func(p *store.Person) error) (store.Person, error) {
	return t.s.persons.updatePerson(ctx, t.tx, id, fn)
}

func (t approvalTx) DeviceByID(ctx context.Context, id store.DeviceID) (store.Device, error) {
	return deviceByID(ctx, t.tx, id)
}

func (t approvalTx) PersonByID(ctx context.Context, id store.PersonID) (store.Person, error) {
	return scanPerson(t.tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM persons WHERE id = $1", int64(id)))
}

func (t approvalTx) RepresentationsBetween(ctx context.Context, actor, subject store.PersonID) ([]store.Representation, error) {
	return queryRepresentations(ctx, t.tx, "WHERE actor_id = $1 AND subject_id = $2 ORDER BY id", int64(actor), int64(subject))
}

func (t approvalTx) UpdateDevice(ctx context.Context, id store.DeviceID, fn func(d *store.Device) error) (store.Device, error) {
	return t.s.devices.updateDevice(ctx, t.tx, id, fn)
}

func (t approvalTx) AppendOutbox(ctx context.Context, e store.OutboxEvent) error {
	person := e.PersonID
	if person == 0 {
		person = t.person
	}
	return t.s.appendOutbox(ctx, t.tx, e, person, micros(t.now))
}

func (t approvalTx) QueueNotice(ctx context.Context, n store.Notice) error {
	return queueNotices(ctx, t.tx, []store.Notice{n})
}

func (t approvalTx) UpdateEmail(ctx context.Context, id store.PersonID, fn func(e *store.Email) error, queue ...store.OutMail) (store.Email, error) {
	return updateEmail(ctx, t.tx, t.s.forUpdate(), id, fn, queue)
}

// RedeemApproval implements store.Approvals.
func (s *approvals) RedeemApproval(ctx context.Context, id string, person store.PersonID, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE approvals SET used_at = $1
		WHERE id = $2 AND person_id = $3 AND status = 'approved' AND used_at = 0`, micros(now), id, int64(person))
	if err != nil {
		return fmt.Errorf("sqlstore: redeem approval: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: redeem approval: %w", err)
	} else if n != 1 {
		a, err := s.ApprovalByID(ctx, id)
		if err != nil {
			return err
		}
		if a.PersonID != person {
			return store.ErrNotFound
		}
		return store.ErrConflict
	}
	return nil
}

// ExpireApprovals implements store.Approvals.
func (s *approvals) ExpireApprovals(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `UPDATE approvals SET status = 'expired'
		WHERE status = 'pending' AND expires_at <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: expire approvals: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: expire approvals: %w", err)
	}
	return n, nil
}

// appendOutbox stores e unless its id exists. The sequence number is taken from
// outbox_head under its row lock, so numbers are handed out in commit order.
func (s *approvals) appendOutbox(ctx context.Context, tx *sql.Tx, e store.OutboxEvent, person store.PersonID, at int64) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, "SELECT seq FROM outbox_head WHERE id = 1"+s.forUpdate()).Scan(&seq); err != nil {
		return fmt.Errorf("sqlstore: outbox head: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (seq, id, type, person_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		seq+1, e.ID, e.Type, int64(person), nonNil(e.Payload), at)
	if err != nil {
		return fmt.Errorf("sqlstore: append outbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: append outbox: %w", err)
	}
	if n == 0 {
		return nil // the event exists: idempotent
	}
	if _, err := tx.ExecContext(ctx, "UPDATE outbox_head SET seq = $1 WHERE id = 1", seq+1); err != nil {
		return fmt.Errorf("sqlstore: outbox head: %w", err)
	}
	return nil
}

// OutboxAfter implements store.Approvals.
func (s *approvals) OutboxAfter(ctx context.Context, after int64, limit int) ([]store.OutboxEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, id, type, person_id, payload, created_at FROM outbox
		WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: outbox: %w", err)
	}
	defer rows.Close()
	var out []store.OutboxEvent
	for rows.Next() {
		var (
			e       store.OutboxEvent
			created int64
		)
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &e.PersonID, &e.Payload, &created); err != nil {
			return nil, fmt.Errorf("sqlstore: outbox: %w", err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: outbox: %w", err)
	}
	return out, nil
}
