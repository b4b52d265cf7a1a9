package familyapi

import "net/http"

// Routes lists the person's JSON routes, for mounting on the server.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/family":                               a.session(a.list),
		"GET /api/v1/family/approvals/{id}":                a.session(a.status),
		"GET /api/v1/family/members/{handle}":              a.session(a.view),
		"POST /api/v1/family/members/{handle}/address":     a.session(a.address),
		"GET /api/v1/family/members/{handle}/mailbox":      a.session(a.mailboxList),
		"POST /api/v1/family/members/{handle}/mailbox":     a.session(a.mailboxWrite),
		"GET /api/v1/family/members/{handle}/mailbox/{id}": a.session(a.mailboxThread),
	}
}

// Routes lists the staff routes; none without a staff token.
func (s *Staff) Routes() map[string]http.Handler {
	if len(s.token) < MinStaffToken {
		return map[string]http.Handler{}
	}
	return map[string]http.Handler{
		"GET /api/v1/staff/representations":           s.staff(s.list),
		"POST /api/v1/staff/representations":          s.staff(s.appoint),
		"POST /api/v1/staff/representations/{id}/end": s.staff(s.end),
	}
}

// Routes lists the pages' routes.
func (p *Pages) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET " + PagePath:                                    p.page(p.list),
		"GET " + PagePath + "/freigabe/{id}":                 p.page(p.approval),
		"GET " + PagePath + "/person/{handle}":               p.page(p.member),
		"POST " + PagePath + "/person/{handle}/anschrift":    p.page(p.address),
		"GET " + PagePath + "/person/{handle}/postfach":      p.page(p.mailboxList),
		"POST " + PagePath + "/person/{handle}/postfach":     p.page(p.mailboxWrite),
		"GET " + PagePath + "/person/{handle}/postfach/{id}": p.page(p.mailboxThread),
	}
}
