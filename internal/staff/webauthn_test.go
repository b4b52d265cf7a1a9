package staff_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// keysFixture is newFixture with security keys for the relying party
// kasse.example.
func keysFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	k, _ := seal.GenerateKey("t1")
	ring, _ := seal.NewKeyring(k)
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	cfg := staff.Config{Keys: staff.KeyConfig{}.Derive("https://kasse.example")}
	f.svc = staff.New(f.st, h, ring, audit.New(f.st, audit.GenerateKey(), f.clk.now, logger), f.clk.now, cfg, logger)
	if f.svc.Keys() == nil {
		t.Fatal("security keys are off")
	}
	return f
}

// TestKeyLoginCountsAttempts: the first step of a key login counts the
// attempt as the code login does: MaxFailures wrong passwords lock the
// account for both ways, and a right password without a key fails too.
func TestKeyLoginCountsAttempts(t *testing.T) {
	f := keysFixture(t)
	ctx := t.Context()
	cr := f.add(t, "erika", staff.RoleClerk)
	keys := f.svc.Keys()
	if _, _, err := keys.BeginKeyLogin(ctx, "erika", string(cr.Password), "192.0.2.1"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("right password, no key: %v, want ErrLoginFailed", err)
	}
	for range 4 {
		if _, _, err := keys.BeginKeyLogin(ctx, "erika", "falsch", "192.0.2.1"); !errors.Is(err, staff.ErrLoginFailed) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "t"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("code login after five key attempts: %v, want the lock", err)
	}
	f.clk.add(16 * time.Minute)
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "t"); err != nil {
		t.Errorf("code login after the lock: %v", err)
	}
}

// TestKeyCeremonyRefusals: a handle that names no challenge, a challenge
// of the other kind, and a registration finished by another staff member
// are refused; a bad key name leaves the challenge.
func TestKeyCeremonyRefusals(t *testing.T) {
	f := keysFixture(t)
	ctx := t.Context()
	f.add(t, "erika", staff.RoleClerk)
	f.add(t, "otto", staff.RoleClerk)
	erika, _ := f.st.StaffByLogin(ctx, "erika")
	otto, _ := f.st.StaffByLogin(ctx, "otto")
	me, other := staff.Member{ID: erika.ID, Login: "erika", SignedInAt: f.clk.now()}, staff.Member{ID: otto.ID, Login: "otto", SignedInAt: f.clk.now()}
	keys := f.svc.Keys()
	h, opts, err := keys.BeginKey(ctx, me)
	if err != nil || len(opts) == 0 {
		t.Fatalf("BeginKey: %v", err)
	}
	if _, _, err := keys.FinishKeyLogin(ctx, h, "{}", "192.0.2.1", "t"); !errors.Is(err, staff.ErrLoginFailed) {
		t.Errorf("a registration's handle at the login: %v", err)
	}
	h, _, _ = keys.BeginKey(ctx, me)
	if _, err := keys.FinishKey(ctx, me, h, " ", "{}", "192.0.2.1"); !errors.Is(err, staff.ErrInvalid) {
		t.Errorf("empty name: %v, want ErrInvalid", err)
	}
	if _, err := keys.FinishKey(ctx, other, h, "Schlüssel", "{}", "192.0.2.1"); !errors.Is(err, staff.ErrKeyRefused) {
		t.Errorf("another's ceremony: %v, want ErrKeyRefused", err)
	}
	if _, err := keys.FinishKey(ctx, me, h, "Schlüssel", "{}", "192.0.2.1"); !errors.Is(err, staff.ErrKeyRefused) {
		t.Errorf("a taken challenge: %v, want ErrKeyRefused", err)
	}
	if _, err := keys.FinishKey(ctx, me, "unbekannt", "Schlüssel", "{}", "192.0.2.1"); !errors.Is(err, staff.ErrKeyRefused) {
		t.Errorf("an unknown handle: %v, want ErrKeyRefused", err)
	}
	h, _, _ = keys.BeginKey(ctx, me)
	f.clk.add(3 * time.Minute)
	if _, err := keys.FinishKey(ctx, me, h, "Schlüssel", "{}", "192.0.2.1"); !errors.Is(err, staff.ErrKeyRefused) {
		t.Errorf("an expired challenge: %v, want ErrKeyRefused", err)
	}
	if got, _ := f.st.StaffKeysOf(ctx, erika.ID); len(got) != 0 {
		t.Errorf("keys stored: %d", len(got))
	}
}

