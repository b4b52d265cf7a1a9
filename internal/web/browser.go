package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Browser finds, sets and ends the portal session of a browser request, held
// in the __Host-pforte_session cookie. The portal's pages use it, and so
// does the OpenID provider's login glue (package oidc) and logout.
type Browser struct {
	sessions Sessions
	insecure bool // cookies without Secure and the __Host- prefix (Config.InsecureCookies)
}

// NewBrowser returns the browser sessions on sessions; insecureCookies is
// Config.InsecureCookies.
func NewBrowser(sessions Sessions, insecureCookies bool) *Browser {
	return &Browser{sessions: sessions, insecure: insecureCookies}
}

// cookieName is name with the __Host- prefix (secure cookies, the default):
// the browser then accepts the cookie only with Secure, Path=/ and no Domain,
// so no other host and no plain-HTTP page can set or shadow it.
func (b *Browser) cookieName(name string) string {
	if b.insecure {
		return name
	}
	return "__Host-" + name
}

// setCookie sets an HttpOnly cookie for the whole portal. maxAge 0 makes a
// browser-session cookie.
func (b *Browser) setCookie(rw http.ResponseWriter, name, value string, maxAge time.Duration, sameSite http.SameSite) {
	http.SetCookie(rw, &http.Cookie{Name: b.cookieName(name), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		Secure: !b.insecure, HttpOnly: true, SameSite: sameSite})
}

// clearCookie removes the cookie.
func (b *Browser) clearCookie(rw http.ResponseWriter, name string) {
	http.SetCookie(rw, &http.Cookie{Name: b.cookieName(name), Value: "", Path: "/", MaxAge: -1,
		Secure: !b.insecure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// cookieValue returns the cookie's value, or "" when it is missing or
// implausibly long.
func (b *Browser) cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(b.cookieName(name))
	if err != nil || len(c.Value) > 2048 {
		return ""
	}
	return c.Value
}

// currentSession returns the session of the request's cookie, or
// errUnauthenticated.
func (b *Browser) currentSession(r *http.Request) (session.Token, store.Session, error) {
	c, err := r.Cookie(b.cookieName(sessionCookie))
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return "", store.Session{}, errUnauthenticated
	}
	tok := session.Token(c.Value)
	s, err := b.sessions.Authenticate(r.Context(), tok)
	if ended := (*session.EndedError)(nil); errors.As(err, &ended) {
		return "", store.Session{}, &endedSession{ended.Reason}
	}
	if errors.Is(err, session.ErrNoSession) {
		return "", store.Session{}, errExpired
	}
	if err != nil {
		return "", store.Session{}, err
	}
	return tok, s, nil
}

// Session returns the live portal session of r's cookie (for package oidc).
func (b *Browser) Session(r *http.Request) (store.Session, bool) {
	_, s, err := b.currentSession(r)
	return s, err == nil
}

// EndSession ends r's portal session, if any, and clears its cookie on rw
// (RP-initiated logout).
func (b *Browser) EndSession(rw http.ResponseWriter, r *http.Request) error {
	tok, _, err := b.currentSession(r)
	if errors.Is(err, errUnauthenticated) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := b.sessions.End(r.Context(), tok); err != nil {
		return err
	}
	b.clearCookie(rw, sessionCookie)
	b.clearCookie(rw, stepUpCookie)
	return nil
}
