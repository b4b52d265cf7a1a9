package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// oidc implements store.OIDC: authorization requests, tokens and CIBA requests.
type oidc struct{ *db }

var _ store.OIDC = (*oidc)(nil)

// The columns of the OpenID provider's tables, key first. Inserts bind them as
// $1…$n in this order; updaters bind the same arguments and set every column but
// the key ($1).
var (
	authRequestCols = []string{"id", "client_id", "redirect_uri", "state", "nonce", "scopes", "response_type",
		"response_mode", "code_challenge", "acr_values", "prompt", "max_age", "created_at", "expires_at", "person_id",
		"session_hash", "auth_time", "acr", "amr", "done_at", "code_hash", "code_expires_at", "code_used_at"}
	tokenCols = []string{"id", "kind", "hash", "family", "client_id", "person_id", "subject", "scopes", "audience",
		"auth_time", "acr", "amr", "authorization_details", "created_at", "expires_at", "family_expires_at", "used_at",
		"revoked_at"}
	cibaCols = []string{"hash", "id", "client_id", "person_id", "approval_id", "scopes", "acr", "binding_message",
		"authorization_details", "interval_us", "created_at", "expires_at", "last_poll_at", "issued_at"}

	authRequestColumns = strings.Join(authRequestCols, ", ")
	tokenColumns       = strings.Join(tokenCols, ", ")
	cibaColumns        = strings.Join(cibaCols, ", ")
)

// insertSQL returns an INSERT of all cols with parameters $1…$n.
func insertSQL(table string, cols []string) string {
	params := make([]string, len(cols))
	for i := range cols {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
}

// updateSQL returns an UPDATE setting cols[1:] to $2…$n of the row whose key
// cols[0] is $1.
func updateSQL(table string, cols []string) string {
	sets := make([]string, 0, len(cols)-1)
	for i, c := range cols[1:] {
		sets = append(sets, c+" = $"+strconv.Itoa(i+2))
	}
	return "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " WHERE " + cols[0] + " = $1"
}

// encodeStrings stores a list of strings as a JSON array; nil and empty lists
// are both "[]" and read back as nil.
func encodeStrings(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("sqlstore: marshal strings: " + err.Error()) // cannot happen for []string
	}
	return string(b)
}

func decodeStrings(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// nullBytes stores an empty byte slice as NULL (unique columns then do not
// collide); optBytes reads NULL and empty back as nil.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func optBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Authorization requests.

func authRequestArgs(r store.AuthRequest) []any {
	return []any{r.ID, r.ClientID, r.RedirectURI, r.State, r.Nonce, encodeStrings(r.Scopes), r.ResponseType,
		r.ResponseMode, r.CodeChallenge, encodeStrings(r.ACRValues), encodeStrings(r.Prompt), r.MaxAge,
		micros(r.CreatedAt), micros(r.ExpiresAt), int64(r.PersonID), nullBytes(r.SessionHash), micros(r.AuthTime),
		r.ACR, encodeStrings(r.AMR), micros(r.DoneAt), nullBytes(r.CodeHash), micros(r.CodeExpiresAt),
		micros(r.CodeUsedAt)}
}

func scanAuthRequest(row rowScanner) (store.AuthRequest, error) {
	var (
		r                                               store.AuthRequest
		scopes, acrValues, prompt, amr                  string
		created, expires, authTime, done, codeExp, used int64
	)
	err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &r.State, &r.Nonce, &scopes, &r.ResponseType,
		&r.ResponseMode, &r.CodeChallenge, &acrValues, &prompt, &r.MaxAge, &created, &expires, &r.PersonID,
		&r.SessionHash, &authTime, &r.ACR, &amr, &done, &r.CodeHash, &codeExp, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuthRequest{}, store.ErrNotFound
	}
	if err != nil {
		return store.AuthRequest{}, fmt.Errorf("sqlstore: scan auth request: %w", err)
	}
	for _, l := range []struct {
		dst *[]string
		src string
	}{{&r.Scopes, scopes}, {&r.ACRValues, acrValues}, {&r.Prompt, prompt}, {&r.AMR, amr}} {
		if *l.dst, err = decodeStrings(l.src); err != nil {
			return store.AuthRequest{}, fmt.Errorf("sqlstore: scan auth request %s: %w", r.ID, err)
		}
	}
	r.SessionHash, r.CodeHash = optBytes(r.SessionHash), optBytes(r.CodeHash)
	r.CreatedAt, r.ExpiresAt, r.AuthTime = fromMicros(created), fromMicros(expires), fromMicros(authTime)
	r.DoneAt, r.CodeExpiresAt, r.CodeUsedAt = fromMicros(done), fromMicros(codeExp), fromMicros(used)
	return r, nil
}

// CreateAuthRequest implements store.OIDC.
func (s *oidc) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	_, err := s.exec(ctx, insertSQL("auth_requests", authRequestCols), authRequestArgs(r)...)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create auth request: %w", err)
	}
	return nil
}

