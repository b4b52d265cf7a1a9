// Package demo is what `pforte demo` brings beside a node: a relying party
// of the node's OpenID provider at /demo-app/ (go-oidc and x/oauth2, as an
// insurer's other application would use them), and identities for the eID
// simulator made from the register, one for every branch of the match. It is
// a development tool: `pforte serve` uses the identities only with
// --eid-simulator-insecure, and never the relying party.
package demo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/oidc"
)

// The demo's relying party: a small application of "another insurer
// application" that signs its users in through Pforte, so that a newcomer
// can try the OpenID provider in a browser. It is mounted only by `pforte
// demo`, at /demo-app/, and is an OpenID client like any other: go-oidc and
// x/oauth2 over HTTP against the provider's discovery document.
const (
	// ClientID is the relying party's client id at the provider.
	ClientID    = "demo-app"
	demoAppPath = "/demo-app"
)

// demoApp keeps the state of sign-ins in flight in memory (a demo runs as
// one process); a cookie names the sign-in.
type RelyingParty struct {
	issuer, base, secret string
	logger               *slog.Logger

	mu       sync.Mutex
	provider *gooidc.Provider
	flows    map[string]demoFlow // by the cookie's random key
}

type demoFlow struct {
	state, nonce, verifier string
	started                time.Time
}

const demoCookie = "pforte_demo_app"

func NewRelyingParty(base, secret string, logger *slog.Logger) *RelyingParty {
	return &RelyingParty{issuer: base + "/oidc", base: base, secret: secret, logger: logger, flows: map[string]demoFlow{}}
}

func (d *RelyingParty) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET " + demoAppPath + "/{$}":        http.HandlerFunc(d.home),
		"GET " + demoAppPath + "/start":      http.HandlerFunc(d.start),
		"GET " + demoAppPath + "/callback":   http.HandlerFunc(d.callback),
		"GET " + demoAppPath + "/abgemeldet": http.HandlerFunc(d.loggedOut),
	}
}

// config discovers the provider on first use (the server must be up).
func (d *RelyingParty) config(ctx context.Context) (*gooidc.Provider, oauth2.Config, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.provider == nil {
		p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, &http.Client{Timeout: 10 * time.Second}), d.issuer)
		if err != nil {
			return nil, oauth2.Config{}, err
		}
		d.provider = p
	}
	return d.provider, oauth2.Config{ClientID: ClientID, ClientSecret: d.secret, Endpoint: d.provider.Endpoint(),
		RedirectURL: d.base + demoAppPath + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "kvnr"}}, nil
}

