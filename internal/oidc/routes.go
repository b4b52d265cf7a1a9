package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/session"
)

// Paths under the portal's host. Package op's own endpoints keep its
// defaults below the issuer path /oidc: /oidc/authorize, /oidc/oauth/token,
// /oidc/oauth/introspect, /oidc/userinfo, /oidc/revoke, /oidc/end_session,
// /oidc/keys.
const (
	prefix         = "/oidc"
	loginPath      = prefix + "/login"
	cancelPath     = prefix + "/login/abbrechen"
	callbackPath   = prefix + "/authorize/callback"
	backchannel    = prefix + "/bc-authorize"
	tokenPath      = prefix + "/oauth/token"
	userinfoPath   = prefix + "/userinfo"
	introspectPath = prefix + "/oauth/introspect"
	revokePath     = prefix + "/revoke"
	endPath        = prefix + "/end_session"
	discoveryPath  = prefix + oidc.DiscoveryEndpoint
)

// cibaGrantType is the grant type of the CIBA token request.
const cibaGrantType = "urn:openid:params:grant-type:ciba"

// routes puts Pforte's handlers in front of op's: op's router is mounted
// behind an outer mux (passing op.WithSetRouter would panic, see
// DEPENDENCIES.md), and every request's form is parsed first so that a
// malformed one is a 400 here rather than a 500 inside op.
func (p *Provider) routes() http.Handler {
	inner := http.StripPrefix(prefix, p.op)
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", inner)
	mux.HandleFunc("GET "+discoveryPath, p.discovery)
	mux.HandleFunc("GET "+loginPath, p.login.login)
	mux.HandleFunc("GET "+cancelPath, p.login.cancel)
	mux.Handle(callbackPath, p.login.callback(inner))
	mux.Handle(endPath, endSession(inner))
	mux.Handle(tokenPath, p.gate.token(challenged(inner)))
	mux.Handle(userinfoPath, p.cors.Handler(http.HandlerFunc(p.bearer.userinfo)))
	mux.Handle(introspectPath, p.cors.Handler(http.HandlerFunc(p.bearer.introspect)))
	mux.Handle(revokePath, p.gate.revoke(challenged(inner)))
	mux.HandleFunc("POST "+backchannel, p.backchannel)
	mux.HandleFunc(prefix+"/device_authorization", notOffered)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(rw, http.StatusBadRequest, string(oidc.InvalidRequest), "malformed request")
			return
		}
		mux.ServeHTTP(rw, r)
	})
}

// discovery extends op's discovery document with what Pforte adds: CIBA in
// poll mode, the eIDAS acr values, authorization_details types, and S256 as
// the only PKCE method.
func (p *Provider) discovery(rw http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.cfg.Issuer)
	base := op.CreateDiscoveryConfig(ctx, p.op, p.op.Storage())
	b, err := json.Marshal(base)
	if err != nil {
		writeError(rw, http.StatusInternalServerError, string(oidc.ServerError), "")
		return
	}
	doc := map[string]any{}
	if err := json.Unmarshal(b, &doc); err != nil {
		writeError(rw, http.StatusInternalServerError, string(oidc.ServerError), "")
		return
	}
	var types []string
	for _, c := range p.cfg.Clients {
		types = append(types, c.AuthorizationDetailsTypes...)
	}
	slices.Sort(types)
	doc["grant_types_supported"] = []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken), cibaGrantType}
	doc["response_types_supported"] = []string{string(oidc.ResponseTypeCode)}
	doc["revocation_endpoint_auth_methods_supported"] = []string{string(oidc.AuthMethodBasic), string(oidc.AuthMethodNone)}
	doc["introspection_endpoint_auth_methods_supported"] = []string{string(oidc.AuthMethodBasic)}
	for _, k := range []string{"device_authorization_endpoint", "request_object_signing_alg_values_supported",
		"token_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported",
		"introspection_endpoint_auth_signing_alg_values_supported", "check_session_iframe"} {
		delete(doc, k)
	}
	doc["code_challenge_methods_supported"] = []string{"S256"}
	doc["subject_types_supported"] = []string{SubjectPublic, SubjectPairwise}
	doc["acr_values_supported"] = []string{session.LevelLow.ACR(), session.LevelSubstantial.ACR(), session.LevelHigh.ACR()}
	doc["backchannel_authentication_endpoint"] = p.cfg.Issuer + backchannel[len(prefix):]
	doc["backchannel_token_delivery_modes_supported"] = []string{"poll"}
	doc["backchannel_user_code_parameter_supported"] = false
	doc["authorization_details_types_supported"] = slices.Compact(types)
	doc["token_endpoint_auth_methods_supported"] = []string{string(oidc.AuthMethodBasic), string(oidc.AuthMethodNone)}
	doc["response_modes_supported"] = []string{"query"}
	doc["request_parameter_supported"] = false
	doc["claims_parameter_supported"] = false
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "public, max-age=300")
	json.NewEncoder(rw).Encode(doc)
}

