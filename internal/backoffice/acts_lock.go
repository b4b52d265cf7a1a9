package backoffice

import (
	"net/http"

	"github.com/pforte/pforte/internal/server"
)

// The staff lock of a person's access (account.Desk.LockAccess): after
// "that was not me" or a suspected takeover, every login of the person
// fails until a staff member releases it. Locking ends every session of
// the person, browser and app.

// lockAccess locks the person's access; the reason is required.
func (b *personPages) lockAccess(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	n, err := b.svc.Accounts.LockAccess(r.Context(), p.ID, s.ID.Ref(), server.ClientIP(r))
	if err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "account_locked", p.ID, server.ClientIP(r),
		map[string]any{"reason": reason, "sessions": n}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "gesperrt"))
}

// releaseAccess ends the staff lock of the person's access; the reason is
// required.
func (b *personPages) releaseAccess(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	if err := b.svc.Accounts.ReleaseAccess(r.Context(), p.ID, s.ID.Ref(), server.ClientIP(r)); err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "account_lock_released", p.ID, server.ClientIP(r),
		map[string]any{"reason": reason}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "freigeschaltet"))
}