var demoPage = template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo-Anwendung</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main id="inhalt"><h1>Demo-Anwendung</h1>
<p>Diese Seite spielt eine andere Anwendung Ihrer Krankenkasse, die ihre Nutzer über Pforte anmeldet (OpenID Connect).</p>
{{- with .Error}}<div role="alert"><p>{{.}}</p></div>{{end}}
{{- with .Claims}}
<h2>Angemeldet</h2>
<dl>{{range .}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
<p><a href="{{$.Logout}}">Abmelden (auch im Portal)</a></p>
{{- end}}
<ul class="actions">
<li><a href="/demo-app/start?niveau=low">Anmelden mit Passwort (Vertrauensniveau normal)</a></li>
<li><a href="/demo-app/start?niveau=substantial">Anmelden mit Bestätigung auf dem Smartphone (substantiell)</a></li>
<li><a href="/demo-app/start?niveau=substantial&amp;prompt=login">Erneut anmelden (prompt=login)</a></li>
</ul></main></body></html>
`))

type demoView struct {
	Error  string
	Claims []struct{ Name, Value string }
	Logout string
}

func (d *RelyingParty) render(rw http.ResponseWriter, status int, v demoView) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	if err := demoPage.Execute(rw, v); err != nil {
		d.logger.Error("demo app page", slog.Any("error", err))
	}
}

func (d *RelyingParty) home(rw http.ResponseWriter, _ *http.Request) {
	d.render(rw, http.StatusOK, demoView{})
}

func (d *RelyingParty) loggedOut(rw http.ResponseWriter, _ *http.Request) {
	d.render(rw, http.StatusOK, demoView{Error: "Sie sind abgemeldet."})
}

var demoLevels = map[string]string{"low": "http://eidas.europa.eu/LoA/low", "substantial": "http://eidas.europa.eu/LoA/substantial"}

// start begins a sign-in: state, nonce and PKCE verifier are kept under a
// random cookie key, and the browser goes to the provider.
func (d *RelyingParty) start(rw http.ResponseWriter, r *http.Request) {
	_, conf, err := d.config(r.Context())
	if err != nil {
		d.logger.Error("demo app discovery", slog.Any("error", err))
		d.render(rw, http.StatusBadGateway, demoView{Error: "Der Anmeldedienst antwortet nicht."})
		return
	}
	acr, ok := demoLevels[r.URL.Query().Get("niveau")]
	if !ok {
		acr = demoLevels["substantial"]
	}
	f := demoFlow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier(), started: time.Now()}
	key := rand.Text()
	d.mu.Lock()
	for k, old := range d.flows { // forget sign-ins older than the provider's login time
		if time.Since(old.started) > 30*time.Minute {
			delete(d.flows, k)
		}
	}
	if len(d.flows) >= 1000 {
		d.mu.Unlock()
		d.render(rw, http.StatusServiceUnavailable, demoView{Error: "Zu viele Anmeldungen gleichzeitig."})
		return
	}
	d.flows[key] = f
	d.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce),
		oauth2.SetAuthURLParam("acr_values", acr)}
	if r.URL.Query().Get("prompt") == "login" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	http.SetCookie(rw, &http.Cookie{Name: demoCookie, Value: key, Path: demoAppPath, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 1800})
	http.Redirect(rw, r, conf.AuthCodeURL(f.state, opts...), http.StatusSeeOther)
}

// callback checks state, exchanges the code with the verifier, verifies the
// ID token and its nonce, and shows the claims.
func (d *RelyingParty) callback(rw http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(demoCookie)
	var f demoFlow
	ok := false
	if err == nil {
		d.mu.Lock()
		f, ok = d.flows[c.Value]
		delete(d.flows, c.Value)
		d.mu.Unlock()
	}
	q := r.URL.Query()
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		d.render(rw, http.StatusBadRequest, demoView{Error: "Diese Anmeldung hat die Demo-Anwendung nicht begonnen."})
		return
	}
	if e := q.Get("error"); e != "" {
		d.render(rw, http.StatusOK, demoView{Error: "Die Anmeldung wurde nicht abgeschlossen: " + e})
		return
	}
	p, conf, err := d.config(r.Context())
	if err == nil {
		var tok *oauth2.Token
		ctx := gooidc.ClientContext(r.Context(), &http.Client{Timeout: 10 * time.Second})
		if tok, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.verifier)); err == nil {
			raw, _ := tok.Extra("id_token").(string)
			var idt *gooidc.IDToken
			idt, err = p.VerifierContext(ctx, &gooidc.Config{ClientID: ClientID, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, raw)
			if err == nil && idt.Nonce != f.nonce {
				err = errors.New("nonce does not match")
			}
			if err == nil {
				d.showClaims(rw, idt, raw)
				return
			}
		}
	}
	d.logger.Warn("demo app sign-in failed", slog.Any("error", err))
	d.render(rw, http.StatusBadGateway, demoView{Error: "Die Anmeldung konnte nicht geprüft werden."})
}

func (d *RelyingParty) showClaims(rw http.ResponseWriter, idt *gooidc.IDToken, raw string) {
	var c map[string]any
	idt.Claims(&c)
	v := demoView{Logout: d.issuer + "/end_session?" + url.Values{"id_token_hint": {raw},
		"post_logout_redirect_uri": {d.base + demoAppPath + "/abgemeldet"}}.Encode()}
	for _, name := range []string{"sub", "acr", "amr", "auth_time", "name", "kvnr"} {
		if val, ok := c[name]; ok {
			s := strings.Trim(strings.ReplaceAll(strings.TrimSpace(toString(val)), "\n", " "), "[]")
			if name == "auth_time" {
				if f, ok := val.(float64); ok {
					s = time.Unix(int64(f), 0).Format(time.RFC3339)
				}
			}
			v.Claims = append(v.Claims, struct{ Name, Value string }{name, s})
		}
	}
	d.render(rw, http.StatusOK, v)
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = toString(e)
		}
		return strings.Join(parts, " ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// Client is the demo's one OpenID client: the relying party at
// /demo-app/ and, with the same credentials, CIBA.
func Client(base, secret string) oidc.ClientConfig {
	return oidc.ClientConfig{ID: ClientID, Name: "Demo-Anwendung", Secret: secret,
		RedirectURIs:           []string{base + demoAppPath + "/callback"},
		PostLogoutRedirectURIs: []string{base + demoAppPath + "/abgemeldet"},
		Scopes:                 []string{oidc.ScopeProfile, oidc.ScopeKVNR, oidc.ScopeOfflineAccess},
		Levels:                 []string{"low", "substantial", "high"},
		CIBA:                   true, AuthorizationDetailsTypes: []string{"payment_initiation", "application_submission"}}
}
