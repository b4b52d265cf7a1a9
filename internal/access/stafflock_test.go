package access_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/session"
)

// TestStaffLockHoldsForResetAndRequests: while staff lock the person's
// access, a reset letter's right code sets no password (and stays unused),
// and access and reset requests are answered alike but queue no letter.
func TestStaffLockHoldsForResetAndRequests(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	ctx := t.Context()
	f.svc.SetInitialPassword(ctx, f.person.ID, initial)
	res, err := f.login(t, initial)
	if err != nil {
		t.Fatal(err)
	}
	const old = "Kastanienbaum im Herbstwind"
	if err := f.svc.ChangePassword(ctx, res.Token, res.Session, initial, old, ""); err != nil {
		t.Fatal(err)
	}
	if err := resetNow(ctx, a, me); err != nil {
		t.Fatal(err)
	}
	var pdf []byte
	for _, b := range sink.pdfs {
		pdf = b
	}
	code := textAfter(t, pdf, "Rücksetzcode:")
	if code == "" {
		t.Fatal("no reset code in the letter's text")
	}
	if _, err := account.NewDesk(f.svc).LockAccess(ctx, f.person.ID, "staff:1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ResetWithCode(ctx, kvnr, code, "Leuchtturm an der Ostsee", "", ""); !errors.Is(err, session.ErrPersonLocked) {
		t.Errorf("reset with the right code during the lock = %v, want ErrPersonLocked", err)
	}
	if _, err := a.ResetWithCode(ctx, kvnr, "WRONGCODEWRONGCO", "Leuchtturm an der Ostsee", "", ""); !errors.Is(err, access.ErrResetFailed) {
		t.Errorf("reset with a wrong code during the lock = %v, want ErrResetFailed", err)
	}
	before, err := f.st.PersonLetters(ctx, f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := resetNow(ctx, a, me); err != nil {
		t.Errorf("reset request during the lock = %v, want the same answer as always (nil)", err)
	}
	if err := a.RequestLetter(ctx, me); err != nil {
		t.Errorf("access request during the lock = %v, want the same answer as always (nil)", err)
	}
	if after, err := f.st.PersonLetters(ctx, f.person.ID); err != nil || len(after) != len(before) {
		t.Errorf("letters during the lock: %d, %v; want %d (none queued)", len(after), err, len(before))
	}
	if err := account.NewDesk(f.svc).ReleaseAccess(ctx, f.person.ID, "staff:1", ""); err != nil {
		t.Fatal(err)
	}
	// The code stayed unused: after the release it sets the password.
	if _, err := a.ResetWithCode(ctx, kvnr, code, "Leuchtturm an der Ostsee", "", ""); err != nil {
		t.Errorf("reset after the release: %v", err)
	}
	if _, err := f.login(t, old); !errors.Is(err, account.ErrLoginFailed) {
		t.Errorf("old password after the reset: %v", err)
	}
}

// TestStaffLockHoldsForAccessRequests: a person without a password whose
// access staff locked gets the same answer to an access request, but no
// password letter.
func TestStaffLockHoldsForAccessRequests(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	ctx := t.Context()
	if _, err := account.NewDesk(f.svc).LockAccess(ctx, f.person.ID, "staff:1", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestLetter(ctx, me); err != nil {
		t.Errorf("access request during the lock = %v, want the same answer as always (nil)", err)
	}
	if letters, err := f.st.PersonLetters(ctx, f.person.ID); err != nil || len(letters) != 0 || len(sink.pdfs) != 0 {
		t.Errorf("letters during the lock: %d, %v; want none", len(letters), err)
	}
	if err := account.NewDesk(f.svc).ReleaseAccess(ctx, f.person.ID, "staff:1", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestLetter(ctx, me); err != nil {
		t.Fatal(err)
	}
	if letters, err := f.st.PersonLetters(ctx, f.person.ID); err != nil || len(letters) != 1 {
		t.Errorf("letters after the release: %d, %v; want 1", len(letters), err)
	}
}
