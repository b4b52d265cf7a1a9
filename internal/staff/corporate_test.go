package staff_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/staff"
)

// TestCorporate: the first sign-in creates the staff member under the
// provider's subject, later ones set the role again; a corporate staff
// member has no password login and no reset; a disabled one is refused;
// the same subject of another issuer is another staff member.
func TestCorporate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	const idp = "https://login.kasse.example"
	_, m, err := f.svc.Corporate(ctx, idp, "sub-1", "Tina Team", staff.RoleClerk, "192.0.2.1", "t")
	if err != nil {
		t.Fatal(err)
	}
	_, again, err := f.svc.Corporate(ctx, idp, "sub-1", "Tina Team", staff.RoleSupervisor, "192.0.2.1", "t")
	if err != nil || again.ID != m.ID || again.Role != staff.RoleSupervisor {
		t.Errorf("second sign-in: %+v, %v (first %+v)", again, err, m)
	}
	_, other, err := f.svc.Corporate(ctx, "https://other.example", "sub-1", "Tina Team", staff.RoleClerk, "192.0.2.1", "t")
	if err != nil || other.ID == m.ID {
		t.Errorf("same subject, other issuer: %+v, %v", other, err)
	}
	if _, _, err := f.svc.Login(ctx, m.Login, "", "", "192.0.2.1", "t"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("password login: %v, want ErrLoginFailed", err)
	}
	if _, err := f.svc.Reset(ctx, m.Login); !errors.Is(err, staff.ErrCorporate) {
		t.Errorf("reset: %v, want ErrCorporate", err)
	}
	if _, _, err := f.svc.Corporate(ctx, idp, "sub-2", "X", staff.Role("admin"), "192.0.2.1", "t"); !errors.Is(err, staff.ErrInvalid) {
		t.Errorf("unknown role: %v, want ErrInvalid", err)
	}
	if err := f.svc.Disable(ctx, m.Login); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Corporate(ctx, idp, "sub-1", "Tina Team", staff.RoleSupervisor, "192.0.2.1", "t"); !errors.Is(err, staff.ErrDisabled) {
		t.Errorf("disabled: %v, want ErrDisabled", err)
	}
}
