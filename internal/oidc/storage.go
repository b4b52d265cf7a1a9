package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// storage is the op.Storage of the provider: package op calls it for every
// standard endpoint. Each method's rules are Pforte's, stated where they
// differ from what op would accept. op.Storage and the optional interfaces
// below dictate its methods, which is why arch_graph_test.go lets it pass
// the limit of 25.
type storage struct {
	cfg     Config // the lifetimes of requests, codes and tokens
	st      Store
	clients *clients
	keys    Keys
	browser Browser
	claims  *claims
	clock   clock
	rec     recorder
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// Limits on what an authorization request may carry.
const (
	maxStateLen = 512
	maxNonceLen = 512
	maxTokenLen = 2048 // a presented refresh token or id
)

// errUnknownClient is a plain error: package op answers it as invalid_client
// (a server_error would be a 500).
var errUnknownClient = errors.New("oidc: unknown client or wrong secret")

func invalidRequest(desc string) error { return oidc.ErrInvalidRequest().WithDescription("%s", desc) }

// CreateAuthRequest stores the request after Pforte's own checks: PKCE with
// S256 for every client, bounded state and nonce, the query response mode,
// and acr_values the client is allowed.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, ok := s.clients.byID[req.ClientID]
	if !ok {
		return nil, errUnknownClient
	}
	switch {
	case req.CodeChallenge == "":
		return nil, invalidRequest("code_challenge is required (PKCE with S256)")
	case req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, invalidRequest("code_challenge_method must be S256")
	case !validChallenge(req.CodeChallenge):
		return nil, invalidRequest("code_challenge must be 43 base64url characters")
	case len(req.State) > maxStateLen || !visible(req.State):
		return nil, invalidRequest("state must be at most 512 visible ASCII characters")
	case len(req.Nonce) > maxNonceLen || !visible(req.Nonce):
		return nil, invalidRequest("nonce must be at most 512 visible ASCII characters")
	case !allVisible(req.ACRValues, 256) || !allVisible(req.Prompt, 32):
		return nil, invalidRequest("acr_values and prompt must be visible ASCII")
	case req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery:
		return nil, invalidRequest("response_mode must be query")
	case len(req.ACRValues) > 8 || len(req.Prompt) > 4:
		return nil, invalidRequest("too many acr_values or prompt values")
	}
	if _, ok := c.levelFor(req.ACRValues); !ok {
		return nil, oidc.ErrAccessDenied().WithDescription("acr_values: no requested level is available to this client")
	}
	scopes := slices.DeleteFunc(slices.Clone([]string(req.Scopes)), func(sc string) bool { return !c.IsScopeAllowed(sc) })
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	maxAge := int64(-1)
	if req.MaxAge != nil {
		maxAge = int64(min(*req.MaxAge, 1<<31))
	}
	now := s.clock.now()
	r := store.AuthRequest{ID: randomID(), ClientID: c.cfg.ID, RedirectURI: req.RedirectURI, State: req.State,
		Nonce: req.Nonce, Scopes: scopes, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, ACRValues: slices.Clone([]string(req.ACRValues)), Prompt: slices.Clone([]string(req.Prompt)),
		MaxAge: maxAge, CreatedAt: now, ExpiresAt: now.Add(s.cfg.LoginTTL)}
	if err := s.st.CreateAuthRequest(ctx, r); err != nil {
		return nil, fmt.Errorf("oidc: create auth request: %w", err)
	}
	return &authRequest{r: r}, nil
}

// visible reports whether s has only the characters RFC 6749 A.5 allows in
// state (VSCHAR: printable ASCII and space).
func visible(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e })
}

// allVisible reports whether every value is visible and at most max bytes.
func allVisible(values []string, max int) bool {
	return !slices.ContainsFunc(values, func(v string) bool { return len(v) > max || !visible(v) })
}

