package backoffice

import (
	"net/http"

	"github.com/pforte/pforte/internal/staff"
)

// route is one page or action: its pattern, the one permission it needs
// (public: none, only the login and the style sheet) and its handler.
type route struct {
	pattern string
	perm    staff.Permission
	public  bool
	h       staffHandler
	login   handlerFunc // public routes
}

// routeTable is every route of the back office. guard checks each one's
// permission; TestPermissionMatrix walks every role through every route.
func (b *Backoffice) routeTable() []route {
	return []route{
		{pattern: "GET /backoffice/anmelden", public: true, login: b.login.loginForm},
		{pattern: "POST /backoffice/anmelden", public: true, login: b.login.login},
		{pattern: "POST /backoffice/anmelden/schluessel", public: true, login: b.login.keyLoginFinish},
		{pattern: "GET /backoffice/anmelden/firma", public: true, login: b.login.corporateStart},
		{pattern: "GET /backoffice/anmelden/firma/rueckkehr", public: true, login: b.login.corporateReturn},
		{pattern: "POST /backoffice/abmelden", perm: staff.PermHome, h: b.login.logout},
		{pattern: "GET /backoffice/sicherheitsschluessel", perm: staff.PermHome, h: b.login.keys},
		{pattern: "POST /backoffice/sicherheitsschluessel/neu", perm: staff.PermHome, h: b.login.keyAdd},
		{pattern: "POST /backoffice/sicherheitsschluessel/speichern", perm: staff.PermHome, h: b.login.keySave},
		{pattern: "POST /backoffice/sicherheitsschluessel/{key}/entfernen", perm: staff.PermHome, h: b.login.keyRemove},
		{pattern: "GET /backoffice/{$}", perm: staff.PermHome, h: b.login.home},
		{pattern: "GET /backoffice/suche", perm: staff.PermSearch, h: b.persons.search},
		{pattern: "GET /backoffice/personen/{id}", perm: staff.PermPersonView, h: b.persons.person},
		{pattern: "POST /backoffice/personen/{id}/sitzungen-beenden", perm: staff.PermSessionsEnd, h: b.persons.endSessions},
		{pattern: "POST /backoffice/personen/{id}/entsperren", perm: staff.PermAccountUnlock, h: b.persons.unlockAccount},
		{pattern: "POST /backoffice/personen/{id}/zugang-sperren", perm: staff.PermAccessLock, h: b.persons.lockAccess},
		{pattern: "POST /backoffice/personen/{id}/zugang-freischalten", perm: staff.PermAccessRelease, h: b.persons.releaseAccess},
		{pattern: "POST /backoffice/personen/{id}/geraete/{dev}/entfernen", perm: staff.PermDeviceRevoke, h: b.persons.revokeDevice},
		{pattern: "POST /backoffice/personen/{id}/geraete/{dev}/pin-entsperren", perm: staff.PermPINReset, h: b.persons.resetPIN},
		{pattern: "POST /backoffice/personen/{id}/aktivierungsbrief", perm: staff.PermLetterOrder, h: b.persons.orderLetter},
		{pattern: "POST /backoffice/personen/{id}/nicht-ich/{seq}", perm: staff.PermNotMe, h: b.persons.answerNotMe},
		{pattern: "POST /backoffice/personen/{id}/briefe/{letter}/zurueck", perm: staff.PermLetterReturned, h: b.persons.letterReturned},
		{pattern: "GET /backoffice/versand", perm: staff.PermLetterBatches, h: b.review.batches},
		{pattern: "GET /backoffice/briefe", perm: staff.PermLetterReview, h: b.review.reviewQueue},
		{pattern: "POST /backoffice/briefe/{id}/freigeben", perm: staff.PermLetterReview, h: b.review.releaseLetter},
		{pattern: "POST /backoffice/briefe/{id}/ablehnen", perm: staff.PermLetterReview, h: b.review.rejectLetter},
		{pattern: "GET /backoffice/vier-augen", perm: staff.PermConfirm, h: b.review.requests},
		{pattern: "POST /backoffice/vier-augen/{id}/bestaetigen", perm: staff.PermConfirm, h: b.review.confirmRequest},
		{pattern: "POST /backoffice/vier-augen/{id}/ablehnen", perm: staff.PermConfirm, h: b.review.declineRequest},
		{pattern: "GET /backoffice/protokoll", perm: staff.PermAuditView, h: b.audit.auditView},
		{pattern: "POST /backoffice/protokoll/pruefen", perm: staff.PermAuditView, h: b.audit.auditVerify},
		{pattern: "GET /backoffice/protokoll.csv", perm: staff.PermAuditExport, h: b.audit.auditCSV},
	}
}

// Routes lists the back office's routes, for mounting on the server.
func (b *Backoffice) Routes() map[string]http.Handler {
	m := map[string]http.Handler{"GET /backoffice/static/backoffice.css": b.base.asset("static/backoffice.css", "text/css; charset=utf-8"),
		"GET /backoffice/static/webauthn.js": b.base.asset("static/webauthn.js", "text/javascript; charset=utf-8")}
	for _, r := range b.routeTable() {
		if r.public {
			m[r.pattern] = b.base.page(r.login)
		} else {
			m[r.pattern] = b.base.page(b.base.guard(r.perm, r.h))
		}
	}
	return m
}