// AuthRequestByID implements store.OIDC. A request is gone from its ExpiresAt
// on.
func (s *oidc) AuthRequestByID(ctx context.Context, id string, now time.Time) (store.AuthRequest, error) {
	return scanAuthRequest(s.r.QueryRowContext(ctx, "SELECT "+authRequestColumns+
		" FROM auth_requests WHERE id = $1 AND expires_at > $2", id, micros(now)))
}

// AuthRequestByCode implements store.OIDC.
func (s *oidc) AuthRequestByCode(ctx context.Context, hash []byte) (store.AuthRequest, error) {
	return scanAuthRequest(s.r.QueryRowContext(ctx, "SELECT "+authRequestColumns+
		" FROM auth_requests WHERE code_hash = $1", nonNil(hash)))
}

// UpdateAuthRequest implements store.OIDC. The row is locked (FOR UPDATE on
// PostgreSQL, the IMMEDIATE write transaction on SQLite) from the read to the
// write. fn cannot change the ID. The result is the row as stored (RETURNING):
// empty lists and hashes come back nil, times in microseconds.
func (s *oidc) UpdateAuthRequest(ctx context.Context, id string, fn func(r *store.AuthRequest) error) (store.AuthRequest, error) {
	var out store.AuthRequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanAuthRequest(tx.QueryRowContext(ctx, "SELECT "+authRequestColumns+
			" FROM auth_requests WHERE id = $1"+s.forUpdate(), id))
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			return err
		}
		next.ID = cur.ID
		out, err = scanAuthRequest(tx.QueryRowContext(ctx, updateSQL("auth_requests", authRequestCols)+
			" RETURNING "+authRequestColumns, authRequestArgs(next)...))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return store.AuthRequest{}, err
	}
	return out, nil
}

// DeleteAuthRequestsBefore implements store.OIDC.
func (s *oidc) DeleteAuthRequestsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete auth requests", "DELETE FROM auth_requests WHERE expires_at < $1", micros(t))
}

// Tokens.

func tokenArgs(k store.Token) []any {
	return []any{k.ID, k.Kind, nullBytes(k.Hash), k.Family, k.ClientID, int64(k.PersonID), k.Subject,
		encodeStrings(k.Scopes), encodeStrings(k.Audience), micros(k.AuthTime), k.ACR, encodeStrings(k.AMR),
		nullBytes(k.AuthorizationDetails), micros(k.CreatedAt), micros(k.ExpiresAt), micros(k.FamilyExpiresAt),
		micros(k.UsedAt), micros(k.RevokedAt)}
}

func scanToken(row rowScanner) (store.Token, error) {
	var (
		k                                                    store.Token
		scopes, audience, amr                                string
		authTime, created, expires, familyExp, used, revoked int64
	)
	err := row.Scan(&k.ID, &k.Kind, &k.Hash, &k.Family, &k.ClientID, &k.PersonID, &k.Subject, &scopes, &audience,
		&authTime, &k.ACR, &amr, &k.AuthorizationDetails, &created, &expires, &familyExp, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlstore: scan token: %w", err)
	}
	for _, l := range []struct {
		dst *[]string
		src string
	}{{&k.Scopes, scopes}, {&k.Audience, audience}, {&k.AMR, amr}} {
		if *l.dst, err = decodeStrings(l.src); err != nil {
			return store.Token{}, fmt.Errorf("sqlstore: scan token %s: %w", k.ID, err)
		}
	}
	k.Hash, k.AuthorizationDetails = optBytes(k.Hash), optBytes(k.AuthorizationDetails)
	k.AuthTime, k.CreatedAt, k.ExpiresAt = fromMicros(authTime), fromMicros(created), fromMicros(expires)
	k.FamilyExpiresAt, k.UsedAt, k.RevokedAt = fromMicros(familyExp), fromMicros(used), fromMicros(revoked)
	return k, nil
}

func insertTokens(ctx context.Context, tx *sql.Tx, toks []store.Token) error {
	query := insertSQL("tokens", tokenCols)
	for _, k := range toks {
		_, err := tx.ExecContext(ctx, query, tokenArgs(k)...)
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create token: %w", err)
		}
	}
	return nil
}

// CreateTokens implements store.OIDC.
func (s *oidc) CreateTokens(ctx context.Context, toks ...store.Token) error {
	if len(toks) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertTokens(ctx, tx, toks) })
}

// TokenByID implements store.OIDC.
func (s *oidc) TokenByID(ctx context.Context, id string) (store.Token, error) {
	return scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = $1", id))
}

// RefreshTokenByHash implements store.OIDC.
func (s *oidc) RefreshTokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	return scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+
		" FROM tokens WHERE hash = $1 AND kind = 'refresh'", nonNil(hash)))
}

