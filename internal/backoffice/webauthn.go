package backoffice

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/staff"
)

// Keys are the staff members' security keys and passkeys (staff.Keys).
type Keys interface {
	BeginKey(ctx context.Context, m staff.Member) (staff.Handle, []byte, error)
	FinishKey(ctx context.Context, m staff.Member, h staff.Handle, name, response, clientIP string) (staff.Key, error)
	Factors(ctx context.Context, m staff.Member) (staff.Factors, error)
	Remove(ctx context.Context, m staff.Member, ref, clientIP string) error
	BeginKeyLogin(ctx context.Context, login, password, clientIP string) (staff.Handle, []byte, error)
	FinishKeyLogin(ctx context.Context, h staff.Handle, response, clientIP, userAgent string) (staff.Token, staff.Member, error)
}

// cspKeys is csp with the one embedded script of the key pages (no inline
// script, no connection: the script answers by posting the page's form).
const cspKeys = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// keyCeremonyTTL bounds the handle cookie; the store's expiry of the
// challenge is the one that counts.
const keyCeremonyTTL = 300

// errKeysOff: the node has no security keys configured.
var errKeysOff = errors.New("backoffice: security keys are off")

// keyCookieName is the cookie of a key ceremony's handle, apart from the
// session cookie.
func (b *base) keyCookieName() string {
	if b.cfg.InsecureCookies {
		return "pforte_staff_key"
	}
	return "__Host-pforte_staff_key"
}

