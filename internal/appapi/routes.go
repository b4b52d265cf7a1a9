package appapi

import "net/http"

// Routes lists the API's routes, for mounting on the server.
func (a *API) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{
		"POST /api/v1/access-requests":    a.handle(a.createAccessRequest),
		"POST /api/v1/password-resets":    a.handle(a.createPasswordReset),
		"POST /api/v1/sessions":           a.handle(a.createSession),
		"DELETE /api/v1/sessions/current": a.authenticated(a.deleteSession),
		"POST /api/v1/password":           a.authenticated(a.changePassword),
		"GET /api/v1/me":                  a.authenticated(a.me),
		"GET /api/openapi.json":           http.HandlerFunc(serveOpenAPI),
	}
	if meter, ok := a.strengthMeter(); ok {
		routes["POST /api/v1/password-strength"] = meter
	}
	if a.devices != nil {
		routes["POST /api/v1/app/challenges"] = a.handle(a.createChallenge)
		routes["POST /api/v1/devices"] = a.handle(a.bindDevice)
		routes["POST /api/v1/app/sessions"] = a.handle(a.createAppSession)
		routes["GET /api/v1/devices"] = a.chosenPassword(a.listDevices)
		routes["PATCH /api/v1/devices/{id}"] = a.chosenPassword(a.renameDevice)
		routes["POST /api/v1/devices/{id}/pin"] = a.handle(a.changePIN)
		routes["DELETE /api/v1/devices/{id}"] = a.handle(a.unbindDevice)
		routes["POST /api/v1/devices/{id}/unlock"] = a.handle(a.unlockDevice)
		if a.access != nil {
			routes["POST /api/v1/activation-letters"] = a.chosenPassword(a.orderActivationLetter)
		}
	}
	if a.approvals != nil {
		routes["GET /api/v1/app/approvals"] = a.chosenPassword(a.pendingApprovals)
		routes["GET /api/v1/app/approvals/events"] = a.chosenPassword(a.approvalEvents)
		routes["POST /api/v1/approvals/{id}/approve"] = a.handle(a.approve)
		routes["POST /api/v1/approvals/{id}/decline"] = a.handle(a.decline)
		routes["GET /api/v1/approvals/{id}"] = a.chosenPassword(a.approvalStatus)
		routes["PUT /api/v1/me/address"] = a.chosenPassword(a.changeAddress)
		routes["PUT /api/v1/me/bank-account"] = a.chosenPassword(a.changeBank)
		routes["GET /api/v1/outbox"] = a.handle(a.outbox)
		if a.devices != nil {
			routes["POST /api/v1/me/devices/{id}/remove"] = a.chosenPassword(a.removeDevice)
		}
	}
	return routes
}
