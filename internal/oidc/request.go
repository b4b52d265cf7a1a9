package oidc

import (
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/store"
)

// authRequest is a stored authorization request in the shape package op
// asks for. subject is empty until a login completed it.
type authRequest struct {
	r       store.AuthRequest
	subject string
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.r.ID }
func (a *authRequest) GetACR() string         { return a.r.ACR }
func (a *authRequest) GetAMR() []string       { return a.r.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetNonce() string       { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.r.Scopes }
func (a *authRequest) GetState() string       { return a.r.State }
func (a *authRequest) GetSubject() string     { return a.subject }
func (a *authRequest) Done() bool             { return !a.r.DoneAt.IsZero() }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.ResponseMode)
}

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}

// LogValue shows the request's id and client only: package op logs auth
// requests, and state, nonce and challenge are the client's secrets.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.r.ID), slog.String("client_id", a.r.ClientID))
}

// refreshRequest is a stored refresh token in the shape package op asks for.
type refreshRequest struct {
	t      store.Token
	scopes []string // narrowed by the client's request, else the token's
	value  string   // the presented token
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.t.Subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = slices.Clone(s) }

// cibaGrant is an approved CIBA request in the shape package op's token
// functions ask for. It is an op.AuthRequest so that ID tokens carry its acr.
type cibaGrant struct {
	c        store.CIBARequest
	subject  string
	authTime time.Time
	amr      []string
	acr      string
}

func (g *cibaGrant) GetID() string                         { return g.c.ID }
func (g *cibaGrant) GetACR() string                        { return g.acr }
func (g *cibaGrant) GetAMR() []string                      { return g.amr }
func (g *cibaGrant) GetAudience() []string                 { return []string{g.c.ClientID} }
func (g *cibaGrant) GetAuthTime() time.Time                { return g.authTime }
func (g *cibaGrant) GetClientID() string                   { return g.c.ClientID }
func (g *cibaGrant) GetCodeChallenge() *oidc.CodeChallenge { return nil }
func (g *cibaGrant) GetNonce() string                      { return "" }
func (g *cibaGrant) GetRedirectURI() string                { return "" }
func (g *cibaGrant) GetResponseType() oidc.ResponseType    { return "" }
func (g *cibaGrant) GetResponseMode() oidc.ResponseMode    { return "" }
func (g *cibaGrant) GetScopes() []string                   { return g.c.Scopes }
func (g *cibaGrant) GetState() string                      { return "" }
func (g *cibaGrant) GetSubject() string                    { return g.subject }
func (g *cibaGrant) Done() bool                            { return true }
