package backoffice_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/staff"
)

// TestAuditView: supervisors and auditors filter the trail, run audit
// verify and (the auditor) export it as CSV; each is recorded.
func TestAuditView(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	portalSession(t, n, p)
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	if code, _ := clerk.do(t, n, "POST", fmt.Sprintf("/backoffice/personen/%d/sitzungen-beenden", p.ID), url.Values{"grund": {"=HYPERLINK(\"x\")"}}); code != http.StatusSeeOther {
		t.Fatalf("act: %d", code)
	}
	aud := loginStaff(t, n, "dora", staff.RoleAuditor)
	q := url.Values{"kvnr": {p.KVNR}, "mitarbeiter": {"anna"}, "ereignis": {"staff."}}
	code, body := aud.do(t, n, "GET", "/backoffice/protokoll?"+q.Encode(), nil)
	if code != 200 || !strings.Contains(body, "staff.sessions_ended") || strings.Contains(body, "staff.login") {
		t.Errorf("filtered view: %d", code)
	}
	if code, body := aud.do(t, n, "GET", "/backoffice/protokoll?mitarbeiter=niemand", nil); code != 200 || !strings.Contains(body, "Keine Einträge") {
		t.Errorf("unknown staff member: %d", code)
	}
	for _, bad := range []string{"kvnr=123", "von=gestern", "ereignis=a%20b", "bis=31.02.2026"} {
		if code, _ := aud.do(t, n, "GET", "/backoffice/protokoll?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code, body := aud.do(t, n, "POST", "/backoffice/protokoll/pruefen", url.Values{}); code != 200 || !strings.Contains(body, "Prüfung bestanden") {
		t.Errorf("verify: %d", code)
	}
	code, body = aud.do(t, n, "GET", "/backoffice/protokoll.csv?"+q.Encode(), nil)
	if code != 200 {
		t.Fatalf("export: %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][0] != "seq" || rows[1][3] != "staff.sessions_ended" || !strings.Contains(rows[1][6], "HYPERLINK") {
		t.Errorf("export rows: %q", rows)
	}
	for _, r := range rows {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q starts a formula", c)
			}
		}
	}
	for _, ev := range []string{"staff.audit_viewed", "staff.audit_verified", "staff.audit_exported"} {
		code, body := aud.do(t, n, "GET", "/backoffice/protokoll?"+url.Values{"ereignis": {ev}}.Encode(), nil)
		if code != 200 || !strings.Contains(body, "<td>"+ev+"</td>") {
			t.Errorf("%s not recorded", ev)
		}
	}
}
