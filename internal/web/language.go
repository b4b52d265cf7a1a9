package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
)

// The portal speaks German and English (package lang). Every page has a
// switch to the other language: a form that POSTs /sprache with the
// language and the page to return to. The choice is kept in the
// languageCookie; for a logged-in person also on the account, which a
// login brings back into the cookie (applyLanguage). Without a choice the
// browser's Accept-Language decides.

// languageCookie holds the language a person chose ("de", "en").
const languageCookie = "pforte_lang"

// languageLifetime is how long a browser remembers the choice.
const languageLifetime = 365 * 24 * time.Hour

// language is the language of r: the person's choice (the language
// cookie), otherwise what the browser asks for (Accept-Language), German
// by default.
func (b *Browser) language(r *http.Request) lang.Language {
	if l, ok := lang.Parse(b.cookieValue(r, languageCookie)); ok {
		return l
	}
	return lang.Negotiate(r.Header.Get("Accept-Language"))
}

// Language is language, for the OpenID provider's own pages (package
// oidc), which follow the portal's.
func (b *Browser) Language(r *http.Request) lang.Language { return b.language(r) }

// applyLanguage makes the language saved on an account the browser's
// choice, at a login; an account without a choice leaves the browser's.
func (b *Browser) applyLanguage(rw http.ResponseWriter, saved string) {
	if l, ok := lang.Parse(saved); ok {
		b.setCookie(rw, languageCookie, string(l), languageLifetime, http.SameSiteLaxMode)
	}
}

// maxReturn bounds the return path of the switch (below maxValue, so a
// path the form cut is refused, not followed).
const maxReturn = 512

// returnPath reports whether p may be where the switch returns to: a path
// of this portal, with its query, and nothing that a browser could read as
// another host ("//host", "/\host", "https://host") or a scheme.
func returnPath(p string) bool {
	if p == "" || len(p) > maxReturn || p[0] != '/' || strings.HasPrefix(p, "//") ||
		strings.ContainsAny(p, "\\") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "" && strings.HasPrefix(u.Path, "/")
}

// formPages are the POST paths whose page a GET shows too: a form shown
// again with its errors switches to the empty form.
var formPages = map[string]bool{"/zugang": true, "/passwort-vergessen": true, "/passwort-festlegen": true,
	"/passwort-zuruecksetzen": true, "/anmelden": true, "/passwort-aendern": true, "/daten/anschrift": true,
	"/daten/bankverbindung": true, "/anmelden/freigabe": true}

// here is where the switch on the page answering r returns to: the page
// itself for a GET, the form for a form's answer, the area's page for the
// answer to another POST; the start page for what cannot be shown again
// (the return from the eID partner acts once) or is no valid return path.
func here(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/eid/"):
		return "/"
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		p = r.URL.RequestURI()
	case formPages[p]:
	case strings.HasPrefix(p, "/geraete/"):
		p = "/geraete"
	case strings.HasPrefix(p, "/konto/"):
		p = "/konto"
	default:
		p = "/"
	}
	if !returnPath(p) {
		return "/"
	}
	return p
}

// chooseLanguage is the switch: it remembers the language in the cookie
// and, for a logged-in person, on the account (their next login and their
// letters follow it), then returns to the page the switch was on.
func (w *accountPages) chooseLanguage(rw http.ResponseWriter, r *http.Request) error {
	values, err := decodeForm(rw, r, "sprache", "zurueck")
	if err != nil {
		return err
	}
	l, ok := lang.Parse(values["sprache"])
	if !ok {
		return badRequest(http.StatusBadRequest, lang.Key("web.bad.language"))
	}
	back := values["zurueck"]
	if !returnPath(back) {
		return badRequest(http.StatusBadRequest, lang.Key("web.bad.return"))
	}
	if _, s, err := w.currentSession(r); err == nil {
		if err := w.accounts.SetLanguage(r.Context(), s.PersonID, l); err != nil {
			return err
		}
	}
	w.setCookie(rw, languageCookie, string(l), languageLifetime, http.SameSiteLaxMode)
	return redirect(rw, r, back)
}

// sessionStarted sets the cookie of a session a login started and the
// language saved on the account.
func (b *Browser) sessionStarted(rw http.ResponseWriter, tok session.Token, savedLanguage string) {
	b.setCookie(rw, sessionCookie, string(tok), 0, http.SameSiteLaxMode)
	b.applyLanguage(rw, savedLanguage)
}
