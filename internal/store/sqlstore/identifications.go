package sqlstore

import (
	"context"
	"fmt"

	"github.com/pforte/pforte/internal/store"
)

// identifications implements store.Identifications.
type identifications struct{ *db }

var _ store.Identifications = (*identifications)(nil)

// AddIdentification implements store.Identifications.
func (s *identifications) AddIdentification(ctx context.Context, r store.Identification) error {
	_, err := s.exec(ctx, `INSERT INTO identifications
		(id, person_id, method, level, partner, partner_txn, subject_link, matched_hash, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.ID, int64(r.PersonID), r.Method, r.Level, r.Partner, r.PartnerTxn, r.SubjectLink, nonNil(r.MatchedHash), micros(r.At))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add identification: %w", err)
	}
	return nil
}

// PersonIdentifications implements store.Identifications.
func (s *identifications) PersonIdentifications(ctx context.Context, id store.PersonID) ([]store.Identification, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, person_id, method, level, partner, partner_txn, subject_link, matched_hash, at
		FROM identifications WHERE person_id = $1 ORDER BY at DESC, id`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: identifications: %w", err)
	}
	defer rows.Close()
	var out []store.Identification
	for rows.Next() {
		var (
			r  store.Identification
			at int64
		)
		if err := rows.Scan(&r.ID, &r.PersonID, &r.Method, &r.Level, &r.Partner, &r.PartnerTxn, &r.SubjectLink, &r.MatchedHash, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: identifications: %w", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: identifications: %w", err)
	}
	return out, nil
}
