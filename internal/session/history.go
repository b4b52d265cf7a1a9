package session

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/store"
)

// The sign-in history: every session the Manager creates is a successful
// sign-in; the packages that check a password or a PIN record the failed
// attempts of known persons (Failed). The person sees the last
// HistoryDays days; maintenance removes older entries.

// HistoryDays is how far back the person's sign-in history reaches.
const HistoryDays = 90

// Outcomes of a sign-in attempt.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
	OutcomeLocked = "locked"
)

// maxUserAgent bounds the user agent kept with an event.
const maxUserAgent = 300

// clip cuts s to at most n bytes at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Failed records a failed sign-in attempt of a known person (a wrong
// password, a wrong PIN, an attempt during a lock: outcome OutcomeFailed or
// OutcomeLocked). The audit trail keeps the security record; this entry is
// what the person sees on their own page.
func (m *Manager) Failed(ctx context.Context, person store.PersonID, kind string, method Origin, outcome, userAgent, deviceName string) error {
	e := store.LoginEvent{PersonID: person, At: m.now().UTC().Truncate(time.Microsecond), Kind: kind, Method: string(method),
		Outcome: outcome, UserAgent: clip(userAgent, maxUserAgent), DeviceName: deviceName}
	if err := m.store.AddLoginEvent(ctx, e); err != nil {
		return fmt.Errorf("session: record failed sign-in: %w", err)
	}
	return nil
}

// History returns the person's sign-ins and failed attempts of the last
// HistoryDays days, newest first (at most 200).
func (m *Manager) History(ctx context.Context, id store.PersonID) ([]store.LoginEvent, error) {
	list, err := m.store.PersonLoginEvents(ctx, id, m.now().AddDate(0, 0, -HistoryDays), 200)
	if err != nil {
		return nil, fmt.Errorf("session: history: %w", err)
	}
	return list, nil
}

// ID names a session on the person's own pages (to end it there): a prefix
// of its token's hash, which reveals nothing of the token.
func ID(s store.Session) string { return hex.EncodeToString(s.TokenHash[:min(8, len(s.TokenHash))]) }

// ErrNotYours: no live session of the person has that ID.
var ErrNotYours = errors.New("session: no such session of the person")

// EndReason says why a session ended before its time, for the page that
// meets its stale cookie.
type EndReason string

// Reasons a session ended early.
const (
	// EndedPasswordChanged: the password was changed (or set anew) in
	// another session; every other session ends.
	EndedPasswordChanged EndReason = "password_changed"
	// EndedByPerson: the person ended it from another session's account
	// page.
	EndedByPerson EndReason = "ended_by_person"
	// EndedByStaff: the insurer's staff ended every session of the person
	// from the back office.
	EndedByStaff EndReason = "ended_by_staff"
	// EndedStaffLock: the insurer's staff locked the person's access,
	// which ends every session of the person.
	EndedStaffLock EndReason = "staff_locked"
)

// EndedError is ErrNoSession for a session that was ended early, with why.
type EndedError struct{ Reason EndReason }

func (e *EndedError) Error() string        { return "session: ended: " + string(e.Reason) }
func (e *EndedError) Is(target error) bool { return target == ErrNoSession }

// endedKind is the one-time kind that remembers an ended session until it
// would have expired: its digest is the token's hash, its subject the
// reason. It reveals nothing to whoever lacks the token.
const endedKind = "session-ended"

// remember keeps why s ended until it would have expired.
func (m *Manager) remember(ctx context.Context, s store.Session, why EndReason) error {
	now := m.now()
	if !s.ExpiresAt.After(now) {
		return nil
	}
	if err := m.store.PutOneTime(ctx, store.OneTime{Kind: endedKind, Digest: s.TokenHash, Subject: string(why),
		CreatedAt: now, ExpiresAt: s.ExpiresAt}); err != nil {
		return fmt.Errorf("session: remember the end: %w", err)
	}
	return nil
}

// whyEnded is what Authenticate answers for a token without a live session:
// an *EndedError when the session was ended early, else ErrNoSession.
func (m *Manager) whyEnded(ctx context.Context, tok Token, now time.Time) error {
	o, err := m.store.OneTimeByDigest(ctx, endedKind, tok.Hash(), now)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("session: authenticate: %w", err)
	}
	return &EndedError{Reason: EndReason(o.Subject)}
}

// EndByID ends the person's session named id (ID). ErrNotYours for an id
// that names none of the person's live sessions.
func (m *Manager) EndByID(ctx context.Context, person store.PersonID, id string) error {
	list, err := m.List(ctx, person)
	if err != nil {
		return err
	}
	for _, s := range list {
		if ID(s) == id {
			if err := m.remember(ctx, s, EndedByPerson); err != nil {
				return err
			}
			if err := m.store.DeleteSession(ctx, s.TokenHash); err != nil {
				return fmt.Errorf("session: end: %w", err)
			}
			return nil
		}
	}
	return ErrNotYours
}
