package appapi

import "net/http"

// Routes lists the API's routes, for mounting on the server.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /api/v1/access-requests":    a.handle(a.createAccessRequest),
		"POST /api/v1/password-resets":    a.handle(a.createPasswordReset),
		"POST /api/v1/sessions":           a.handle(a.createSession),
		"DELETE /api/v1/sessions/current": a.authenticated(a.deleteSession),
		"POST /api/v1/password":           a.authenticated(a.changePassword),
		"GET /api/v1/me":                  a.authenticated(a.me),
		"GET /api/openapi.json":           http.HandlerFunc(serveOpenAPI),
	}
}
