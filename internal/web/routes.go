package web

import (
	"net/http"

	"github.com/pforte/pforte/internal/approval"
)

// Routes lists the portal's routes, for mounting on the server. Every one of
// them is behind http.CrossOriginProtection and sets the page headers. The
// phone pages (login confirmation, personal data, devices) are there only
// after EnableApprovals.
func (w *Web) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{
		"GET /{$}":                     w.page(w.start),
		"GET /zugang":                  w.partnerPage(w.accessForm),
		"POST /zugang":                 w.partnerPage(w.requestAccess),
		"GET /eid/rueckkehr":           w.page(w.eidReturn),
		"GET /eid/start/{flow}":        w.partnerPage(w.eidStart),
		"POST /eid/app-sitzung":        w.page(w.appSession),
		"GET /passwort-festlegen":      w.passwordPage(w.choosePasswordForm),
		"POST /passwort-festlegen":     w.passwordPage(w.choosePassword),
		"GET /anmelden":                w.page(w.loginForm),
		"POST /anmelden":               w.page(w.login),
		"POST /abmelden":               w.page(w.logout),
		"GET /konto":                   w.authenticated(w.overview, false),
		"GET /passwort-aendern":        w.passwordPage(w.withSession(w.changePasswordForm, true)),
		"POST /passwort-aendern":       w.passwordPage(w.withSession(w.changePassword, true)),
		"GET /passwort-vergessen":      w.partnerPage(w.forgotForm),
		"POST /passwort-vergessen":     w.partnerPage(w.requestReset),
		"GET /passwort-zuruecksetzen":  w.passwordPage(w.resetForm),
		"POST /passwort-zuruecksetzen": w.passwordPage(w.reset),
		"POST /passwort-staerke":       w.page(w.strength),
		"GET /static/strength.js":      w.asset("static/strength.js", "text/javascript; charset=utf-8"),
		"GET /static/style.css":        w.asset("static/style.css", "text/css; charset=utf-8"),
	}
	if w.approvals != nil {
		view := approval.ActionPersonalView
		routes["GET /anmelden/freigabe"] = w.authenticated(w.awaitStepUp, false)
		routes["GET /anmelden/gesperrt"] = w.page(w.awaitLockedLogin)
		routes["GET /anmelden/hoeher"] = w.authenticated(w.higher, false)
		routes["POST /anmelden/freigabe"] = w.authenticated(w.requestStepUp, false)
		routes["GET /daten"] = w.protected(view, "daten", w.personal)
		routes["GET /daten/anschrift"] = w.protected(view, "daten", w.addressForm)
		routes["POST /daten/anschrift"] = w.protected(view, "daten", w.changeAddress)
		routes["GET /daten/bankverbindung"] = w.protected(view, "daten", w.bankForm)
		routes["POST /daten/bankverbindung"] = w.protected(view, "daten", w.changeBank)
		routes["GET /freigabe/{id}"] = w.protected(view, "daten", w.awaitChange)
		routes["GET /geraete"] = w.authenticated(w.devicesList, false)
		routes["POST /geraete/{id}/name"] = w.authenticated(w.renameDevice, false)
	}
	return routes
}
