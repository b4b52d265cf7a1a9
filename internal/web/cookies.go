package web

import (
	"net/http"
	"time"
)

// The cookies, by their name without prefix.
const (
	sessionCookie = "pforte_session" // the session token; a browser-session cookie
	eidCookie     = "pforte_eid"     // the eID flow until the partner redirects back
	ticketCookie  = "pforte_ticket"  // the proof of an eID identification until a password is chosen
)

// flowLifetime is how long the eID flow and ticket cookies live.
const flowLifetime = 15 * time.Minute

// cookieName is name with the __Host- prefix (secure cookies, the default):
// the browser then accepts the cookie only with Secure, Path=/ and no Domain,
// so no other host and no plain-HTTP page can set or shadow it.
func (w *Web) cookieName(name string) string {
	if w.cfg.InsecureCookies {
		return name
	}
	return "__Host-" + name
}

// setCookie sets an HttpOnly cookie for the whole portal. maxAge 0 makes a
// browser-session cookie.
func (w *Web) setCookie(rw http.ResponseWriter, name, value string, maxAge time.Duration, sameSite http.SameSite) {
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName(name), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		Secure: !w.cfg.InsecureCookies, HttpOnly: true, SameSite: sameSite})
}

// clearCookie removes the cookie.
func (w *Web) clearCookie(rw http.ResponseWriter, name string) {
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName(name), Value: "", Path: "/", MaxAge: -1,
		Secure: !w.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// cookieValue returns the cookie's value, or "" when it is missing or
// implausibly long.
func (w *Web) cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(w.cookieName(name))
	if err != nil || len(c.Value) > 2048 {
		return ""
	}
	return c.Value
}
