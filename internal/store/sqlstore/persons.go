package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pforte/pforte/internal/store"
)

// persons implements store.Persons. It keeps the prepared statement of a full
// upsert chunk, which Store.Close releases.
type persons struct {
	*db

	upsertMu   sync.Mutex
	upsertStmt *sql.Stmt // see fullChunkStmt
}

var _ store.Persons = (*persons)(nil)

const personColumns = `id, kvnr, family_name, given_names, title, salutation, birth_name, birth_date,
	street, house_number, postal_code, city, address_verified_at, address_verified_by,
	iban_key_id, iban_sealed, relation, member_kvnr, digest, version, created_at, updated_at`

// personInsertColumns are the columns an upsert writes, in order.
var personInsertColumns = []string{
	"kvnr", "family_name", "given_names", "title", "salutation", "birth_name", "birth_date",
	"street", "house_number", "postal_code", "city", "address_verified_at", "address_verified_by",
	"iban_key_id", "iban_sealed", "relation", "member_kvnr", "digest", "version", "created_at", "updated_at",
}

// upsertChunk bounds rows per statement: 20 parameters a row stays far below
// both engines' parameter limits.
const upsertChunk = 500

// UpsertPersons implements store.Persons.
func (s *persons) UpsertPersons(ctx context.Context, batch []store.Person) (store.UpsertResult, error) {
	var res store.UpsertResult
	if len(batch) == 0 {
		return res, nil
	}
	var full *sql.Stmt
	if len(batch) >= upsertChunk {
		// Prepared before the transaction: on SQLite the transaction holds
		// the only writer connection.
		stmt, err := s.fullChunkStmt(ctx)
		if err != nil {
			return res, fmt.Errorf("sqlstore: upsert persons: %w", err)
		}
		full = stmt
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = store.UpsertResult{}
		for start := 0; start < len(batch); start += upsertChunk {
			end := min(start+upsertChunk, len(batch))
			ins, upd, err := s.upsertChunk(ctx, tx, full, batch[start:end])
			if err != nil {
				return err
			}
			res.Inserted += ins
			res.Updated += upd
		}
		res.Unchanged = len(batch) - res.Inserted - res.Updated
		return nil
	})
	if err != nil {
		return store.UpsertResult{}, err
	}
	return res, nil
}

// upsertSQL returns the upsert statement for n rows.
func (s *persons) upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO persons (")
	b.WriteString(strings.Join(personInsertColumns, ", "))
	b.WriteString(") VALUES ")
	p := 1
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range personInsertColumns {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.placeholder(p))
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(` ON CONFLICT (kvnr) DO UPDATE SET
		family_name = excluded.family_name, given_names = excluded.given_names,
		title = excluded.title, salutation = excluded.salutation, birth_name = excluded.birth_name, birth_date = excluded.birth_date,
		street = excluded.street, house_number = excluded.house_number,
		postal_code = excluded.postal_code, city = excluded.city,
		address_verified_at = excluded.address_verified_at, address_verified_by = excluded.address_verified_by,
		iban_key_id = excluded.iban_key_id, iban_sealed = excluded.iban_sealed,
		relation = excluded.relation, member_kvnr = excluded.member_kvnr, digest = excluded.digest,
		version = persons.version + 1, updated_at = excluded.updated_at
		WHERE persons.digest <> excluded.digest
		RETURNING version`)
	return b.String()
}

// fullChunkStmt returns the prepared upsert for a full chunk, prepared once per
// store: parsing a statement with thousands of parameters is not free.
func (s *persons) fullChunkStmt(ctx context.Context) (*sql.Stmt, error) {
	s.upsertMu.Lock()
	defer s.upsertMu.Unlock()
	if s.upsertStmt != nil {
		return s.upsertStmt, nil
	}
	stmt, err := s.w.PrepareContext(ctx, s.upsertSQL(upsertChunk))
	if err != nil {
		return nil, err
	}
	s.upsertStmt = stmt
	return stmt, nil
}

// close releases the prepared upsert, if there is one.
func (s *persons) close() error {
	if s.upsertStmt == nil {
		return nil
	}
	return s.upsertStmt.Close()
}

func (s *persons) upsertChunk(ctx context.Context, tx *sql.Tx, full *sql.Stmt, rows []store.Person) (inserted, updated int, err error) {
	args := make([]any, 0, len(rows)*len(personInsertColumns))
	for _, p := range rows {
		var sealed []byte
		if !p.IBAN.IsZero() {
			sealed = p.IBAN.Ciphertext
		}
		at := micros(p.UpdatedAt)
		args = append(args, p.KVNR, p.FamilyName, p.GivenNames, p.Title, p.Salutation, p.BirthName, p.BirthDate,
			p.Street, p.HouseNumber, p.PostalCode, p.City, micros(p.AddressVerifiedAt), p.AddressVerifiedBy,
			p.IBAN.KeyID, sealed, string(p.Relation), p.MemberKVNR, nonNil(p.Digest), int64(1), at, at)
	}
	var res *sql.Rows
	if len(rows) == upsertChunk && full != nil {
		res, err = tx.StmtContext(ctx, full).QueryContext(ctx, args...)
	} else {
		res, err = tx.QueryContext(ctx, s.upsertSQL(len(rows)), args...)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: upsert persons: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var v int64
		if err := res.Scan(&v); err != nil {
			return 0, 0, fmt.Errorf("sqlstore: upsert persons: %w", err)
		}
		if v == 1 {
			inserted++
		} else {
			updated++
		}
	}
	if err := res.Err(); err != nil {
		return 0, 0, fmt.Errorf("sqlstore: upsert persons: %w", err)
	}
	return inserted, updated, nil
}

