package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of authorization request parameters.
const (
	maxParamLen = 2048
	maxFormSize = 64 << 10
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, redirectURI, scope, state, nonce, challenge, method string
}

// fields returns the request's parameters as a page repeats them in its forms.
func (a authRequest) fields() [][2]string {
	return [][2]string{
		{"client_id", a.clientID}, {"redirect_uri", a.redirectURI}, {"response_type", "code"},
		{"scope", a.scope}, {"state", a.state}, {"nonce", a.nonce},
		{"code_challenge", a.challenge}, {"code_challenge_method", a.method},
	}
}

// authError is a refused authorization request. With redirect set it goes back
// to the client (RFC 6749 section 4.1.2.1); without, the client or redirect URI
// cannot be trusted and the browser sees an error page.
type authError struct {
	redirect    bool
	code, text  string
	state       string
	redirectURI string
}

// single returns the one value of name in v; ok is false when it is given more
// than once, too long, not UTF-8 or contains control characters.
func single(v url.Values, name string) (string, bool) {
	vals := v[name]
	switch {
	case len(vals) == 0:
		return "", true
	case len(vals) > 1:
		return "", false
	}
	s := vals[0]
	if len(s) > maxParamLen || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	return s, true
}

// readAuthRequest validates the parameters of an authorization request.
func (s *Simulator) readAuthRequest(v url.Values) (authRequest, *authError) {
	clientID, ok1 := single(v, "client_id")
	redirectURI, ok2 := single(v, "redirect_uri")
	client, known := s.clients[clientID]
	if !ok1 || !ok2 || !known {
		return authRequest{}, &authError{code: "invalid_client", text: "Unbekannter Client."}
	}
	if !slices.Contains(client.RedirectURIs, redirectURI) {
		return authRequest{}, &authError{code: "invalid_request", text: "Die Rücksprungadresse ist für diesen Client nicht registriert."}
	}
	state, okState := single(v, "state")
	fail := func(code, text string) (authRequest, *authError) {
		if !okState {
			state = ""
		}
		return authRequest{}, &authError{redirect: true, code: code, text: text, state: state, redirectURI: redirectURI}
	}
	req := authRequest{clientID: clientID, redirectURI: redirectURI, state: state}
	responseType, ok := single(v, "response_type")
	if !ok || responseType != "code" {
		return fail("unsupported_response_type", "only response_type=code is supported")
	}
	var okScope, okNonce, okChallenge, okMethod bool
	req.scope, okScope = single(v, "scope")
	req.nonce, okNonce = single(v, "nonce")
	req.challenge, okChallenge = single(v, "code_challenge")
	req.method, okMethod = single(v, "code_challenge_method")
	switch {
	case !okState || !okScope || !okNonce || !okChallenge || !okMethod:
		return fail("invalid_request", "a parameter is repeated or malformed")
	case !slices.Contains(strings.Fields(req.scope), "openid"):
		return fail("invalid_scope", "scope must contain openid")
	case req.state == "":
		return fail("invalid_request", "state is required")
	case req.nonce == "":
		return fail("invalid_request", "nonce is required")
	case req.challenge == "":
		return fail("invalid_request", "code_challenge is required (PKCE)")
	case req.method != "S256":
		return fail("invalid_request", "code_challenge_method must be S256")
	case !validChallenge(req.challenge):
		return fail("invalid_request", "code_challenge must be 43 characters of base64url")
	}
	return req, nil
}

