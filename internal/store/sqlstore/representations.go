package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// representations implements store.Representations.
type representations struct{ *db }

var _ store.Representations = (*representations)(nil)

const representationColumns = `id, actor_id, subject_id, kind, scope, valid_until, recorded_by, created_at, ended_at, ended_by`

func scanRepresentation(row rowScanner) (store.Representation, error) {
	var (
		r                            store.Representation
		kind, scope                  string
		validUntil, created, endedAt int64
	)
	err := row.Scan(&r.ID, &r.Actor, &r.Subject, &kind, &scope, &validUntil, &r.RecordedBy, &created, &endedAt, &r.EndedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Representation{}, store.ErrNotFound
	}
	if err != nil {
		return store.Representation{}, fmt.Errorf("sqlstore: scan representation: %w", err)
	}
	r.Kind, r.Scope = store.RepresentationKind(kind), strings.Fields(scope)
	r.ValidUntil, r.CreatedAt, r.EndedAt = fromMicros(validUntil), fromMicros(created), fromMicros(endedAt)
	return r, nil
}

// queryRepresentations reads the representations a query returns through q.
func queryRepresentations(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]store.Representation, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+representationColumns+" FROM representations "+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: representations: %w", err)
	}
	defer rows.Close()
	var out []store.Representation
	for rows.Next() {
		r, err := scanRepresentation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: representations: %w", err)
	}
	return out, nil
}

// CreateRepresentation implements store.Representations.
func (s *representations) CreateRepresentation(ctx context.Context, r store.Representation) (store.Representation, error) {
	scope := slices.Clone(r.Scope)
	slices.Sort(scope)
	scope = slices.Compact(scope)
	var out store.Representation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM persons WHERE id IN ($1, $2)",
			int64(r.Actor), int64(r.Subject)).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: create representation: %w", err)
		}
		want := 2
		if r.Actor == r.Subject {
			want = 1
		}
		if n != want {
			return store.ErrNotFound
		}
		var err error
		out, err = scanRepresentation(tx.QueryRowContext(ctx, `INSERT INTO representations
			(actor_id, subject_id, kind, scope, valid_until, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+representationColumns, int64(r.Actor), int64(r.Subject), string(r.Kind), strings.Join(scope, " "),
			micros(r.ValidUntil), r.RecordedBy, micros(r.CreatedAt)))
		if err != nil {
			return fmt.Errorf("sqlstore: create representation: %w", err)
		}
		return nil
	})
	return out, err
}

// EndRepresentation implements store.Representations.
func (s *representations) EndRepresentation(ctx context.Context, id store.RepresentationID, by string, now time.Time) (store.Representation, error) {
	var r store.Representation
	err := s.writeRow(ctx, func(row rowScanner) (err error) {
		r, err = scanRepresentation(row)
		return err
	}, `UPDATE representations SET ended_at = $1, ended_by = $2
		WHERE id = $3 AND ended_at = 0 RETURNING `+representationColumns, micros(now), by, int64(id))
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.RepresentationByID(ctx, id); err != nil {
			return store.Representation{}, err
		}
		return store.Representation{}, store.ErrConflict
	}
	if err != nil {
		return store.Representation{}, fmt.Errorf("sqlstore: end representation: %w", err)
	}
	return r, nil
}

// RepresentationByID implements store.Representations.
func (s *representations) RepresentationByID(ctx context.Context, id store.RepresentationID) (store.Representation, error) {
	return scanRepresentation(s.r.QueryRowContext(ctx, "SELECT "+representationColumns+" FROM representations WHERE id = $1", int64(id)))
}

// RepresentationsBetween implements store.Representations.
func (s *representations) RepresentationsBetween(ctx context.Context, actor, subject store.PersonID) ([]store.Representation, error) {
	return queryRepresentations(ctx, s.r, "WHERE actor_id = $1 AND subject_id = $2 ORDER BY id", int64(actor), int64(subject))
}

// RepresentationsOf implements store.Representations.
func (s *representations) RepresentationsOf(ctx context.Context, actor store.PersonID, now time.Time) ([]store.Representation, error) {
	return queryRepresentations(ctx, s.r, "WHERE actor_id = $1 AND ended_at = 0 AND valid_until > $2 ORDER BY id",
		int64(actor), micros(now))
}

// RepresentationsFor implements store.Representations.
func (s *representations) RepresentationsFor(ctx context.Context, subject store.PersonID) ([]store.Representation, error) {
	return queryRepresentations(ctx, s.r, "WHERE subject_id = $1 ORDER BY id", int64(subject))
}

// DependentsOf implements store.Representations.
func (s *representations) DependentsOf(ctx context.Context, kvnr string, limit int) ([]store.Person, error) {
	if kvnr == "" {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+personColumns+" FROM persons WHERE member_kvnr = $1 ORDER BY id LIMIT $2", kvnr, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: dependents: %w", err)
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
		return nil, fmt.Errorf("sqlstore: dependents: %w", err)
	}
	return out, nil
}
