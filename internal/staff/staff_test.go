package staff_test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	st  store.Store
	svc *staff.Service
	clk *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := testdb.Open(t)
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	logger := slog.New(slog.DiscardHandler)
	return &fixture{st: st, clk: clk,
		svc: staff.New(st, h, ring, audit.New(st, audit.GenerateKey(), clk.now, logger), clk.now, staff.Config{}, logger)}
}

func (f *fixture) add(t *testing.T, login string, role staff.Role) staff.Credentials {
	t.Helper()
	cr, err := f.svc.Add(t.Context(), login, "Erika Muster", role)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

func TestAddValidates(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.add(t, "Erika.Muster", staff.RoleClerk)
	if _, err := f.svc.Add(ctx, "erika.muster", "Zweite", staff.RoleClerk); !errors.Is(err, staff.ErrExists) {
		t.Errorf("same login (case folded) = %v, want ErrExists", err)
	}
	for _, bad := range []struct{ login, name, role string }{
		{"x", "Name", "clerk"}, {"mit leerzeichen", "Name", "clerk"}, {"ok", "", "clerk"}, {"ok", "Name", "admin"},
		{strings.Repeat("a", 65), "Name", "clerk"},
	} {
		if _, err := f.svc.Add(ctx, bad.login, bad.name, staff.Role(bad.role)); !errors.Is(err, staff.ErrInvalid) {
			t.Errorf("Add(%q, %q, %q) = %v, want ErrInvalid", bad.login, bad.name, bad.role, err)
		}
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	cr := f.add(t, "erika", staff.RoleSupervisor)
	if len(cr.Password) < 20 || !strings.HasPrefix(cr.URI, "otpauth://totp/") {
		t.Fatalf("credentials: %d-character password, URI %q", len(cr.Password), cr.URI)
	}
	code := staff.Code(cr.Secret, f.clk.now())
	for _, tt := range []struct{ name, login, pw, code string }{
		{"unknown login", "nobody", string(cr.Password), code},
		{"wrong password", "erika", "falsch-falsch-falsch", code},
		{"wrong code", "erika", string(cr.Password), "000000"},
		{"no code", "erika", string(cr.Password), ""},
	} {
		if _, _, err := f.svc.Login(ctx, tt.login, tt.pw, tt.code, "192.0.2.1", "test"); !errors.Is(err, staff.ErrLoginFailed) {
			t.Errorf("%s: Login = %v, want ErrLoginFailed", tt.name, err)
		}
	}
	tok, m, err := f.svc.Login(ctx, " ERIKA ", string(cr.Password), code, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if m.Login != "erika" || m.Role != staff.RoleSupervisor {
		t.Errorf("member = %+v", m)
	}
	if got, err := f.svc.Authenticate(ctx, tok); err != nil || got.ID != m.ID {
		t.Errorf("Authenticate = %+v, %v", got, err)
	}
	// The same code again, even from another browser, is refused.
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), code, "192.0.2.2", "test"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("replayed code: Login = %v, want ErrLoginFailed", err)
	}
	f.clk.add(30 * time.Second)
	tok2, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "test")
	if err != nil {
		t.Fatalf("the next step's code: %v", err)
	}
	if err := f.svc.Logout(ctx, tok2, m, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok2); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("after logout = %v, want ErrNoSession", err)
	}
	// The idle timeout ends the first session.
	f.clk.add(f.svc.IdleTimeout() + time.Second)
	if _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("after the idle timeout = %v, want ErrNoSession", err)
	}
}

func TestLoginLocksAfterFailures(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	cr := f.add(t, "erika", staff.RoleClerk)
	for range 5 {
		if _, _, err := f.svc.Login(ctx, "erika", "falsch", "123456", "192.0.2.1", "test"); !errors.Is(err, staff.ErrLoginFailed) {
			t.Fatal(err)
		}
	}
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "test"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("right password and code while locked: %v, want ErrLoginFailed", err)
	}
	f.clk.add(15*time.Minute + time.Second)
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "test"); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}

func TestLoginParallelGuessesBounded(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.add(t, "erika", staff.RoleClerk)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _, _ = f.svc.Login(ctx, "erika", "falsch", "123456", "192.0.2.1", "test") })
	}
	wg.Wait()
	entries, err := f.st.SearchAudit(ctx, store.AuditFilter{Event: "staff.login_failed"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		if strings.Contains(string(e.Details), `"wrong"`) {
			checked++
		}
	}
	if checked != 5 {
		t.Errorf("%d of 20 parallel guesses were checked; want exactly 5", checked)
	}
}