// validChallenge reports whether c is a base64url SHA-256 (RFC 7636 4.2).
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// redirectTo returns redirectURI with the parameters added to its query.
func redirectTo(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs were checked by New
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// refuse answers a refused authorization request.
func (s *Simulator) refuse(w http.ResponseWriter, r *http.Request, e *authError) {
	s.log.InfoContext(r.Context(), "eid simulator refused authorization request", "error", e.code, "reason", e.text)
	if e.redirect {
		http.Redirect(w, r, redirectTo(e.redirectURI, url.Values{
			"error": {e.code}, "error_description": {e.text}, "state": {e.state}, "iss": {s.issuer},
		}), http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusBadRequest, pageData{Error: e.text})
}

// pageData fills page.html.
type pageData struct {
	Error      string
	Fields     [][2]string
	Identities []pageIdentity
	Nonce      string // CSP nonce of the inline style
}

type pageIdentity struct {
	Index int
	Identity
}

// render writes the page with a fresh CSP nonce; formTarget is the origin the
// form's redirect may go to.
func (s *Simulator) render(w http.ResponseWriter, status int, data pageData, formTargets ...string) {
	data.Nonce = randomString(16)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "Interner Fehler", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+data.Nonce+"'; "+
		"form-action 'self' "+strings.Join(formTargets, " ")+"; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// origin returns the scheme and host of u for a CSP source list.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// handleAuthorizePage validates the request and shows the identities.
func (s *Simulator) handleAuthorizePage(w http.ResponseWriter, r *http.Request) {
	req, e := s.readAuthRequest(r.URL.Query())
	if e != nil {
		s.refuse(w, r, e)
		return
	}
	issued := strconv.FormatInt(s.now().Unix(), 10)
	fields := append(req.fields(), [2]string{"issued", issued}, [2]string{"form_mac", s.formMAC(req, issued)})
	data := pageData{Fields: fields}
	for i, id := range s.identities {
		data.Identities = append(data.Identities, pageIdentity{Index: i, Identity: id})
	}
	s.render(w, http.StatusOK, data, origin(req.redirectURI))
}

// formMAC is the anti-forgery value of the page for req: an HMAC with the
// simulator's key over the request parameters and the time the page was made.
func (s *Simulator) formMAC(req authRequest, issued string) string {
	m := hmac.New(sha256.New, s.formKey[:])
	for _, f := range append(req.fields(), [2]string{"issued", issued}) {
		for _, part := range f {
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(len(part)))
			m.Write(n[:])
			m.Write([]byte(part))
		}
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// handleAuthorizeChoice takes the choice made on the page: an identity, or
// "Abbrechen". It issues a one-time code bound to the request.
func (s *Simulator) handleAuthorizeChoice(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, pageData{Error: "Die Anfrage ist ungültig."})
		return
	}
	req, e := s.readAuthRequest(r.PostForm)
	if e != nil {
		s.refuse(w, r, e)
		return
	}
	issued, _ := single(r.PostForm, "issued")
	mac, _ := single(r.PostForm, "form_mac")
	now := s.now()
	at, err := strconv.ParseInt(issued, 10, 64)
	if err != nil || !hmac.Equal([]byte(mac), []byte(s.formMAC(req, issued))) ||
		now.Before(time.Unix(at, 0).Add(-time.Minute)) || now.After(time.Unix(at, 0).Add(pageLifetime)) {
		s.log.InfoContext(r.Context(), "eid simulator refused form", "client_id", req.clientID, "reason", "anti-forgery value")
		s.render(w, http.StatusForbidden, pageData{Error: "Das Formular ist abgelaufen oder ungültig. Bitte starten Sie die Anmeldung neu."})
		return
	}
	if _, cancel := r.PostForm["cancel"]; cancel {
		s.refuse(w, r, &authError{redirect: true, code: "access_denied", text: "the user cancelled",
			state: req.state, redirectURI: req.redirectURI})
		return
	}
	choice, _ := single(r.PostForm, "identity")
	idx, err := strconv.Atoi(choice)
	if err != nil || idx < 0 || idx >= len(s.identities) {
		s.render(w, http.StatusBadRequest, pageData{Error: "Unbekannte Identität."})
		return
	}
	code := randomString(32)
	s.mu.Lock()
	s.prune(now)
	full := len(s.codes) >= maxPending
	if !full {
		s.codes[code] = &grant{
			clientID: req.clientID, redirectURI: req.redirectURI, challenge: req.challenge, nonce: req.nonce,
			identity: idx, authTime: now, expires: now.Add(CodeLifetime),
		}
	}
	s.mu.Unlock()
	if full {
		s.refuse(w, r, &authError{redirect: true, code: "temporarily_unavailable", text: "too many pending codes",
			state: req.state, redirectURI: req.redirectURI})
		return
	}
	s.log.InfoContext(r.Context(), "eid simulator issued code", "client_id", req.clientID, "identity", idx)
	http.Redirect(w, r, redirectTo(req.redirectURI, url.Values{
		"code": {code}, "state": {req.state}, "iss": {s.issuer},
	}), http.StatusSeeOther)
}
