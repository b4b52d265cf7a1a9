package sim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxTokenForm bounds the token request body.
const maxTokenForm = 16 << 10

// handleToken redeems a code for an ID token and an access token.
func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be a form of at most 16 KiB")
		return
	}
	form := r.PostForm
	client, ok := s.authenticate(w, r, form)
	if !ok {
		return
	}
	grantType, ok1 := single(form, "grant_type")
	code, ok2 := single(form, "code")
	redirectURI, ok3 := single(form, "redirect_uri")
	verifier, ok4 := single(form, "code_verifier")
	switch {
	case !ok1 || !ok2 || !ok3 || !ok4:
		oauthError(w, http.StatusBadRequest, "invalid_request", "a parameter is repeated or malformed")
		return
	case grantType != "authorization_code":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	case code == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "code is required")
		return
	}

	now := s.now()
	accessToken := randomString(32)
	var g grant
	s.mu.Lock()
	redeemed, problem := s.redeem(now, code, client.ID, redirectURI, verifier)
	if problem == "" {
		redeemed.accessToken = accessToken
		redeemed.txn = randomString(16)
		g = *redeemed
		tg := g
		tg.expires = now.Add(TokenLifetime)
		s.tokens[accessToken] = &tg
	}
	s.mu.Unlock()
	if problem != "" {
		s.log.InfoContext(r.Context(), "eid simulator refused code", "client_id", client.ID, "reason", problem)
		oauthError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}

	idToken, err := s.idToken(g, now)
	if err != nil {
		s.log.ErrorContext(r.Context(), "eid simulator could not sign", "error", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	s.log.InfoContext(r.Context(), "eid simulator issued tokens", "client_id", client.ID, "identity", g.identity)
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": accessToken,
		"token_type":   "Bearer",
		"expires_in":   int(TokenLifetime / time.Second),
		"id_token":     idToken,
		"scope":        "openid",
	})
}

// redeem consumes code for client and checks redirect URI and PKCE verifier;
// s.mu is held. Any attempt consumes the code; a second use also revokes the
// access token issued for the first (RFC 6749 section 4.1.2).
func (s *Simulator) redeem(now time.Time, code, clientID, redirectURI, verifier string) (*grant, string) {
	g := s.codes[code]
	switch {
	case g == nil:
		return nil, "unknown code"
	case g.clientID != clientID:
		return nil, "code was issued to another client"
	case g.used:
		delete(s.tokens, g.accessToken)
		return nil, "code already used"
	}
	g.used = true
	switch {
	case now.After(g.expires):
		return nil, "code expired"
	case redirectURI != g.redirectURI:
		return nil, "redirect_uri differs from the authorization request"
	case !validVerifier(verifier):
		return nil, "code_verifier must be 43 to 128 unreserved characters"
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		return nil, "code_verifier does not match code_challenge"
	}
	return g, ""
}

// validVerifier checks RFC 7636 section 4.1.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// authenticate checks client_secret_basic or client_secret_post and answers
// invalid_client when neither holds.
func (s *Simulator) authenticate(w http.ResponseWriter, r *http.Request, form url.Values) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	postID, okID := single(form, "client_id")
	postSecret, okSecret := single(form, "client_secret")
	if basic {
		if postSecret != "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "use one client authentication method")
			return Client{}, false
		}
		// RFC 6749 section 2.3.1: both are form-encoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || (postID != "" && postID != id) {
			basic, id = false, ""
		}
	} else {
		id, secret = postID, postSecret
		if !okID || !okSecret {
			id = ""
		}
	}
	c, known := s.clients[id]
	// Compare even for an unknown client, so both take the same time.
	want := c.Secret
	if !known {
		want = "\x00unknown client"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !known || secret == "" {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="eid-sim"`)
		}
		s.log.InfoContext(r.Context(), "eid simulator refused client", "reason", "client authentication")
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return Client{}, false
	}
	return c, true
}

// subject returns the identity's pseudonym for the client: stable across
// restarts, different per client, like a partner's pairwise subject.
func (s *Simulator) subject(id Identity, clientID string) string {
	if id.Subject != "" {
		return id.Subject
	}
	h := sha256.New()
	for _, part := range []string{"pforte-eid-sim/sub/v1", clientID, id.FamilyName, id.GivenNames, id.BirthDate, id.Label} {
		fmt.Fprintf(h, "%d:%s|", len(part), part)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// personClaims returns the identity's claims, plain or as verified_claims.
func personClaims(id Identity, authTime time.Time, txn string) map[string]any {
	claims := map[string]any{"family_name": id.FamilyName, "birthdate": id.BirthDate}
	set := func(m map[string]any, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(claims, "given_name", id.GivenNames)
	set(claims, "birth_family_name", id.BirthName)
	if id.Nationality != "" {
		claims["nationalities"] = []string{id.Nationality}
	}
	if id.Address != (Address{}) {
		a := map[string]any{}
		set(a, "street_address", id.Address.Street)
		set(a, "postal_code", id.Address.PostalCode)
		set(a, "locality", id.Address.City)
		set(a, "country", id.Address.Country)
		claims["address"] = a
	}
	if !id.UseVerifiedClaims {
		return claims
	}
	return map[string]any{"verified_claims": map[string]any{
		"verification": map[string]any{
			"trust_framework": "eidas",
			"time":            authTime.UTC().Format(time.RFC3339),
			"txn":             txn,
			"evidence": []any{map[string]any{
				"type":   "electronic_record",
				"record": map[string]any{"type": "eid", "source": map[string]any{"name": "eID-Simulator"}},
				"time":   authTime.UTC().Format(time.RFC3339),
			}},
		},
		"claims": claims,
	}}
}

// idToken returns the signed ID token for the redeemed grant g.
func (s *Simulator) idToken(g grant, now time.Time) (string, error) {
	id := s.identities[g.identity]
	txn := g.txn
	claims := map[string]any{}
	if !id.ClaimsOnlyInUserInfo {
		claims = personClaims(id, g.authTime, txn)
	}
	if !id.UseVerifiedClaims || id.ClaimsOnlyInUserInfo {
		claims["txn"] = txn
	}
	if id.Groups != nil {
		claims["groups"] = id.Groups
	}
	claims["iss"] = s.issuer
	claims["sub"] = s.subject(id, g.clientID)
	claims["aud"] = g.clientID
	claims["nonce"] = g.nonce
	claims["acr"] = id.ACR
	claims["amr"] = []string{"hwk", "pin"}
	claims["auth_time"] = g.authTime.Unix()
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(TokenLifetime).Unix()
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sim: id token: %w", err)
	}
	key := s.key
	if id.SignWithUnpublishedKey {
		key = s.rogue
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: s.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("sim: id token: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sim: id token: %w", err)
	}
	return jws.CompactSerialize()
}

// handleUserInfo returns the claims for a Bearer access token.
func (s *Simulator) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	now := s.now()
	s.mu.Lock()
	g := s.tokens[token]
	if g != nil && now.After(g.expires) {
		g = nil
	}
	var snapshot grant
	if g != nil {
		snapshot = *g
	}
	s.mu.Unlock()
	if !ok || g == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "unknown or expired access token")
		return
	}
	id := s.identities[snapshot.identity]
	claims := personClaims(id, snapshot.authTime, snapshot.txn)
	claims["sub"] = s.subject(id, snapshot.clientID)
	writeJSON(w, http.StatusOK, claims)
}