func (b *base) setKeyCookie(rw http.ResponseWriter, h staff.Handle, maxAge int) {
	http.SetCookie(rw, &http.Cookie{Name: b.keyCookieName(), Value: string(h), Path: "/", MaxAge: maxAge,
		Secure: !b.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// takeKeyCookie returns the ceremony's handle and clears its cookie: a
// handle is answered once.
func (b *base) takeKeyCookie(rw http.ResponseWriter, r *http.Request) staff.Handle {
	c, err := r.Cookie(b.keyCookieName())
	b.setKeyCookie(rw, "", -1)
	if err != nil || len(c.Value) > 128 {
		return ""
	}
	return staff.Handle(c.Value)
}

// keyStepData is the data of a page that asks the browser's
// authenticator: the options for it as JSON, and what the form carries on.
type keyStepData struct {
	Options string
	Name    string
}

// keyLogin is the login's first step without a code: login and password
// are checked (one attempt counted) and the page asks for the key.
func (b *loginPages) keyLogin(rw http.ResponseWriter, r *http.Request, login string) error {
	h, opts, err := b.svc.Keys.BeginKeyLogin(r.Context(), login, r.PostForm.Get("passwort"), server.ClientIP(r))
	if errors.Is(err, staff.ErrLoginFailed) {
		return b.loginFailed(rw, login)
	}
	if err != nil {
		return err
	}
	b.setKeyCookie(rw, h, keyCeremonyTTL)
	rw.Header().Set("Content-Security-Policy", cspKeys)
	return b.render(rw, http.StatusOK, "keylogin", view{Title: "Sicherheitsschlüssel", Data: keyStepData{Options: string(opts)}})
}

// keyLoginFinish is the login's second step: the key's answer.
func (b *loginPages) keyLoginFinish(rw http.ResponseWriter, r *http.Request) error {
	if b.svc.Keys == nil {
		return errKeysOff
	}
	if ok, retry := b.limiter.Allow(r); !ok {
		rw.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		return b.render(rw, http.StatusTooManyRequests, "login", view{Title: "Anmeldung Backoffice",
			Data: loginData{Error: "Zu viele Anmeldeversuche von dieser Adresse. Bitte warten Sie einen Moment."}})
	}
	h := b.takeKeyCookie(rw, r)
	if err := r.ParseForm(); err != nil {
		return badInput("Das Formular ließ sich nicht lesen.")
	}
	tok, _, err := b.svc.Keys.FinishKeyLogin(r.Context(), h, r.PostForm.Get("antwort"), server.ClientIP(r), r.UserAgent())
	if errors.Is(err, staff.ErrLoginFailed) {
		return b.render(rw, http.StatusUnauthorized, "login", view{Title: "Anmeldung Backoffice",
			Data: loginData{Error: "Die Anmeldung mit dem Sicherheitsschlüssel ist fehlgeschlagen oder hat zu lange gedauert. " +
				"Bitte melden Sie sich erneut mit Kennung und Passwort an."}})
	}
	if err != nil {
		return err
	}
	b.setCookie(rw, string(tok), 0)
	return redirect(rw, r, "/backoffice/")
}

// keysData is the data of the page of one's own second factors.
type keysData struct {
	Factors staff.Factors
	Error   string
}

func (b *loginPages) keysPage(rw http.ResponseWriter, r *http.Request, s current, status int, notice, problem string) error {
	if b.svc.Keys == nil {
		return errKeysOff
	}
	f, err := b.svc.Keys.Factors(r.Context(), s.Member)
	if err != nil {
		return err
	}
	return b.render(rw, status, "keys", view{Title: "Anmeldung und Sicherheitsschlüssel", Staff: &s.Member, Notice: notice,
		Data: keysData{Factors: f, Error: problem}})
}

func (b *loginPages) keys(rw http.ResponseWriter, r *http.Request, s current) error {
	return b.keysPage(rw, r, s, http.StatusOK, "", "")
}

// keyAdd is registration's first step: the name is checked and the page
// asks the browser for a new key.
func (b *loginPages) keyAdd(rw http.ResponseWriter, r *http.Request, s current) error {
	if b.svc.Keys == nil {
		return errKeysOff
	}
	if err := r.ParseForm(); err != nil {
		return badInput("Das Formular ließ sich nicht lesen.")
	}
	name, err := staff.CheckKeyName(r.PostForm.Get("name"))
	if err != nil {
		return b.keysPage(rw, r, s, http.StatusBadRequest, "", keyNameProblem)
	}
	h, opts, err := b.svc.Keys.BeginKey(r.Context(), s.Member)
	if errors.Is(err, staff.ErrSignInTooOld) {
		return b.keysPage(rw, r, s, http.StatusForbidden, "", signInAgainProblem)
	}
	if err != nil {
		return err
	}
	b.setKeyCookie(rw, h, keyCeremonyTTL)
	rw.Header().Set("Content-Security-Policy", cspKeys)
	return b.render(rw, http.StatusOK, "keyadd", view{Title: "Sicherheitsschlüssel einrichten", Staff: &s.Member,
		Data: keyStepData{Options: string(opts), Name: name}})
}

const signInAgainProblem = "Schlüssel und Einmalcode lassen sich nur in den ersten 10 Minuten nach der Anmeldung ändern. " +
	"Bitte melden Sie sich ab und mit Passwort und zweitem Faktor wieder an; es wurde nichts geändert."

const keyNameProblem = "Bitte geben Sie dem Schlüssel einen Namen mit höchstens 60 Zeichen, z. B. „Schlüssel Büro“."

// keySave is registration's second step: the browser's new key.
func (b *loginPages) keySave(rw http.ResponseWriter, r *http.Request, s current) error {
	if b.svc.Keys == nil {
		return errKeysOff
	}
	h := b.takeKeyCookie(rw, r)
	if err := r.ParseForm(); err != nil {
		return badInput("Das Formular ließ sich nicht lesen.")
	}
	k, err := b.svc.Keys.FinishKey(r.Context(), s.Member, h, r.PostForm.Get("name"), r.PostForm.Get("antwort"), server.ClientIP(r))
	switch {
	case errors.Is(err, staff.ErrSignInTooOld):
		return b.keysPage(rw, r, s, http.StatusForbidden, "", signInAgainProblem)
	case errors.Is(err, staff.ErrInvalid):
		return b.keysPage(rw, r, s, http.StatusBadRequest, "", keyNameProblem)
	case errors.Is(err, staff.ErrKeyRefused):
		return b.keysPage(rw, r, s, http.StatusBadRequest, "", "Der Schlüssel wurde nicht gespeichert: Die Antwort des Schlüssels "+
			"ließ sich nicht prüfen, die Zeit war abgelaufen, oder der Schlüssel ist schon eingerichtet. Bitte versuchen Sie es erneut.")
	case err != nil:
		return err
	}
	return b.keysPage(rw, r, s, http.StatusOK, "Der Sicherheitsschlüssel „"+k.Name+"“ ist eingerichtet. "+
		"Ab jetzt können Sie sich mit Kennung, Passwort und diesem Schlüssel anmelden.", "")
}

// keyRemove removes one of one's own keys, or the TOTP code ("totp"),
// never the last second factor.
func (b *loginPages) keyRemove(rw http.ResponseWriter, r *http.Request, s current) error {
	if b.svc.Keys == nil {
		return errKeysOff
	}
	ref := r.PathValue("key")
	err := b.svc.Keys.Remove(r.Context(), s.Member, ref, server.ClientIP(r))
	switch {
	case errors.Is(err, staff.ErrSignInTooOld):
		return b.keysPage(rw, r, s, http.StatusForbidden, "", signInAgainProblem)
	case errors.Is(err, staff.ErrNoKey):
		return b.keysPage(rw, r, s, http.StatusNotFound, "", "Diesen Schlüssel gibt es bei Ihnen nicht (mehr). Es wurde nichts geändert.")
	case errors.Is(err, staff.ErrLastFactor):
		return b.keysPage(rw, r, s, http.StatusConflict, "", "Das ist Ihr letzter zweiter Faktor. Richten Sie zuerst einen "+
			"weiteren Schlüssel ein; es wurde nichts geändert.")
	case err != nil:
		return err
	}
	what := "Der Sicherheitsschlüssel ist entfernt."
	if ref == "totp" {
		what = "Die Anmeldung mit Einmalcode ist abgeschaltet."
	}
	return b.keysPage(rw, r, s, http.StatusOK, what, "")
}