// validChallenge reports whether ch is an S256 challenge: the base64url
// (unpadded) encoding of 32 bytes.
func validChallenge(ch string) bool { return len(ch) == 43 && base64URL(ch) }

// wrap gives a stored request its subject.
func (s *storage) wrap(r store.AuthRequest) *authRequest {
	a := &authRequest{r: r}
	if c, ok := s.clients.byID[r.ClientID]; ok && r.PersonID != 0 {
		a.subject = s.clients.subject(c, r.PersonID)
	}
	return a
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	if len(id) > 64 {
		return nil, errors.New("oidc: unknown auth request")
	}
	r, err := s.st.AuthRequestByID(ctx, id, s.clock.now())
	if err != nil {
		return nil, fmt.Errorf("oidc: auth request: %w", err)
	}
	return s.wrap(r), nil
}

// errCodeReplayed and errCodeExpired end an exchange; op answers both as
// invalid_grant.
var (
	errCodeReplayed = errors.New("oidc: authorization code used twice")
	errCodeExpired  = errors.New("oidc: authorization code expired")
)

// AuthRequestByCode uses the code, once: the atomic update that marks it used
// is the check. A code presented a second time revokes every token issued for
// it (RFC 6749 10.5).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if len(code) > maxTokenLen {
		return nil, errors.New("oidc: unknown code")
	}
	hash := digest(code)
	var found store.AuthRequest
	var err error
	if read, ok := grantReadFrom(ctx, hash); ok && read.code != nil {
		found = *read.code
	} else if found, err = s.st.AuthRequestByCode(ctx, hash); err != nil {
		return nil, fmt.Errorf("oidc: code: %w", err)
	}
	now := s.clock.now()
	r, err := s.st.UpdateAuthRequest(ctx, found.ID, func(r *store.AuthRequest) error {
		switch {
		case !r.CodeUsedAt.IsZero():
			return errCodeReplayed
		case !now.Before(r.CodeExpiresAt):
			return errCodeExpired
		}
		r.CodeUsedAt = now
		return nil
	})
	if errors.Is(err, errCodeReplayed) {
		n, rerr := s.st.RevokeTokenFamily(ctx, found.ID, now)
		if rerr != nil {
			return nil, fmt.Errorf("oidc: revoke after code replay: %w", rerr)
		}
		s.rec.record(ctx, audit.Event{Actor: "client:" + found.ClientID, Event: "oidc.code_replayed", Subject: personRef(found.PersonID),
			Details: map[string]any{"client": found.ClientID, "request": found.ID, "revoked": n}})
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: use code: %w", err)
	}
	return s.wrap(r), nil
}

// SaveAuthCode stores the code's digest, once per request, and starts its
// CodeTTL.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	now := s.clock.now()
	_, err := s.st.UpdateAuthRequest(ctx, id, func(r *store.AuthRequest) error {
		if r.DoneAt.IsZero() || r.CodeHash != nil {
			return invalidRequest("the authorization request is not complete or was already used")
		}
		r.CodeHash = digest(code)
		r.CodeExpiresAt = now.Add(s.cfg.CodeTTL)
		return nil
	})
	return err
}

// DeleteAuthRequest keeps the request: it stays, its code used, until it
// expires, so that a replayed code is recognised and revokes its tokens.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// grant is what every token carries of the login it descends from.
type grant struct {
	family, clientID, subject string
	person                    store.PersonID
	scopes                    []string
	authTime                  time.Time
	acr                       string
	amr                       []string
	details                   []byte
	familyExpires             time.Time
}

