package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// A staff lock (Zugangssperre) is set by the insurer's staff after "that
// was not me" or a suspected takeover, and holds until staff release it.
// Unlike the temporary lock after failed passwords it holds for every way
// in: package session starts no session for a locked person (password,
// app, eID, letter, a login confirmed on the phone), package device binds
// no phone, SetProvenPassword sets no password, and package oidc issues no
// tokens.
//
// What a login shows. A wrong password during a staff lock is an ordinary
// ErrLoginFailed: whoever knows only a KVNR learns nothing, not even that
// the account exists. The right password answers session.ErrPersonLocked,
// whose page names the way back (the insurer's service telephone): only
// the password's owner, or whoever took it over, sees it, and neither gets
// in.

// Errors of the staff lock's acts.
var (
	// ErrAlreadyStaffLocked: staff locked the person's access already.
	ErrAlreadyStaffLocked = errors.New("account: access locked by staff already")
	// ErrNotStaffLocked: the person's access is not locked by staff.
	ErrNotStaffLocked = errors.New("account: access not locked by staff")
)

// staffLocked refuses the right password of a person whose access staff
// locked: it gives back the attempt the login reserved (the right password
// never counts as a failure), records the refusal and answers
// session.ErrPersonLocked.
func (s *Service) staffLocked(ctx context.Context, id store.PersonID, kind string, duringLock bool, in Login) error {
	s.release(ctx, id, duringLock)
	s.record(ctx, audit.Event{Actor: "anonymous", Event: "account.login_failed", Subject: subject(id), ClientIP: in.ClientIP,
		Details: map[string]any{"reason": "staff_locked"}})
	if err := s.sessions.Failed(ctx, id, kind, session.OriginPassword, session.OutcomeLocked, in.UserAgent, ""); err != nil {
		s.logger.Error("sign-in history", slog.Any("error", err))
	}
	return session.ErrPersonLocked
}

// StaffLock returns the staff lock of the person's access; ok false when
// there is none.
func (d *Desk) StaffLock(ctx context.Context, id store.PersonID) (store.PersonLock, bool, error) {
	l, err := d.s.store.PersonLockByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.PersonLock{}, false, nil
	}
	if err != nil {
		return store.PersonLock{}, false, fmt.Errorf("account: staff lock: %w", err)
	}
	return l, true, nil
}

// LockAccess locks the person's access as staff member staffRef
// ("staff:<id>") and ends every session of the person, browser and app
// (session.EndedStaffLock); it returns how many ended.
// ErrAlreadyStaffLocked if it is locked.
func (d *Desk) LockAccess(ctx context.Context, id store.PersonID, staffRef, clientIP string) (int64, error) {
	err := d.s.store.LockPerson(ctx, store.PersonLock{PersonID: id, LockedAt: d.s.now(), LockedBy: staffRef})
	if errors.Is(err, store.ErrConflict) {
		// Locked already; but an earlier attempt may have stored the lock
		// and failed to end the sessions: end them now.
		if _, err := d.s.sessions.EndOthers(ctx, id, "", session.EndedStaffLock); err != nil {
			return 0, err
		}
		return 0, ErrAlreadyStaffLocked
	}
	if err != nil {
		return 0, fmt.Errorf("account: lock access: %w", err)
	}
	n, err := d.s.sessions.EndOthers(ctx, id, "", session.EndedStaffLock)
	if err != nil {
		return 0, err
	}
	d.s.record(ctx, audit.Event{Actor: staffRef, Event: "account.staff_locked", Subject: subject(id), ClientIP: clientIP,
		Details: map[string]any{"sessions": n}})
	return n, nil
}

// ReleaseAccess ends the staff lock of the person's access as staff member
// staffRef; ErrNotStaffLocked if there is none.
func (d *Desk) ReleaseAccess(ctx context.Context, id store.PersonID, staffRef, clientIP string) error {
	err := d.s.store.UnlockPerson(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotStaffLocked
	}
	if err != nil {
		return fmt.Errorf("account: release access: %w", err)
	}
	d.s.record(ctx, audit.Event{Actor: staffRef, Event: "account.staff_lock_released", Subject: subject(id), ClientIP: clientIP})
	return nil
}
