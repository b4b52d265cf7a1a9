package backoffice_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// routePerms is every back-office route with the permission it must need,
// written down apart from the code's table: a route missing here, or one
// that needs another permission, fails TestPermissionMatrix.
var routePerms = map[string]staff.Permission{
	"POST /backoffice/abmelden":                                   staff.PermHome,
	"GET /backoffice/{$}":                                         staff.PermHome,
	"GET /backoffice/suche":                                       staff.PermSearch,
	"GET /backoffice/personen/{id}":                               staff.PermPersonView,
	"POST /backoffice/personen/{id}/sitzungen-beenden":            staff.PermSessionsEnd,
	"POST /backoffice/personen/{id}/entsperren":                   staff.PermAccountUnlock,
	"POST /backoffice/personen/{id}/zugang-sperren":               staff.PermAccessLock,
	"POST /backoffice/personen/{id}/zugang-freischalten":          staff.PermAccessRelease,
	"POST /backoffice/personen/{id}/geraete/{dev}/entfernen":      staff.PermDeviceRevoke,
	"POST /backoffice/personen/{id}/geraete/{dev}/pin-entsperren": staff.PermPINReset,
	"POST /backoffice/personen/{id}/aktivierungsbrief":            staff.PermLetterOrder,
	"POST /backoffice/personen/{id}/nicht-ich/{seq}":              staff.PermNotMe,
	"POST /backoffice/personen/{id}/briefe/{letter}/zurueck":      staff.PermLetterReturned,
	"GET /backoffice/versand":                                     staff.PermLetterBatches,
	"GET /backoffice/briefe":                                      staff.PermLetterReview,
	"POST /backoffice/briefe/{id}/freigeben":                      staff.PermLetterReview,
	"POST /backoffice/briefe/{id}/ablehnen":                       staff.PermLetterReview,
	"GET /backoffice/vier-augen":                                  staff.PermConfirm,
	"POST /backoffice/vier-augen/{id}/bestaetigen":                staff.PermConfirm,
	"POST /backoffice/vier-augen/{id}/ablehnen":                   staff.PermConfirm,
	"GET /backoffice/protokoll":                                   staff.PermAuditView,
	"POST /backoffice/protokoll/pruefen":                          staff.PermAuditView,
	"GET /backoffice/protokoll.csv":                               staff.PermAuditExport,
	"GET /backoffice/sicherheitsschluessel":                       staff.PermHome,
	"POST /backoffice/sicherheitsschluessel/neu":                  staff.PermHome,
	"POST /backoffice/sicherheitsschluessel/speichern":            staff.PermHome,
	"POST /backoffice/sicherheitsschluessel/{key}/entfernen":      staff.PermHome,
}

// publicRoutes need no staff session.
var publicRoutes = []string{"GET /backoffice/anmelden", "POST /backoffice/anmelden", "POST /backoffice/anmelden/schluessel",
	"GET /backoffice/anmelden/firma", "GET /backoffice/anmelden/firma/rueckkehr",
	"GET /backoffice/static/backoffice.css", "GET /backoffice/static/webauthn.js"}

