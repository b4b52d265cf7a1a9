package web

import (
	"net/http"

	"github.com/pforte/pforte/internal/approval"
)

// Routes lists the portal's routes, for mounting on the server. Every one of
// them is behind http.CrossOriginProtection and sets the page headers.
func (w *Web) Routes() map[string]http.Handler {
	m := map[string]http.Handler{
		"GET /static/strength.js": w.base.asset("static/strength.js", "text/javascript; charset=utf-8"),
		"GET /static/style.css":   w.base.asset("static/style.css", "text/css; charset=utf-8"),
		"GET /static/wait.js":     w.base.asset("static/wait.js", "text/javascript; charset=utf-8"),
	}
	w.access.routes(m)
	w.login.routes(m)
	w.account.routes(m)
	w.personal.routes(m)
	w.devices.routes(m)
	w.email.routes(m)
	return m
}

func (w *accessPages) routes(m map[string]http.Handler) {
	m["GET /{$}"] = w.page(w.start)
	m["GET /zugang"] = w.partnerPage(w.accessForm)
	m["POST /zugang"] = w.partnerPage(w.requestAccess)
	m["GET /eid/rueckkehr"] = w.page(w.eidReturn)
	m["GET /eid/start/{flow}"] = w.partnerPage(w.eidStart)
	m["POST /eid/app-sitzung"] = w.page(w.appSession)
	m["POST /eid/bestaetigen"] = w.authenticated(w.confirmWithEID, false)
	m["GET /passwort-festlegen"] = w.passwordPage(w.choosePasswordForm)
	m["POST /passwort-festlegen"] = w.passwordPage(w.choosePassword)
	m["GET /passwort-vergessen"] = w.partnerPage(w.forgotForm)
	m["POST /passwort-vergessen"] = w.partnerPage(w.requestReset)
	m["GET /passwort-zuruecksetzen"] = w.passwordPage(w.resetForm)
	m["POST /passwort-zuruecksetzen"] = w.passwordPage(w.reset)
}

func (w *loginPages) routes(m map[string]http.Handler) {
	m["GET /anmelden"] = w.page(w.loginForm)
	m["POST /anmelden"] = w.page(w.login)
	m["POST /abmelden"] = w.page(w.logout)
	m["GET /anmelden/freigabe"] = w.authenticated(w.awaitStepUp, false)
	m["POST /anmelden/freigabe"] = w.authenticated(w.requestStepUp, false)
	m["GET /anmelden/gesperrt"] = w.page(w.awaitLockedLogin)
	m["GET /anmelden/hoeher"] = w.authenticated(w.higher, false)
}

func (w *accountPages) routes(m map[string]http.Handler) {
	m["GET /konto"] = w.authenticated(w.overview, false)
	m["POST /konto/sitzungen/{id}/beenden"] = w.authenticated(w.endSession, false)
	m["GET /passwort-aendern"] = w.passwordPage(w.withSession(w.changePasswordForm, true))
	m["POST /passwort-aendern"] = w.passwordPage(w.withSession(w.changePassword, true))
	m["POST /passwort-staerke"] = w.page(w.strength)
	m["POST /sprache"] = w.page(w.chooseLanguage)
}

func (w *personalPages) routes(m map[string]http.Handler) {
	view := approval.ActionPersonalView
	m["GET /daten"] = w.protected(view, "daten", w.personal)
	m["GET /daten/anschrift"] = w.protected(view, "daten", w.addressForm)
	m["POST /daten/anschrift"] = w.protected(view, "daten", w.changeAddress)
	m["GET /daten/bankverbindung"] = w.protected(view, "daten", w.bankForm)
	m["POST /daten/bankverbindung"] = w.protected(view, "daten", w.changeBank)
	m["GET /freigabe/{id}"] = w.protected(view, "daten", w.awaitChange)
}

func (w *devicePages) routes(m map[string]http.Handler) {
	m["GET /geraete"] = w.authenticated(w.devicesList, false)
	m["POST /geraete/{id}/name"] = w.authenticated(w.renameDevice, false)
	m["GET /geraete/{id}/entfernen"] = w.authenticated(w.removeForm, false)
	m["POST /geraete/{id}/entfernen"] = w.authenticated(w.removeDevice, false)
	m["POST /geraete/aktivierungsbrief"] = w.authenticated(w.orderLetter, false)
}

// Unknown answers a browser's request for a path the node does not serve
// (404) or a method a path does not take (405) with a page that says so
// and leads back (server.Server.HandleUnknown).
func (w *Web) Unknown(rw http.ResponseWriter, r *http.Request, status int) {
	w.base.page(func(rw http.ResponseWriter, r *http.Request) error {
		l := w.base.language(r)
		m := message{Heading: l.T("web.unknown.title"), Alert: true, Lines: []string{l.T("web.unknown.text")},
			Links: []link{{"/", l.T("web.link.start")}, {"/anmelden", l.T("web.login.title")}, {"/konto", l.T("web.nav.account")}}}
		if status == http.StatusMethodNotAllowed {
			m = message{Heading: l.T("web.unknown.method"), Alert: true, Lines: []string{l.T("web.unknown.method_text")},
				Links: []link{{"/", l.T("web.link.start")}, {"/konto", l.T("web.nav.account")}}}
		}
		return w.base.renderMessage(rw, r, status, m)
	}).ServeHTTP(rw, r)
}