func (s *storage) grantOf(req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *authRequest:
		c := s.clients.byID[r.r.ClientID]
		g := grant{family: r.r.ID, clientID: r.r.ClientID, subject: r.subject, person: r.r.PersonID, scopes: r.r.Scopes,
			authTime: r.r.AuthTime, acr: r.r.ACR, amr: r.r.AMR}
		if c != nil {
			g.familyExpires = s.clock.now().Add(c.cfg.RefreshMax)
		}
		return g, nil
	case *refreshRequest:
		return grant{family: r.t.Family, clientID: r.t.ClientID, subject: r.t.Subject, person: r.t.PersonID, scopes: r.scopes,
			authTime: r.t.AuthTime, acr: r.t.ACR, amr: r.t.AMR, familyExpires: r.t.FamilyExpiresAt}, nil
	case *cibaGrant:
		return grant{family: r.c.ID, clientID: r.c.ClientID, subject: r.subject, person: r.c.PersonID, scopes: r.c.Scopes,
			authTime: r.authTime, acr: r.acr, amr: r.amr, details: r.c.AuthorizationDetails}, nil
	}
	return grant{}, fmt.Errorf("oidc: unsupported token request %T", req)
}

func (s *storage) accessToken(g grant, now time.Time) store.Token {
	return store.Token{ID: randomID(), Kind: store.TokenAccess, Family: g.family, ClientID: g.clientID, PersonID: g.person,
		Subject: g.subject, Scopes: g.scopes, Audience: []string{g.clientID}, AuthTime: g.authTime, ACR: g.acr, AMR: g.amr,
		AuthorizationDetails: g.details, CreatedAt: now, ExpiresAt: now.Add(s.cfg.AccessTTL)}
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := s.grantOf(req)
	if err != nil {
		return "", time.Time{}, err
	}
	t := s.accessToken(g, s.clock.now())
	if err := s.st.CreateTokens(ctx, t); err != nil {
		return "", time.Time{}, fmt.Errorf("oidc: store access token: %w", err)
	}
	s.recordIssued(ctx, g, grantName(req), false)
	return t.ID, t.ExpiresAt, nil
}

func grantName(req op.TokenRequest) string {
	switch req.(type) {
	case *refreshRequest:
		return "refresh_token"
	case *cibaGrant:
		return "ciba"
	}
	return "authorization_code"
}

func (s *storage) recordIssued(ctx context.Context, g grant, grantType string, refresh bool) {
	s.rec.record(ctx, audit.Event{Actor: "client:" + g.clientID, Event: "oidc.token_issued", Subject: personRef(g.person),
		Details: map[string]any{"client": g.clientID, "grant": grantType, "family": g.family, "acr": g.acr, "refresh": refresh}})
}

// CreateAccessAndRefreshTokens issues a new access and refresh token. For a
// refresh grant the presented token is rotated: marked used in the same
// transaction that stores its successor, so of parallel uses exactly one
// succeeds, and every other use is a reuse that revokes the whole family.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := s.grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	c, ok := s.clients.byID[g.clientID]
	if !ok {
		return "", "", time.Time{}, errUnknownClient
	}
	now := s.clock.now()
	access := s.accessToken(g, now)
	value := randomSecret()
	refresh := store.Token{ID: randomID(), Kind: store.TokenRefresh, Hash: digest(value), Family: g.family, ClientID: g.clientID,
		PersonID: g.person, Subject: g.subject, Scopes: g.scopes, Audience: []string{g.clientID}, AuthTime: g.authTime,
		ACR: g.acr, AMR: g.amr, CreatedAt: now, ExpiresAt: minTime(now.Add(c.cfg.RefreshIdle), g.familyExpires),
		FamilyExpiresAt: g.familyExpires}
	if r, ok := req.(*refreshRequest); ok {
		refresh.Scopes = r.t.Scopes // narrowing applies to this access token only
		err := s.st.RotateRefreshToken(ctx, digest(current), now, access, refresh)
		if errors.Is(err, store.ErrConflict) {
			return "", "", time.Time{}, s.reused(ctx, r.t)
		}
		if err != nil {
			return "", "", time.Time{}, fmt.Errorf("oidc: rotate refresh token: %w", err)
		}
	} else if err := s.st.CreateTokens(ctx, access, refresh); err != nil {
		return "", "", time.Time{}, fmt.Errorf("oidc: store tokens: %w", err)
	}
	s.recordIssued(ctx, g, grantName(req), true)
	return access.ID, value, access.ExpiresAt, nil
}

