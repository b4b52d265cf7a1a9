package web

import "net/http"

// Routes lists the portal's routes, for mounting on the server. Every one of
// them is behind http.CrossOriginProtection and sets the page headers.
func (w *Web) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /{$}":                     w.page(w.start),
		"GET /zugang":                  w.partnerPage(w.accessForm),
		"POST /zugang":                 w.partnerPage(w.requestAccess),
		"GET /eid/rueckkehr":           w.page(w.eidReturn),
		"GET /eid/start/{flow}":        w.partnerPage(w.eidStart),
		"GET /passwort-festlegen":      w.page(w.choosePasswordForm),
		"POST /passwort-festlegen":     w.page(w.choosePassword),
		"GET /anmelden":                w.page(w.loginForm),
		"POST /anmelden":               w.page(w.login),
		"POST /abmelden":               w.page(w.logout),
		"GET /konto":                   w.authenticated(w.overview, false),
		"GET /passwort-aendern":        w.authenticated(w.changePasswordForm, true),
		"POST /passwort-aendern":       w.authenticated(w.changePassword, true),
		"GET /passwort-vergessen":      w.partnerPage(w.forgotForm),
		"POST /passwort-vergessen":     w.partnerPage(w.requestReset),
		"GET /passwort-zuruecksetzen":  w.page(w.resetForm),
		"POST /passwort-zuruecksetzen": w.page(w.reset),
		"GET /static/style.css":        w.asset("static/style.css", "text/css; charset=utf-8"),
	}
}
