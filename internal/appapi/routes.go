package appapi

import "net/http"

// Routes lists the API's routes, for mounting on the server.
func (a *API) Routes() map[string]http.Handler {
	m := map[string]http.Handler{"GET /api/openapi.json": http.HandlerFunc(serveOpenAPI)}
	a.sessions.routes(m)
	a.access.routes(m)
	a.devices.routes(m)
	a.approvals.routes(m)
	a.outbox.routes(m)
	a.email.routes(m)
	return m
}