func minTime(a, b time.Time) time.Time {
	if !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// reused handles a refresh token presented after it was rotated: the whole
// family (every access and refresh token from that login) is revoked.
func (s *storage) reused(ctx context.Context, t store.Token) error {
	n, err := s.st.RevokeTokenFamily(ctx, t.Family, s.clock.now())
	if err != nil {
		return fmt.Errorf("oidc: revoke family after reuse: %w", err)
	}
	s.rec.record(ctx, audit.Event{Actor: "client:" + t.ClientID, Event: "oidc.refresh_reused", Subject: personRef(t.PersonID),
		Details: map[string]any{"client": t.ClientID, "family": t.Family, "revoked": n}})
	return oidc.ErrInvalidGrant().WithDescription("refresh token was already used; the grant is revoked")
}

// TokenRequestByRefreshToken finds the presented refresh token. A used one is
// a reuse and revokes its family.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, value string) (op.RefreshTokenRequest, error) {
	if value == "" || len(value) > maxTokenLen {
		return nil, op.ErrInvalidRefreshToken
	}
	hash := digest(value)
	var t store.Token
	if read, ok := grantReadFrom(ctx, hash); ok && read.refresh != nil {
		t = *read.refresh
	} else {
		var err error
		t, err = s.st.RefreshTokenByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, op.ErrInvalidRefreshToken
		}
		if err != nil {
			return nil, fmt.Errorf("oidc: refresh token: %w", err)
		}
	}
	now := s.clock.now()
	switch {
	case !t.RevokedAt.IsZero() || !now.Before(t.ExpiresAt):
		return nil, op.ErrInvalidRefreshToken
	case !t.UsedAt.IsZero():
		return nil, s.reused(ctx, t)
	}
	// Staff locked the person's access: no new tokens.
	if l, err := locked(ctx, s.st, t.PersonID); err != nil {
		return nil, err
	} else if l {
		return nil, op.ErrInvalidRefreshToken
	}
	return &refreshRequest{t: t, scopes: slices.Clone(t.Scopes), value: value}, nil
}

// TerminateSession is not used: TerminateSessionFromRequest replaces it.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the browser's portal session and revokes
// the tokens the client holds for the person, but only when the
// id_token_hint names the person of that session for that client: someone
// else's valid ID token does not log this browser out.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	call, _ := ctx.Value(browserKey{}).(browserCall)
	c, ok := s.clients.byID[req.ClientID]
	if call.r == nil || !ok || req.IDTokenHintClaims == nil {
		return req.RedirectURI, nil
	}
	sess, live := s.browser.Session(call.r)
	if !live || req.IDTokenHintClaims.Subject != s.clients.subject(c, sess.PersonID) {
		return req.RedirectURI, nil
	}
	if err := s.browser.EndSession(call.rw, call.r); err != nil {
		return "", fmt.Errorf("oidc: end portal session: %w", err)
	}
	n, err := s.st.RevokeClientTokens(ctx, sess.PersonID, c.cfg.ID, s.clock.now())
	if err != nil {
		return "", fmt.Errorf("oidc: revoke at logout: %w", err)
	}
	s.rec.record(ctx, audit.Event{Actor: personRef(sess.PersonID), Event: "oidc.logout", Subject: personRef(sess.PersonID),
		Details: map[string]any{"client": c.cfg.ID, "revoked": n}})
	return req.RedirectURI, nil
}

