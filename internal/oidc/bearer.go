package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/store"
)

// The endpoints that take an access token, userinfo (RFC 6750) and
// introspection (RFC 7662), are served here on op's verifier and Pforte's
// storage rather than by op's handlers: those answer a refused token with 403
// or text/plain and without WWW-Authenticate, and a refused client with the
// text of op's internal error chain, which no client can act on.

// maxAccessTokenLen bounds a presented access token: a JWT with the largest
// authorization_details stays well below it.
const maxAccessTokenLen = 8 << 10

// The error codes of RFC 6750 3.1.
const (
	errKindInvalidToken      = "invalid_token"
	errKindInsufficientScope = "insufficient_scope"
)

// errInactive is an access token that is malformed, not signed by Pforte,
// unknown, expired, revoked or not of its subject: the same answer for each.
var errInactive = errors.New("oidc: access token invalid, expired or revoked")

var errTokenRefused = &oauthError{http.StatusUnauthorized, errKindInvalidToken, "the access token is invalid, expired or revoked"}

// bearer serves the endpoints that take an access token: userinfo and
// introspection.
type bearer struct {
	issuer   string
	verifier verifier
	claims   *claims
	clients  *clients
	answers  answers
}

// verifier hands out op's verifier of access tokens.
type verifier interface {
	AccessTokenVerifier(ctx context.Context) *op.AccessTokenVerifier
}

// liveAccess verifies a presented access token (an ES256 JWT of this
// issuer, not expired) and returns the stored token it names if that is
// live too: errInactive otherwise.
func (b *bearer) liveAccess(ctx context.Context, raw string) (store.Token, error) {
	if raw == "" || len(raw) > maxAccessTokenLen {
		return store.Token{}, errInactive
	}
	ctx = op.ContextWithIssuer(ctx, b.issuer)
	v := b.verifier.AccessTokenVerifier(ctx)
	v.SupportedSignAlgs = []string{string(jose.ES256)}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, raw, v)
	if err != nil {
		return store.Token{}, errInactive
	}
	return b.claims.live(ctx, claims.JWTID, claims.Subject)
}

// claims reads what a live access token grants: the storage (for op) and
// the userinfo and introspection endpoints share it.
type claims struct {
	st      Store
	persons Persons
	issuer  string
	clock   clock
}

// live returns the access token with id if it is live at the provider's
// clock and belongs to subject: errInactive otherwise.
func (c *claims) live(ctx context.Context, id, subject string) (store.Token, error) {
	if id == "" || len(id) > 64 {
		return store.Token{}, errInactive
	}
	t, err := c.st.TokenByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errInactive
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("oidc: access token: %w", err)
	}
	if t.Kind != store.TokenAccess || !t.RevokedAt.IsZero() || !c.clock.now().Before(t.ExpiresAt) || t.Subject != subject {
		return store.Token{}, errInactive
	}
	return t, nil
}

// userinfo sets sub and the claims of scopes.
func (c *claims) userinfo(ctx context.Context, ui *oidc.UserInfo, person store.PersonID, subject string, scopes []string) error {
	ui.Subject = subject
	if !slices.Contains(scopes, ScopeProfile) && !slices.Contains(scopes, ScopeKVNR) {
		return nil
	}
	p, err := c.persons.PersonByID(ctx, person)
	if err != nil {
		return fmt.Errorf("oidc: userinfo: %w", err)
	}
	if slices.Contains(scopes, ScopeProfile) {
		ui.GivenName = p.GivenNames
		ui.FamilyName = p.FamilyName
		ui.Name = strings.TrimSpace(p.GivenNames + " " + p.FamilyName)
	}
	if slices.Contains(scopes, ScopeKVNR) {
		ui.AppendClaims(ClaimKVNR, p.KVNR)
	}
	return nil
}