func TestDisableAndReset(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	cr := f.add(t, "erika", staff.RoleClerk)
	tok, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Disable(ctx, "erika"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("session after disable = %v, want ErrNoSession", err)
	}
	f.clk.add(30 * time.Second)
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "test"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("login when disabled = %v, want ErrLoginFailed", err)
	}
	if err := f.svc.Disable(ctx, "nobody"); !errors.Is(err, staff.ErrUnknown) {
		t.Errorf("Disable(unknown) = %v", err)
	}
	cr2, err := f.svc.Reset(ctx, "erika")
	if err != nil {
		t.Fatal(err)
	}
	f.clk.add(30 * time.Second)
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "test"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("old credentials after reset = %v, want ErrLoginFailed", err)
	}
	if _, _, err := f.svc.Login(ctx, "erika", string(cr2.Password), staff.Code(cr2.Secret, f.clk.now()), "192.0.2.1", "test"); err != nil {
		t.Errorf("new credentials after reset: %v", err)
	}
}

func TestFourEyes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.st.UpsertPersons(ctx, []store.Person{{KVNR: "A123456780", FamilyName: "M", GivenNames: "J", BirthDate: "1970",
		Street: "S", PostalCode: "10115", City: "B", Relation: store.RelationMember, Digest: []byte{1}, UpdatedAt: f.clk.now()}}); err != nil {
		t.Fatal(err)
	}
	p, err := f.st.PersonByKVNR(ctx, "A123456780")
	if err != nil {
		t.Fatal(err)
	}
	f.add(t, "anna", staff.RoleClerk)
	f.add(t, "bernd", staff.RoleSupervisor)
	anna, _ := f.st.StaffByLogin(ctx, "anna")
	bernd, _ := f.st.StaffByLogin(ctx, "bernd")
	a := staff.Member{ID: anna.ID, Login: "anna", Role: staff.RoleClerk}
	b := staff.Member{ID: bernd.ID, Login: "bernd", Role: staff.RoleSupervisor}
	if _, err := f.svc.Ask(ctx, a, "pin.reset", p.ID, "dev-1", "  ", "Rückfrage", "192.0.2.1"); !errors.Is(err, staff.ErrNoReason) {
		t.Errorf("Ask without a reason = %v, want ErrNoReason", err)
	}
	if _, err := f.svc.Ask(ctx, a, "pin.reset", p.ID, "dev-1", "Anruf von A123456780", "Rückfrage", "192.0.2.1"); !errors.Is(err, staff.ErrNoReason) {
		t.Errorf("Ask with a KVNR in the reason = %v, want ErrNoReason", err)
	}
	r, err := f.svc.Ask(ctx, a, "pin.reset", p.ID, "dev-1", "Anruf, PIN vergessen", "Rückfrage", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Decide(ctx, a, r.ID, true, "192.0.2.1"); !errors.Is(err, staff.ErrOwnRequest) {
		t.Errorf("confirming one's own request = %v, want ErrOwnRequest", err)
	}
	if got, err := f.svc.Pending(ctx, p.ID); err != nil || len(got) != 1 {
		t.Errorf("still pending after the refused confirmation: %d, %v", len(got), err)
	}
	d, err := f.svc.Decide(ctx, b, r.ID, true, "192.0.2.1")
	if err != nil || d.Status != store.StaffRequestConfirmed || d.DecidedBy != b.ID {
		t.Errorf("Decide by another = %+v, %v", d, err)
	}
	if _, err := f.svc.Decide(ctx, b, r.ID, true, "192.0.2.1"); !errors.Is(err, staff.ErrDecided) {
		t.Errorf("deciding twice = %v, want ErrDecided", err)
	}
}

func TestPermissionTable(t *testing.T) {
	for _, p := range staff.Permissions() {
		for _, r := range []staff.Role{"", "admin"} {
			if staff.Allowed(r, p) {
				t.Errorf("role %q has %s", r, p)
			}
		}
	}
	if staff.Allowed(staff.RoleClerk, staff.PermStaffEntries) || staff.Allowed(staff.RoleClerk, staff.PermAuditView) {
		t.Error("a clerk sees what staff did")
	}
	if staff.Allowed(staff.RoleAuditor, staff.PermPersonView) || staff.Allowed(staff.RoleAuditor, staff.PermDeviceRevoke) {
		t.Error("an auditor acts on persons")
	}
}
