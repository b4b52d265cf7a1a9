package store

import (
	"context"
	"time"
)

// AuthRequest is an OpenID Connect authorization request, from the /authorize
// call through the login to the one exchange of its code. Package oidc owns
// its rules; the store keeps it and makes the updates atomic.
type AuthRequest struct {
	ID           string // random, base64url; also the family of the tokens its code yields
	ClientID     string
	RedirectURI  string
	State        string
	Nonce        string
	Scopes       []string
	ResponseType string
	ResponseMode string
	// CodeChallenge is the PKCE S256 challenge (the only method accepted).
	CodeChallenge string
	ACRValues     []string // as requested, in order
	Prompt        []string
	MaxAge        int64 // seconds; -1 when the request gave none
	CreatedAt     time.Time
	ExpiresAt     time.Time // the login must finish, and the code be used, before this

	// Set when a login completes the request.
	PersonID    PersonID
	SessionHash []byte // the browser session that completed it: only it may fetch the code
	AuthTime    time.Time
	ACR         string
	AMR         []string
	DoneAt      time.Time

	// Set when the code is issued and used.
	CodeHash      []byte // SHA-256 of the code; unique
	CodeExpiresAt time.Time
	CodeUsedAt    time.Time
}

// Token is an access or refresh token the provider issued. The store keeps
// refresh tokens only as the SHA-256 of their value; access tokens are JWTs
// identified by their "jti" (ID), so nothing secret is stored for them.
type Token struct {
	ID       string // random, base64url: the access token's jti, the refresh token's id
	Kind     string // TokenAccess or TokenRefresh
	Hash     []byte // refresh tokens: SHA-256 of the value, unique; nil for access tokens
	Family   string // the authorization request (or CIBA request) the tokens descend from
	ClientID string
	PersonID PersonID
	Subject  string // the "sub" the client sees
	Scopes   []string
	Audience []string
	AuthTime time.Time
	ACR      string
	AMR      []string
	// AuthorizationDetails is the RFC 9396 JSON array the person approved
	// (CIBA); nil otherwise.
	AuthorizationDetails []byte
	CreatedAt            time.Time
	ExpiresAt            time.Time
	// FamilyExpiresAt is the absolute end of a refresh token family: no
	// rotation extends it.
	FamilyExpiresAt time.Time
	UsedAt          time.Time // refresh tokens: rotated (used once) at
	RevokedAt       time.Time
}

// The token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// CIBARequest is a client-initiated backchannel authentication request (poll
// mode). The store keeps only the SHA-256 of its auth_req_id.
type CIBARequest struct {
	Hash     []byte // SHA-256 of the auth_req_id
	ID       string // random, base64url: the family of the tokens it yields
	ClientID string
	// PersonID and ApprovalID are empty for an unknown login_hint: such a
	// request stays pending until it expires.
	PersonID             PersonID
	ApprovalID           string
	Scopes               []string
	ACR                  string // the level the approval needs
	BindingMessage       string
	AuthorizationDetails []byte // the RFC 9396 JSON array, exactly as approved
	Interval             time.Duration
	CreatedAt            time.Time
	ExpiresAt            time.Time
	LastPollAt           time.Time // zero until the first poll
	IssuedAt             time.Time // zero until tokens were issued (once)
}

// OIDC is the contract for the OpenID provider's requests and tokens.
type OIDC interface {
	// CreateAuthRequest stores a new request. ErrConflict if the id exists.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// AuthRequestByID returns the request, or ErrNotFound (also when it
	// expired before now).
	AuthRequestByID(ctx context.Context, id string, now time.Time) (AuthRequest, error)
	// AuthRequestByCode returns the request whose CodeHash is hash, used or
	// not, expired or not; ErrNotFound if there is none.
	AuthRequestByCode(ctx context.Context, hash []byte) (AuthRequest, error)
	// UpdateAuthRequest applies fn to the request atomically across all
	// processes and stores the result; fn may run more than once. If fn
	// returns an error nothing is written and the error is returned.
	// ErrNotFound if the request does not exist; ErrConflict if fn sets a
	// CodeHash another request has.
	UpdateAuthRequest(ctx context.Context, id string, fn func(r *AuthRequest) error) (AuthRequest, error)
	// DeleteAuthRequestsBefore removes requests that expired before t and
	// returns how many it removed.
	DeleteAuthRequestsBefore(ctx context.Context, t time.Time) (int64, error)

	// CreateTokens stores the tokens in one transaction. ErrConflict if an
	// id or hash exists (then none is stored).
	CreateTokens(ctx context.Context, toks ...Token) error
	// TokenByID returns the token, in whatever state; ErrNotFound if unknown.
	TokenByID(ctx context.Context, id string) (Token, error)
	// RefreshTokenByHash returns the refresh token with that hash, in
	// whatever state; ErrNotFound if unknown.
	RefreshTokenByHash(ctx context.Context, hash []byte) (Token, error)
	// RotateRefreshToken marks the refresh token with hash old used at now
	// and stores next, in one transaction, if that token is unused,
	// unrevoked and not expired at now: of any number of concurrent
	// rotations of one token exactly one succeeds. Otherwise nothing is
	// written and ErrConflict is returned (ErrNotFound for an unknown hash).
	RotateRefreshToken(ctx context.Context, old []byte, now time.Time, next ...Token) error
	// RevokeTokenFamily marks every unrevoked token of family revoked at now
	// and returns how many it revoked.
	RevokeTokenFamily(ctx context.Context, family string, now time.Time) (int64, error)
	// RevokeToken marks the one token revoked at now, unless it already is,
	// and returns how many it revoked (0 or 1; 0 also for an unknown id).
	RevokeToken(ctx context.Context, id string, now time.Time) (int64, error)
	// RevokeClientTokens revokes every unrevoked token the client holds for
	// the person (logout) and returns how many.
	RevokeClientTokens(ctx context.Context, person PersonID, clientID string, now time.Time) (int64, error)
	// DeleteTokensBefore removes tokens that expired before t.
	DeleteTokensBefore(ctx context.Context, t time.Time) (int64, error)

	// CreateCIBARequest stores a new request. ErrConflict if the hash or id
	// exists.
	CreateCIBARequest(ctx context.Context, c CIBARequest) error
	// UpdateCIBARequest applies fn to the request with hash atomically across
	// all processes and stores the result; fn may run more than once. If fn
	// returns an error nothing is written and the error is returned.
	// ErrNotFound for an unknown hash.
	UpdateCIBARequest(ctx context.Context, hash []byte, fn func(c *CIBARequest) error) (CIBARequest, error)
	// DeleteCIBARequestsBefore removes requests that expired before t.
	DeleteCIBARequestsBefore(ctx context.Context, t time.Time) (int64, error)
}