// introspection describes the live access token t to the client clientID:
// errInactive unless the token is the client's or names it as audience.
func (c *claims) introspection(ctx context.Context, resp *oidc.IntrospectionResponse, t store.Token, clientID string) error {
	if t.ClientID != clientID && !slices.Contains(t.Audience, clientID) {
		return errInactive
	}
	ui := new(oidc.UserInfo)
	if err := c.userinfo(ctx, ui, t.PersonID, t.Subject, t.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(ui)
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.AuthTime = oidc.FromTime(t.AuthTime)
	resp.Audience = t.Audience
	resp.AuthenticationMethodsReferences = t.AMR
	resp.Issuer = c.issuer
	resp.JWTID = t.ID
	if resp.Claims == nil {
		resp.Claims = map[string]any{}
	}
	resp.Claims["acr"] = t.ACR
	if t.AuthorizationDetails != nil {
		resp.Claims["authorization_details"] = json.RawMessage(t.AuthorizationDetails)
	}
	return nil
}

// bearerToken finds the access token of a userinfo request: in the
// Authorization header, or as access_token in a POST form body (RFC 6750 2.1
// and 2.2). Without one the error has no code (RFC 6750 3.1); a token in the
// URL, or in two places, is invalid_request.
func bearerToken(r *http.Request) (string, *oauthError) {
	if r.URL.Query().Has("access_token") {
		return "", badRequest(oidc.InvalidRequest, "send the access token in the Authorization header, not in the URL")
	}
	headers := r.Header.Values("Authorization")
	form, inForm := r.PostForm["access_token"]
	if len(headers) > 1 || len(form) > 1 {
		return "", badRequest(oidc.InvalidRequest, "send one access token")
	}
	if len(headers) == 1 {
		scheme, token, _ := strings.Cut(headers[0], " ")
		if strings.EqualFold(scheme, oidc.BearerToken) {
			if inForm {
				return "", badRequest(oidc.InvalidRequest, "send the access token in one way only")
			}
			if !b64token(token) {
				return "", errTokenRefused
			}
			return token, nil
		}
	}
	if inForm {
		return form[0], nil
	}
	return "", &oauthError{status: http.StatusUnauthorized}
}

// b64token reports whether s is a token68 (RFC 6750 2.1): what a bearer
// token may look like.
func b64token(s string) bool {
	body := strings.TrimRight(s, "=")
	return body != "" && !strings.ContainsFunc(body, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && !strings.ContainsRune("-._~+/", r)
	})
}

// writeBearerError answers a userinfo request refused under RFC 6750 3:
// the challenge names the error (none when the request had no token), and
// the body is the same OAuth error object as elsewhere.
func writeBearerError(rw http.ResponseWriter, e *oauthError) {
	challenge := oidc.BearerToken
	if e.kind != "" {
		challenge += ` error="` + e.kind + `", error_description="` + e.desc + `"`
	}
	if e.kind == errKindInsufficientScope {
		challenge += `, scope="` + ScopeOpenID + `"`
	}
	rw.Header().Set("WWW-Authenticate", challenge)
	if e.kind == "" {
		rw.Header().Set("Cache-Control", "no-store")
		rw.WriteHeader(e.status)
		return
	}
	writeError(rw, e.status, e.kind, e.desc)
}

// userinfo is the UserInfo endpoint (OpenID Connect Core 5.3): the claims
// of a live access token's scopes, for tokens that carry openid.
func (b *bearer) userinfo(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		rw.Header().Set("Allow", "GET, POST")
		writeError(rw, http.StatusMethodNotAllowed, string(oidc.InvalidRequest), "use GET or POST")
		return
	}
	raw, oe := bearerToken(r)
	if oe != nil {
		writeBearerError(rw, oe)
		return
	}
	t, err := b.liveAccess(r.Context(), raw)
	if errors.Is(err, errInactive) {
		writeBearerError(rw, errTokenRefused)
		return
	}
	if err != nil {
		b.answers.answer(rw, r, "userinfo", nil, err)
		return
	}
	if !slices.Contains(t.Scopes, ScopeOpenID) {
		writeBearerError(rw, &oauthError{http.StatusForbidden, errKindInsufficientScope, "the access token lacks the scope openid"})
		return
	}
	ui := new(oidc.UserInfo)
	err = b.claims.userinfo(r.Context(), ui, t.PersonID, t.Subject, t.Scopes)
	if errors.Is(err, store.ErrNotFound) { // the person is gone
		writeBearerError(rw, errTokenRefused)
		return
	}
	b.answers.answer(rw, r, "userinfo", ui, err)
}

// introspect is the introspection endpoint (RFC 7662) for confidential
// clients authenticated with HTTP Basic: active only for a live access
// token issued to the asking client (or naming it as audience).
func (b *bearer) introspect(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		writeError(rw, http.StatusMethodNotAllowed, string(oidc.InvalidRequest), "use POST")
		return
	}
	res, err := b.introspection(r)
	b.answers.answer(rw, r, "introspection", res, err)
}

func (b *bearer) introspection(r *http.Request) (*oidc.IntrospectionResponse, error) {
	if r.PostForm.Get("client_secret") != "" || r.PostForm.Get("client_assertion") != "" {
		return nil, &oauthError{http.StatusUnauthorized, string(oidc.InvalidClient), "authenticate with HTTP Basic (client_secret_basic)"}
	}
	c, oe := b.clients.basic(r)
	if oe != nil {
		return nil, oe
	}
	tokens := r.PostForm["token"]
	if len(tokens) != 1 {
		return nil, badRequest(oidc.InvalidRequest, "send the token to introspect, once")
	}
	res := new(oidc.IntrospectionResponse)
	t, err := b.liveAccess(r.Context(), tokens[0])
	if errors.Is(err, errInactive) {
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	err = b.claims.introspection(r.Context(), res, t, c.cfg.ID)
	if errors.Is(err, errInactive) || errors.Is(err, store.ErrNotFound) {
		return new(oidc.IntrospectionResponse), nil
	}
	if err != nil {
		return nil, err
	}
	res.Active = true
	return res, nil
}