// RevokeToken revokes an access token (by its id) or a refresh token (by its
// value) of the client: a refresh token with its whole family. Unknown or
// foreign tokens are no error (RFC 7009 2.2).
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.clock.now()
	var t store.Token
	var err error
	if userID == "" {
		if len(tokenOrID) > maxTokenLen {
			return nil
		}
		t, err = s.st.RefreshTokenByHash(ctx, digest(tokenOrID))
	} else {
		t, err = s.st.TokenByID(ctx, tokenOrID)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.ClientID != clientID) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError()
	}
	var n int64
	if t.Kind == store.TokenRefresh {
		n, err = s.st.RevokeTokenFamily(ctx, t.Family, now)
	} else {
		n, err = s.st.RevokeToken(ctx, t.ID, now)
	}
	if err != nil {
		return oidc.ErrServerError()
	}
	s.rec.record(ctx, audit.Event{Actor: "client:" + clientID, Event: "oidc.token_revoked", Subject: personRef(t.PersonID),
		Details: map[string]any{"client": clientID, "kind": t.Kind, "family": t.Family, "revoked": n}})
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, value string) (string, string, error) {
	if len(value) > maxTokenLen {
		return "", "", op.ErrInvalidRefreshToken
	}
	t, err := s.st.RefreshTokenByHash(ctx, digest(value))
	if err != nil || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.Subject, t.ID, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.keys.SigningKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key: %w", err)
	}
	return k, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.keys.KeySet(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: key set: %w", err)
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out, nil
}

// GetClientByClientID answers an unknown client with invalid_client: some
// of op's callers pass the error on as it is, and a plain error would be a
// 500 there.
func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if c, ok := s.clients.byID[id]; ok {
		return c, nil
	}
	return nil, oidc.ErrInvalidClient().WithDescription("unknown client").WithParent(errUnknownClient)
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients.byID[id]
	if !ok {
		secretDigest(secret) // the same work for unknown clients
		return oidc.ErrInvalidClient().WithParent(errUnknownClient)
	}
	if !c.authenticate(secret) {
		return oidc.ErrInvalidClient().WithParent(errUnknownClient)
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in package op; SetUserinfoFromRequest
// does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromToken is op's way to userinfo; bearer.userinfo serves the
// endpoint with the same rules.
func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, id, subject, _ string) error {
	t, err := s.claims.live(ctx, id, subject)
	if err != nil {
		return oidc.ErrInvalidRequest().WithDescription("invalid_token")
	}
	return s.claims.userinfo(ctx, ui, t.PersonID, t.Subject, t.Scopes)
}

// SetIntrospectionFromToken is op's way to introspection; bearer.introspect
// serves the endpoint with the same rules.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, id, subject, clientID string) error {
	t, err := s.claims.live(ctx, id, subject)
	if err != nil {
		return oidc.ErrInvalidRequest().WithDescription("invalid_token")
	}
	return s.claims.introspection(ctx, resp, t, clientID)
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds to JWT access tokens their scope, acr and,
// for CIBA, the approved authorization_details.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	g, err := s.grantOf(req)
	if err != nil {
		return nil, err
	}
	claims := map[string]any{"scope": strings.Join(g.scopes, " "), "acr": g.acr, "auth_time": g.authTime.Unix()}
	if g.details != nil {
		claims["authorization_details"] = json.RawMessage(g.details)
	}
	return claims, nil
}

// SetUserinfoFromRequest sets the claims of an ID token: those of its scopes
// (op has already removed profile when an access token goes with it) and,
// for a refreshed ID token, the acr of the original login.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var person store.PersonID
	switch r := req.(type) {
	case *authRequest:
		person = r.r.PersonID
	case *refreshRequest:
		person = r.t.PersonID
		ui.AppendClaims("acr", r.t.ACR)
	case *cibaGrant:
		person = r.c.PersonID
	default:
		return fmt.Errorf("oidc: unsupported ID token request %T", req)
	}
	return s.claims.userinfo(ctx, ui, person, req.GetSubject(), scopes)
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidc: JWT profile is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidc: JWT profile is not supported")
}

func (s *storage) Health(ctx context.Context) error { return s.st.Ping(ctx) }