// TestPermissionMatrix walks every role through every route: a route the
// role lacks the permission for answers 403 and changes nothing; every
// other answers something else. Without a session every protected route
// leads to the login.
func TestPermissionMatrix(t *testing.T) {
	n := start(t)
	var served []string
	for _, p := range n.Patterns() {
		if strings.Contains(p, "/backoffice") {
			served = append(served, p)
		}
	}
	var listed []string
	for p := range routePerms {
		listed = append(listed, p)
	}
	listed = append(listed, publicRoutes...)
	slices.Sort(listed)
	if !slices.Equal(served, listed) {
		t.Fatalf("back-office routes served:\n%q\nlisted in the matrix:\n%q", served, listed)
	}
	in := n.Insure(t, 1)
	p := in.Person
	path := func(pattern string) (string, string) {
		method, rest, _ := strings.Cut(pattern, " ")
		rest = strings.ReplaceAll(rest, "{$}", "")
		rest = strings.ReplaceAll(rest, "/personen/{id}", fmt.Sprintf("/personen/%d", p.ID))
		rest = strings.ReplaceAll(rest, "{id}", "unbekannt")
		rest = strings.ReplaceAll(rest, "{dev}", "unbekannt")
		rest = strings.ReplaceAll(rest, "{seq}", "1")
		rest = strings.ReplaceAll(rest, "{key}", "unbekannt")
		rest = strings.ReplaceAll(rest, "{letter}", "unbekannt")
		return method, rest
	}
	for _, role := range staff.Roles {
		m := loginStaff(t, n, "matrix-"+string(role), role)
		for _, pattern := range listed {
			perm, ok := routePerms[pattern]
			if !ok || perm == staff.PermHome && strings.HasPrefix(pattern, "POST") {
				continue // public, or the logout (below)
			}
			method, p := path(pattern)
			var form url.Values
			if method == http.MethodPost {
				form = url.Values{}
			}
			code, _ := m.do(t, n, method, p, form)
			if want := staff.Allowed(role, perm); want == (code == http.StatusForbidden) {
				t.Errorf("%s %s: %d; allowed by the table: %v", role, pattern, code, want)
			}
			if code >= 500 {
				t.Errorf("%s %s: %d", role, pattern, code)
			}
		}
		if code, _ := m.do(t, n, "POST", "/backoffice/abmelden", url.Values{}); code != http.StatusSeeOther {
			t.Errorf("%s: logout answered %d", role, code)
		}
		if code, _ := m.do(t, n, "GET", "/backoffice/", nil); code != http.StatusSeeOther {
			t.Errorf("%s: after logout the start page answered %d, want the way to the login", role, code)
		}
	}
	anon := bare(t, n)
	for pattern := range routePerms {
		method, p := path(pattern)
		var form url.Values
		if method == http.MethodPost {
			form = url.Values{"grund": {"x"}}
		}
		code, _ := send(t, anon, n, method, p, form, nil)
		if method == http.MethodGet && code != http.StatusSeeOther || method == http.MethodPost && code != http.StatusUnauthorized {
			t.Errorf("without a session %s: %d", pattern, code)
		}
	}
}

// TestSessionsApart: a staff session is never accepted by the portal or
// the API, and a portal session never by the back office.
func TestSessionsApart(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	m := loginStaff(t, n, "erika", staff.RoleSupervisor)
	c := bare(t, n)
	cookie := func(name, value string) http.Header {
		return http.Header{"Cookie": {name + "=" + value}}
	}
	// The staff token in the portal's cookie, and as the API's bearer.
	if code, _ := send(t, c, n, "GET", "/konto", nil, cookie(portalCookie, m.token)); code == http.StatusOK {
		t.Error("the portal accepted a staff session")
	}
	if code, _ := send(t, c, n, "GET", "/api/v1/me", nil, http.Header{"Authorization": {"Bearer " + m.token}}); code != http.StatusUnauthorized {
		t.Errorf("the API answered %d to a staff session, want 401", code)
	}
	// A portal session in the staff cookie.
	tok := portalSession(t, n, in.Person)
	if code, _ := send(t, c, n, "GET", "/konto", nil, cookie(portalCookie, string(tok))); code != http.StatusOK {
		t.Fatalf("the portal session itself answered %d", code)
	}
	if code, _ := send(t, c, n, "GET", "/backoffice/", nil, cookie(staffCookie, string(tok))); code != http.StatusSeeOther {
		t.Errorf("the back office answered %d to a portal session, want the way to its login", code)
	}
	if code, _ := send(t, c, n, "GET", "/backoffice/", nil, cookie(staffCookie, m.token)); code != http.StatusOK {
		t.Errorf("the staff session itself answered %d", code)
	}
}

