package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pforte/pforte/internal/store"
)

// search implements store.PersonSearch and store.AuditSearch: the reads the
// back office finds persons and audit entries with.
type search struct{ *db }

var (
	_ store.PersonSearch = (*search)(nil)
	_ store.AuditSearch  = (*search)(nil)
)

// PersonsByBirthDate implements store.PersonSearch.
func (s *search) PersonsByBirthDate(ctx context.Context, date string, limit int) ([]store.Person, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+personColumns+" FROM persons WHERE birth_date = $1 ORDER BY id LIMIT $2", date, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: persons by birth date: %w", err)
	}
	defer rows.Close()
	var out []store.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: persons by birth date: %w", err)
	}
	return out, nil
}

// prefixEnd is the least string above every string starting with p (p's
// last byte raised by one), so a prefix is a range the index serves.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// SearchAudit implements store.AuditSearch.
func (s *search) SearchAudit(ctx context.Context, f store.AuditFilter, limit int) ([]store.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if strings.HasSuffix(f.Event, ".") {
		add("event >= ? AND event < ?", f.Event, prefixEnd(f.Event))
	} else if f.Event != "" {
		add("event = ?", f.Event)
	}
	if !f.From.IsZero() {
		add("at >= ?", micros(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", micros(f.To))
	}
	if f.ExcludeActorPrefix != "" {
		add("NOT (actor >= ? AND actor < ?)", f.ExcludeActorPrefix, prefixEnd(f.ExcludeActorPrefix))
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	q := "SELECT seq, at, actor, event, subject, client_ip, details, prev_hash, hash FROM audit_entries"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT " + strconv.Itoa(max(limit, 0))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: search audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Event, &e.Subject, &e.ClientIP, &e.Details, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("sqlstore: search audit: %w", err)
		}
		e.Time = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: search audit: %w", err)
	}
	return out, nil
}