// TestResetRemovesKeys: an operator's reset removes every key and gives
// back the TOTP code; removing the TOTP code needs a key.
func TestResetRemovesKeys(t *testing.T) {
	f := keysFixture(t)
	ctx := t.Context()
	f.add(t, "erika", staff.RoleClerk)
	m, _ := f.st.StaffByLogin(ctx, "erika")
	me := staff.Member{ID: m.ID, Login: "erika", SignedInAt: f.clk.now()}
	if err := f.svc.Keys().Remove(ctx, me, "totp", "192.0.2.1"); !errors.Is(err, staff.ErrLastFactor) {
		t.Errorf("removing the only factor: %v, want ErrLastFactor", err)
	}
	if err := f.st.AddStaffKey(ctx, store.StaffKey{ID: []byte("k1"), StaffID: m.ID, Name: "Büro", Credential: []byte("{}"),
		CreatedAt: f.clk.now()}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Keys().Remove(ctx, me, "totp", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.svc.Keys().Factors(ctx, me); fs.TOTP || len(fs.Keys) != 1 {
		t.Errorf("factors: %+v", fs)
	}
	cr, err := f.svc.Reset(ctx, "erika")
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := f.svc.Keys().Factors(ctx, me)
	if !fs.TOTP || len(fs.Keys) != 0 {
		t.Errorf("factors after reset: %+v", fs)
	}
	if _, _, err := f.svc.Login(ctx, "erika", string(cr.Password), staff.Code(cr.Secret, f.clk.now()), "192.0.2.1", "t"); err != nil {
		t.Errorf("login after reset: %v", err)
	}
}

// TestFactorChangesNeedAFreshSignIn: a session that began more than
// FactorChangeWindow ago (an unlocked workstation, a stolen cookie) can
// neither add a key nor remove a factor; nothing changes. The same member
// signed in just now can.
func TestFactorChangesNeedAFreshSignIn(t *testing.T) {
	f := keysFixture(t)
	ctx := t.Context()
	f.add(t, "erika", staff.RoleClerk)
	m, _ := f.st.StaffByLogin(ctx, "erika")
	if err := f.st.AddStaffKey(ctx, store.StaffKey{ID: []byte("k1"), StaffID: m.ID, Name: "Büro", Credential: []byte("{}"),
		CreatedAt: f.clk.now()}); err != nil {
		t.Fatal(err)
	}
	stale := staff.Member{ID: m.ID, Login: "erika", SignedInAt: f.clk.now().Add(-staff.FactorChangeWindow - time.Second)}
	keys := f.svc.Keys()
	if _, _, err := keys.BeginKey(ctx, stale); !errors.Is(err, staff.ErrSignInTooOld) {
		t.Errorf("BeginKey in an old session: %v, want ErrSignInTooOld", err)
	}
	if _, err := keys.FinishKey(ctx, stale, "h", "Schlüssel", "{}", "192.0.2.1"); !errors.Is(err, staff.ErrSignInTooOld) {
		t.Errorf("FinishKey in an old session: %v, want ErrSignInTooOld", err)
	}
	for _, ref := range []string{"totp", "azE"} {
		if err := keys.Remove(ctx, stale, ref, "192.0.2.1"); !errors.Is(err, staff.ErrSignInTooOld) {
			t.Errorf("Remove(%s) in an old session: %v, want ErrSignInTooOld", ref, err)
		}
	}
	if fs, err := keys.Factors(ctx, stale); err != nil || !fs.TOTP || len(fs.Keys) != 1 {
		t.Errorf("factors after the refusals: %+v %v, want both kept", fs, err)
	}
	fresh := stale
	fresh.SignedInAt = f.clk.now()
	if err := keys.Remove(ctx, fresh, "totp", "192.0.2.1"); err != nil {
		t.Errorf("Remove(totp) just after signing in: %v", err)
	}
}
