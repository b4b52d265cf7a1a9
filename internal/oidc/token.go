package oidc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/pforte/pforte/internal/store"
)

// tokenGate makes the checks package op makes too late, in front of its
// token and revocation endpoints, and sends the CIBA grant, which op does
// not know, to ciba.
type tokenGate struct {
	st      Store
	clients *clients
	ciba    http.Handler
}

// token sends the CIBA grant to Pforte's handler and the code and refresh
// grants to op, after checks op makes too late: op uses up a code (and, for a
// replay, revokes its tokens) before it authenticates the client and checks
// PKCE, and handles a refresh token's reuse before it compares the client.
// So here the client authenticates first (confidential clients with HTTP
// Basic only), and a code or refresh token that is not the client's, or a
// code whose verifier does not match, is refused without touching it. Only
// POST is answered (RFC 6749 3.2): op would take a GET's query as the form
// and skip these checks.
func (g *tokenGate) token(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", http.MethodPost)
			writeError(rw, http.StatusMethodNotAllowed, string(oidc.InvalidRequest), "use POST")
			return
		}
		grant := r.PostForm.Get("grant_type")
		if grant == cibaGrantType {
			g.ciba.ServeHTTP(rw, r)
			return
		}
		if grant != string(oidc.GrantTypeCode) && grant != string(oidc.GrantTypeRefreshToken) {
			writeError(rw, http.StatusBadRequest, string(oidc.UnsupportedGrantType), "supported: authorization_code, refresh_token, "+cibaGrantType)
			return
		}
		c, oe := g.clients.tokenClient(r)
		if oe != nil {
			writeError(rw, oe.status, oe.kind, oe.desc)
			return
		}
		read, oe := g.checkGrant(r, c, grant)
		if oe != nil {
			writeError(rw, oe.status, oe.kind, oe.desc)
			return
		}
		inner.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), grantReadKey{}, read)))
	})
}

// grantRead is what checkGrant read of the presented code or refresh token
// (nil pointers when it found nothing); the storage methods op calls next in
// the same request take it from the context instead of reading it again.
type grantRead struct {
	hash    []byte
	code    *store.AuthRequest
	refresh *store.Token
}

type grantReadKey struct{}

// grantReadFrom returns what the request's checks read for hash.
func grantReadFrom(ctx context.Context, hash []byte) (grantRead, bool) {
	g, ok := ctx.Value(grantReadKey{}).(grantRead)
	return g, ok && bytes.Equal(g.hash, hash)
}

// checkGrant refuses a code or refresh token that belongs to another client,
// and a code whose PKCE verifier does not match, before op uses either. It
// returns what it read.
func (g *tokenGate) checkGrant(r *http.Request, c *client, grant string) (grantRead, *oauthError) {
	invalid := badRequest(oidc.InvalidGrant, "the grant is invalid, expired, used, or another client's")
	if grant == string(oidc.GrantTypeRefreshToken) {
		value := r.PostForm.Get("refresh_token")
		if value == "" || len(value) > maxTokenLen {
			return grantRead{}, invalid
		}
		read := grantRead{hash: digest(value)}
		t, err := g.st.RefreshTokenByHash(r.Context(), read.hash)
		if err != nil {
			return grantRead{}, nil // op refuses an unknown token the same way
		}
		if t.ClientID != c.cfg.ID {
			return grantRead{}, invalid
		}
		read.refresh = &t
		return read, nil
	}
	code, verifier := r.PostForm.Get("code"), r.PostForm.Get("code_verifier")
	if code == "" || len(code) > maxTokenLen {
		return grantRead{}, invalid
	}
	read := grantRead{hash: digest(code)}
	req, err := g.st.AuthRequestByCode(r.Context(), read.hash)
	if err != nil {
		return grantRead{}, nil // op refuses an unknown code the same way
	}
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	if req.ClientID != c.cfg.ID || len(verifier) < 43 || len(verifier) > 128 ||
		subtle.ConstantTimeCompare([]byte(challenge), []byte(req.CodeChallenge)) != 1 {
		return grantRead{}, invalid
	}
	read.code = &req
	return read, nil
}

// revoke is the revocation endpoint (RFC 7009) in front of op's: the client
// authenticates as at the token endpoint (HTTP Basic, or a public client by
// its client_id) before op revokes anything.
func (g *tokenGate) revoke(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", http.MethodPost)
			writeError(rw, http.StatusMethodNotAllowed, string(oidc.InvalidRequest), "use POST")
			return
		}
		if _, oe := g.clients.tokenClient(r); oe != nil {
			writeError(rw, oe.status, oe.kind, oe.desc)
			return
		}
		inner.ServeHTTP(rw, r)
	})
}