// TestCrossOriginRefused: a form posted from another site (CSRF) is
// refused and changes nothing; every page forbids framing.
func TestCrossOriginRefused(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	portalSession(t, n, in.Person)
	m := loginStaff(t, n, "erika", staff.RoleClerk)
	path := fmt.Sprintf("/backoffice/personen/%d/sitzungen-beenden", in.Person.ID)
	for _, hdr := range []http.Header{{"Sec-Fetch-Site": {"cross-site"}}, {"Origin": {"https://angreifer.example"}}} {
		code, _ := send(t, m.c, n, "POST", path, url.Values{"grund": {"Anruf"}}, hdr)
		if code != http.StatusForbidden {
			t.Errorf("cross-origin form %v: %d, want 403", hdr, code)
		}
	}
	if live, err := n.Sessions.List(t.Context(), in.Person.ID); err != nil || len(live) == 0 {
		t.Errorf("after refused forms: %d sessions, %v; want the session kept", len(live), err)
	}
	for _, p := range []string{"/backoffice/anmelden", "/backoffice/", "/backoffice/suche"} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", n.URL+p, nil)
		resp, err := m.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q, X-Frame-Options %q", p, csp, resp.Header.Get("X-Frame-Options"))
		}
	}
}

// TestEndSessionsAudited: ending a person's sessions needs a reason, ends
// them all and is recorded with the staff member, the person and the
// reason; a clerk does not see that entry on the person view, a supervisor
// does.
func TestEndSessionsAudited(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	portalSession(t, n, p)
	portalSession(t, n, p)
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	path := fmt.Sprintf("/backoffice/personen/%d/sitzungen-beenden", p.ID)
	for _, reason := range []string{"", "   ", strings.Repeat("x", 501), "Anruf wegen A123456780"} {
		code, body := clerk.do(t, n, "POST", path, url.Values{"grund": {reason}})
		if code != http.StatusBadRequest || !strings.Contains(body, "Begründung") {
			t.Errorf("reason %q: %d", reason, code)
		}
	}
	if live, _ := n.Sessions.List(t.Context(), p.ID); len(live) != 2 {
		t.Fatalf("refused acts changed the sessions: %d left", len(live))
	}
	if code, _ := clerk.do(t, n, "POST", path, url.Values{"grund": {"Anruf: Passwort weitergegeben"}}); code != http.StatusSeeOther {
		t.Fatalf("end sessions: %d", code)
	}
	if live, _ := n.Sessions.List(t.Context(), p.ID); len(live) != 0 {
		t.Errorf("%d sessions left", len(live))
	}
	es := auditOf(t, n, store.AuditFilter{Event: "staff.sessions_ended"})
	if len(es) != 1 || es[0].Actor != clerk.ID.Ref() || es[0].Subject != p.ID.Ref() ||
		!strings.Contains(string(es[0].Details), "Passwort weitergegeben") || !strings.Contains(string(es[0].Details), `"sessions":2`) {
		t.Fatalf("audit: %+v", es)
	}
	_, body := clerk.do(t, n, "GET", fmt.Sprintf("/backoffice/personen/%d", p.ID), nil)
	if strings.Contains(body, "staff.sessions_ended") || !strings.Contains(body, "Handlungen von Mitarbeitenden sieht Ihre Rolle nicht") {
		t.Error("a clerk sees staff entries on the person view")
	}
	sup := loginStaff(t, n, "bernd", staff.RoleSupervisor)
	if _, body := sup.do(t, n, "GET", fmt.Sprintf("/backoffice/personen/%d", p.ID), nil); !strings.Contains(body, "staff.sessions_ended") {
		t.Error("a supervisor does not see the staff entry")
	}
}