// RotateRefreshToken implements store.OIDC. One conditional UPDATE checks and
// marks the old token, so the database decides the single winner; on
// PostgreSQL a concurrent rotation waits for the row and then finds used_at
// set. The new tokens are inserted in the same transaction.
func (s *oidc) RotateRefreshToken(ctx context.Context, old []byte, now time.Time, next ...store.Token) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = $1
			WHERE hash = $2 AND kind = 'refresh' AND used_at = 0 AND revoked_at = 0 AND expires_at > $1`,
			micros(now), nonNil(old))
		if err != nil {
			return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
		} else if n != 1 {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM tokens WHERE hash = $1 AND kind = 'refresh'", nonNil(old)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
			}
			return store.ErrConflict
		}
		return insertTokens(ctx, tx, next)
	})
}

// RevokeTokenFamily implements store.OIDC.
func (s *oidc) RevokeTokenFamily(ctx context.Context, family string, now time.Time) (int64, error) {
	return s.execCount(ctx, "revoke token family",
		"UPDATE tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at = 0", micros(now), family)
}

// RevokeToken implements store.OIDC.
func (s *oidc) RevokeToken(ctx context.Context, id string, now time.Time) (int64, error) {
	return s.execCount(ctx, "revoke token",
		"UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0", micros(now), id)
}

// RevokeClientTokens implements store.OIDC.
func (s *oidc) RevokeClientTokens(ctx context.Context, person store.PersonID, clientID string, now time.Time) (int64, error) {
	return s.execCount(ctx, "revoke client tokens",
		"UPDATE tokens SET revoked_at = $1 WHERE person_id = $2 AND client_id = $3 AND revoked_at = 0",
		micros(now), int64(person), clientID)
}

// DeleteTokensBefore implements store.OIDC.
func (s *oidc) DeleteTokensBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete tokens", "DELETE FROM tokens WHERE expires_at < $1", micros(t))
}

// CIBA requests.

func cibaArgs(c store.CIBARequest) []any {
	return []any{nonNil(c.Hash), c.ID, c.ClientID, int64(c.PersonID), c.ApprovalID, encodeStrings(c.Scopes), c.ACR,
		c.BindingMessage, nullBytes(c.AuthorizationDetails), c.Interval.Microseconds(), micros(c.CreatedAt),
		micros(c.ExpiresAt), micros(c.LastPollAt), micros(c.IssuedAt)}
}

func scanCIBARequest(row rowScanner) (store.CIBARequest, error) {
	var (
		c                                       store.CIBARequest
		scopes                                  string
		interval, created, expires, poll, issue int64
	)
	err := row.Scan(&c.Hash, &c.ID, &c.ClientID, &c.PersonID, &c.ApprovalID, &scopes, &c.ACR, &c.BindingMessage,
		&c.AuthorizationDetails, &interval, &created, &expires, &poll, &issue)
	if errors.Is(err, sql.ErrNoRows) {
		return store.CIBARequest{}, store.ErrNotFound
	}
	if err != nil {
		return store.CIBARequest{}, fmt.Errorf("sqlstore: scan ciba request: %w", err)
	}
	if c.Scopes, err = decodeStrings(scopes); err != nil {
		return store.CIBARequest{}, fmt.Errorf("sqlstore: scan ciba request %s: %w", c.ID, err)
	}
	c.AuthorizationDetails = optBytes(c.AuthorizationDetails)
	c.Interval = time.Duration(interval) * time.Microsecond
	c.CreatedAt, c.ExpiresAt, c.LastPollAt, c.IssuedAt = fromMicros(created), fromMicros(expires), fromMicros(poll), fromMicros(issue)
	return c, nil
}

// CreateCIBARequest implements store.OIDC.
func (s *oidc) CreateCIBARequest(ctx context.Context, c store.CIBARequest) error {
	_, err := s.exec(ctx, insertSQL("ciba_requests", cibaCols), cibaArgs(c)...)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create ciba request: %w", err)
	}
	return nil
}

// UpdateCIBARequest implements store.OIDC, locking the row like
// UpdateAuthRequest. fn cannot change the Hash or the ID.
func (s *oidc) UpdateCIBARequest(ctx context.Context, hash []byte, fn func(c *store.CIBARequest) error) (store.CIBARequest, error) {
	var out store.CIBARequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanCIBARequest(tx.QueryRowContext(ctx, "SELECT "+cibaColumns+
			" FROM ciba_requests WHERE hash = $1"+s.forUpdate(), nonNil(hash)))
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			return err
		}
		next.Hash, next.ID = cur.Hash, cur.ID
		out, err = scanCIBARequest(tx.QueryRowContext(ctx, updateSQL("ciba_requests", cibaCols)+
			" RETURNING "+cibaColumns, cibaArgs(next)...))
		return err
	})
	if err != nil {
		return store.CIBARequest{}, err
	}
	return out, nil
}

// DeleteCIBARequestsBefore implements store.OIDC.
func (s *oidc) DeleteCIBARequestsBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.execCount(ctx, "delete ciba requests", "DELETE FROM ciba_requests WHERE expires_at < $1", micros(t))
}