// browserKey carries the browser request of a logout into
// TerminateSessionFromRequest.
type browserKey struct{}

type browserCall struct {
	rw http.ResponseWriter
	r  *http.Request
}

// endSession requires an id_token_hint (op verifies it) and lets
// TerminateSessionFromRequest end the browser's portal session.
func endSession(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Form.Get("id_token_hint") == "" {
			writeError(rw, http.StatusBadRequest, string(oidc.InvalidRequest), "id_token_hint is required")
			return
		}
		if u := r.Form.Get("post_logout_redirect_uri"); u != "" {
			if _, err := url.Parse(u); err != nil {
				writeError(rw, http.StatusBadRequest, string(oidc.InvalidRequest), "post_logout_redirect_uri is malformed")
				return
			}
		}
		ctx := context.WithValue(r.Context(), browserKey{}, browserCall{rw, r})
		inner.ServeHTTP(rw, r.WithContext(ctx))
	})
}

// backchannelResponse is the backchannel endpoint's answer.
type backchannelResponse struct {
	AuthReqID string `json:"auth_req_id"`
	ExpiresIn int64  `json:"expires_in"`
	Interval  int64  `json:"interval"`
}

// backchannel is the CIBA backchannel authentication endpoint (poll mode):
// the client authenticates with HTTP Basic, and the CIBA service starts its
// request.
func (p *Provider) backchannel(rw http.ResponseWriter, r *http.Request) {
	const what = "backchannel authentication"
	c, req, err := decodeBackchannel(r, p.clients)
	if err != nil {
		p.answers.answer(rw, r, what, nil, err)
		return
	}
	started, err := p.ciba.Start(r.Context(), c, req)
	p.answers.answer(rw, r, what, backchannelResponse{AuthReqID: started.AuthReqID, ExpiresIn: int64(started.ExpiresIn.Seconds()),
		Interval: int64(started.Interval.Seconds())}, err)
}

// decodeBackchannel authenticates the client of a backchannel request and
// reads its parameters, refusing those of the modes Pforte does not offer.
func decodeBackchannel(r *http.Request, cs *clients) (*client, cibaRequest, error) {
	c, oe := cs.basic(r)
	if oe != nil {
		return nil, cibaRequest{}, oe
	}
	f := r.PostForm
	for _, name := range []string{"login_hint_token", "id_token_hint", "user_code", "request", "client_notification_token"} {
		if f.Get(name) != "" {
			return nil, cibaRequest{}, badRequest(oidc.InvalidRequest, name+" is not supported: use login_hint (poll mode)")
		}
	}
	return c, cibaRequest{Scopes: strings.Fields(f.Get("scope")), ACRValues: strings.Fields(f.Get("acr_values")),
		LoginHint: f.Get("login_hint"), BindingMessage: f.Get("binding_message"),
		AuthorizationDetails: f.Get("authorization_details")}, nil
}

// cibaToken answers the CIBA grant at the token endpoint (poll mode, CIBA
// core 10.1 and 11): the client authenticates with HTTP Basic, and the CIBA
// service redeems its auth_req_id.
func (p *Provider) cibaToken(rw http.ResponseWriter, r *http.Request) {
	const what = "CIBA token"
	c, oe := p.clients.basic(r)
	if oe != nil {
		p.answers.answer(rw, r, what, nil, oe)
		return
	}
	res, err := p.ciba.Redeem(r.Context(), c, r.PostForm.Get("auth_req_id"))
	p.answers.answer(rw, r, what, res, err)
}

// notOffered answers the endpoints op serves that Pforte does not offer.
func notOffered(rw http.ResponseWriter, _ *http.Request) {
	writeError(rw, http.StatusNotFound, string(oidc.InvalidRequest), "not offered")
}

// validRequestID reports whether s can be an authorization request id.
func validRequestID(s string) bool {
	return len(s) == 22 && base64URL(s)
}

// base64URL reports whether s has only characters of unpadded base64url.
func base64URL(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_'
	})
}