// TestSearch finds by KVNR and by name and birth date, refuses input of
// the wrong shape, and records every search without what was searched.
func TestSearch(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	m := loginStaff(t, n, "anna", staff.RoleClerk)
	if code, body := m.do(t, n, "GET", "/backoffice/suche?kvnr="+strings.ToLower(p.KVNR), nil); code != 200 || !strings.Contains(body, fmt.Sprintf("/backoffice/personen/%d", p.ID)) {
		t.Errorf("by KVNR: %d", code)
	}
	birth, _ := time.Parse("2006-01-02", p.BirthDate)
	q := url.Values{"name": {strings.ToUpper(p.FamilyName)}, "geburtsdatum": {birth.Format("02.01.2006")}}
	if code, body := m.do(t, n, "GET", "/backoffice/suche?"+q.Encode(), nil); code != 200 || !strings.Contains(body, p.KVNR) {
		t.Errorf("by name and birth date: %d", code)
	}
	if code, body := m.do(t, n, "GET", "/backoffice/suche?kvnr=A000000000", nil); code != 200 || !strings.Contains(body, "Niemand gefunden") {
		t.Errorf("unknown KVNR: %d", code)
	}
	for _, bad := range []string{"kvnr=123", "name=M&geburtsdatum=01.01.1970", "name=Meier&geburtsdatum=1970", "name=Meier&geburtsdatum=31.02.1970"} {
		if code, _ := m.do(t, n, "GET", "/backoffice/suche?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	es := auditOf(t, n, store.AuditFilter{Event: "staff.searched"})
	if len(es) != 3 {
		t.Errorf("%d searches recorded, want 3", len(es))
	}
	for _, e := range es {
		if strings.Contains(string(e.Details), p.KVNR) || strings.Contains(string(e.Details), p.FamilyName) {
			t.Errorf("a search entry holds what was searched: %s", e.Details)
		}
	}
	if code, _ := m.do(t, n, "GET", "/backoffice/personen/999999", nil); code != http.StatusNotFound {
		t.Errorf("unknown person: %d", code)
	}
	if code, _ := m.do(t, n, "GET", "/backoffice/personen/abc", nil); code != http.StatusNotFound {
		t.Errorf("person id not a number: %d", code)
	}
}

// TestAllowedNetworks: with an allow-list the back office answers only
// clients in it, its login included; the portal stays open.
func TestAllowedNetworks(t *testing.T) {
	for _, tt := range []struct {
		network string
		want    int
	}{{"10.0.0.0/8", http.StatusForbidden}, {"127.0.0.0/8", http.StatusOK}} {
		n := nodetest.Start(t, nodetest.Options{TLS: true, Config: func(c *node.Config) {
			c.Backoffice.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix(tt.network)}
		}})
		c := bare(t, n)
		for _, p := range []string{"/backoffice/anmelden", "/backoffice/static/backoffice.css"} {
			if code, _ := send(t, c, n, "GET", p, nil, nil); code != tt.want {
				t.Errorf("%s allowed, GET %s: %d, want %d", tt.network, p, code, tt.want)
			}
		}
		code, _ := send(t, c, n, "POST", "/backoffice/anmelden", url.Values{"kennung": {"x"}, "passwort": {"y"}, "code": {"123456"}}, nil)
		if want := map[int]int{http.StatusForbidden: http.StatusForbidden, http.StatusOK: http.StatusUnauthorized}[tt.want]; code != want {
			t.Errorf("%s allowed, POST login: %d, want %d", tt.network, code, want)
		}
		if code, _ := send(t, c, n, "GET", "/anmelden", nil, nil); code != http.StatusOK {
			t.Errorf("the portal's login with a back-office allow-list: %d", code)
		}
	}
}

// TestLoginRateLimited: more staff logins from one address than the burst
// allows get 429 before any password is checked.
func TestLoginRateLimited(t *testing.T) {
	n := start(t)
	c := bare(t, n)
	form := url.Values{"kennung": {"niemand"}, "passwort": {"falsch"}, "code": {"123456"}}
	var codes []int
	for range 6 {
		code, _ := send(t, c, n, "POST", "/backoffice/anmelden", form, nil)
		codes = append(codes, code)
	}
	if want := []int{401, 401, 401, 401, 401, 429}; !slices.Equal(codes, want) {
		t.Errorf("answers %v, want %v", codes, want)
	}
}