func scanPerson(row rowScanner) (store.Person, error) {
	var (
		p                            store.Person
		verifiedAt, created, updated int64
		sealed                       []byte
		relation                     string
	)
	err := row.Scan(&p.ID, &p.KVNR, &p.FamilyName, &p.GivenNames, &p.Title, &p.Salutation, &p.BirthName, &p.BirthDate,
		&p.Street, &p.HouseNumber, &p.PostalCode, &p.City, &verifiedAt, &p.AddressVerifiedBy,
		&p.IBAN.KeyID, &sealed, &relation, &p.MemberKVNR, &p.Digest, &p.Version, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Person{}, store.ErrNotFound
	}
	if err != nil {
		return store.Person{}, fmt.Errorf("sqlstore: scan person: %w", err)
	}
	if len(sealed) > 0 {
		p.IBAN.Ciphertext = sealed
	}
	p.Relation = store.Relation(relation)
	p.AddressVerifiedAt = fromMicros(verifiedAt)
	p.CreatedAt = fromMicros(created)
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PersonByKVNR implements store.Persons.
func (s *persons) PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+personColumns+" FROM persons WHERE kvnr = $1", kvnr)
	return scanPerson(row)
}

// PersonByID implements store.Persons.
func (s *persons) PersonByID(ctx context.Context, id store.PersonID) (store.Person, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+personColumns+" FROM persons WHERE id = $1", int64(id))
	return scanPerson(row)
}

// UpdatePerson implements store.Persons.
func (s *persons) UpdatePerson(ctx context.Context, id store.PersonID, fn func(p *store.Person) error) (store.Person, error) {
	var out store.Person
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.updatePerson(ctx, tx, id, fn)
		return err
	})
	if err != nil {
		return store.Person{}, err
	}
	return out, nil
}

// updatePerson is UpdatePerson inside tx.
func (s *persons) updatePerson(ctx context.Context, tx *sql.Tx, id store.PersonID, fn func(p *store.Person) error) (store.Person, error) {
	cur, err := scanPerson(tx.QueryRowContext(ctx,
		"SELECT "+personColumns+" FROM persons WHERE id = $1"+s.forUpdate(), int64(id)))
	if err != nil {
		return store.Person{}, err
	}
	next := cur
	next.Digest = append([]byte(nil), cur.Digest...)
	if err := fn(&next); err != nil {
		return store.Person{}, err
	}
	next.ID, next.KVNR, next.CreatedAt = cur.ID, cur.KVNR, cur.CreatedAt
	next.Version = cur.Version + 1
	if next.UpdatedAt.IsZero() || !next.UpdatedAt.After(cur.UpdatedAt) {
		next.UpdatedAt = cur.UpdatedAt
	}
	var sealed []byte
	if !next.IBAN.IsZero() {
		sealed = next.IBAN.Ciphertext
	}
	_, err = tx.ExecContext(ctx, `UPDATE persons SET
		family_name = $1, given_names = $2, title = $3, birth_name = $4, birth_date = $5,
		street = $6, house_number = $7, postal_code = $8, city = $9,
		address_verified_at = $10, address_verified_by = $11, iban_key_id = $12, iban_sealed = $13,
		relation = $14, member_kvnr = $15, digest = $16, version = $17, updated_at = $18, salutation = $19
		WHERE id = $20`,
		next.FamilyName, next.GivenNames, next.Title, next.BirthName, next.BirthDate,
		next.Street, next.HouseNumber, next.PostalCode, next.City,
		micros(next.AddressVerifiedAt), next.AddressVerifiedBy, next.IBAN.KeyID, sealed,
		string(next.Relation), next.MemberKVNR, nonNil(next.Digest), next.Version, micros(next.UpdatedAt), next.Salutation,
		int64(id))
	if err != nil {
		return store.Person{}, fmt.Errorf("sqlstore: update person: %w", err)
	}
	return next, nil
}

// ListPersons implements store.Persons.
func (s *persons) ListPersons(ctx context.Context, after store.PersonID, limit int) ([]store.Person, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+personColumns+" FROM persons WHERE id > $1 ORDER BY id LIMIT $2", int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list persons: %w", err)
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
		return nil, fmt.Errorf("sqlstore: list persons: %w", err)
	}
	return out, nil
}

// CountPersons implements store.Persons.
func (s *persons) CountPersons(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM persons").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count persons: %w", err)
	}
	return n, nil
}
