package backoffice_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// TestFourEyesActFailsWhenCarriedOut: a PIN reset confirmed after the lock
// was reset meanwhile tells the confirming supervisor why and what to do
// (not a 5xx), records the request failed with why, and audits it; the
// request no longer waits.
func TestFourEyesActFailsWhenCarriedOut(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	n.BindPhone(t, p, in.Password, "135790")
	d := lockPIN(t, n, p)
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	sup := loginStaff(t, n, "bernd", staff.RoleSupervisor)
	path := fmt.Sprintf("/backoffice/personen/%d/geraete/%s/pin-entsperren", p.ID, d.ID)
	if code, _ := clerk.do(t, n, "POST", path, url.Values{"grund": {"PIN vergessen"}, "pruefung": {"rueckruf"}}); code != http.StatusSeeOther {
		t.Fatalf("ask: %d", code)
	}
	reqs, err := n.Staff.Pending(t.Context(), p.ID)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending: %+v, %v", reqs, err)
	}
	// Meanwhile the person unlocked the PIN with a new letter.
	if _, err := n.Store.UpdateDevice(t.Context(), d.ID, func(x *store.Device) error {
		x.PINFailures, x.PINLockedAt = 0, time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	code, body := sup.do(t, n, "POST", "/backoffice/vier-augen/"+reqs[0].ID+"/bestaetigen", url.Values{})
	if code != http.StatusConflict || !strings.Contains(body, "nicht ausgeführt") || !strings.Contains(body, "nicht gesperrt") ||
		!strings.Contains(body, "gescheitert") || !strings.Contains(body, fmt.Sprintf("/backoffice/personen/%d", p.ID)) {
		t.Errorf("confirming an act that cannot be carried out: %d\n%s", code, body)
	}
	got, err := n.Store.StaffRequestByID(t.Context(), reqs[0].ID)
	if err != nil || got.Status != store.StaffRequestFailed || got.Outcome != "pin_not_locked" || got.DecidedBy != sup.ID {
		t.Errorf("the request after the failure: %+v, %v", got, err)
	}
	if left, _ := n.Staff.Pending(t.Context(), p.ID); len(left) != 0 {
		t.Errorf("%d requests still pending", len(left))
	}
	es := auditOf(t, n, store.AuditFilter{Event: "staff.fouryes_failed"})
	if len(es) != 1 || es[0].Actor != sup.ID.Ref() || es[0].Subject != p.ID.Ref() || !strings.Contains(string(es[0].Details), `"outcome":"pin_not_locked"`) {
		t.Errorf("audit: %+v", es)
	}
	if es := auditOf(t, n, store.AuditFilter{Event: "staff.pin_lock_reset"}); len(es) != 0 {
		t.Errorf("a reset was recorded: %+v", es)
	}
	if code, _ := sup.do(t, n, "POST", "/backoffice/vier-augen/"+reqs[0].ID+"/bestaetigen", url.Values{}); code != http.StatusConflict {
		t.Errorf("confirming the failed request again: %d, want 409", code)
	}
}
