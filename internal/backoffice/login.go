package backoffice

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/staff"
)

// loginData is the login page's data.
type loginData struct {
	Login string
	Error string
	// Corporate: the corporate provider's sign-in is offered.
	Corporate bool
}

func (b *loginPages) loginForm(rw http.ResponseWriter, r *http.Request) error {
	return b.render(rw, http.StatusOK, "login", view{Title: "Anmeldung Backoffice", Data: loginData{Corporate: b.corp != nil}})
}

// login checks login, password and code together; every failure looks the
// same.
func (b *loginPages) login(rw http.ResponseWriter, r *http.Request) error {
	if ok, retry := b.limiter.Allow(r); !ok {
		rw.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		return b.render(rw, http.StatusTooManyRequests, "login", view{Title: "Anmeldung Backoffice",
			Data: loginData{Error: "Zu viele Anmeldeversuche von dieser Adresse. Bitte warten Sie einen Moment."}})
	}
	if err := r.ParseForm(); err != nil {
		return badInput("Das Formular ließ sich nicht lesen.")
	}
	login := r.PostForm.Get("kennung")
	code := r.PostForm.Get("code")
	if code == "" && b.svc.Keys != nil {
		return b.keyLogin(rw, r, login)
	}
	tok, _, err := b.svc.Staff.Login(r.Context(), login, r.PostForm.Get("passwort"), code, server.ClientIP(r), r.UserAgent())
	if errors.Is(err, staff.ErrLoginFailed) {
		return b.loginFailed(rw, login)
	}
	if err != nil {
		return err
	}
	b.setCookie(rw, string(tok), 0)
	return redirect(rw, r, "/backoffice/")
}

// loginFailed is the login page after any failure of the first step.
func (b *loginPages) loginFailed(rw http.ResponseWriter, login string) error {
	if len(login) > 64 {
		login = ""
	}
	return b.render(rw, http.StatusUnauthorized, "login", view{Title: "Anmeldung Backoffice",
		Data: loginData{Login: login, Corporate: b.corp != nil, Error: "Die Anmeldung ist fehlgeschlagen. Prüfen Sie Kennung, Passwort und Einmalcode " +
			"(ohne Einmalcode: ob ein Sicherheitsschlüssel eingerichtet ist); " +
			"nach mehreren Fehlversuchen ist die Anmeldung für eine Viertelstunde gesperrt."}})
}

func (b *loginPages) logout(rw http.ResponseWriter, r *http.Request, s current) error {
	if err := b.svc.Staff.Logout(r.Context(), s.tok, s.Member, server.ClientIP(r)); err != nil {
		return err
	}
	b.setCookie(rw, "", -1)
	return redirect(rw, r, "/backoffice/anmelden")
}

// homeData is the start page's data: what the role may do.
type homeData struct {
	Links []link
}

func (b *loginPages) home(rw http.ResponseWriter, r *http.Request, s current) error {
	return b.render(rw, http.StatusOK, "home", view{Title: "Backoffice", Staff: &s.Member, Data: homeData{Links: nav(&s.Member)[1:]}})
}
