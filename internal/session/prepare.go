package session

import "github.com/pforte/pforte/internal/store"

// Prepared is a session described by New, built but not stored: its token,
// the store.Session to store and the sign-in history line that goes with
// it. A login that decides in one transaction of the store (an app login,
// store.DeviceProof; a password login, store.PasswordLogins) stores both
// there, with the staff lock read in the same transaction; every other
// login goes through Create or Replace.
type Prepared struct {
	Token   Token
	Session store.Session
	// History is the sign-in history line of the person's sign-in; the
	// store sets its outcome (and its time, for a failed attempt).
	History store.LoginEvent
}

// Prepare builds the session n describes as Create would, without storing
// it or looking at the staff lock.
func (m *Manager) Prepare(n New) (Prepared, error) {
	tok, s, err := m.build(n, m.now())
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{Token: tok, Session: s, History: store.LoginEvent{PersonID: s.PersonID, At: s.CreatedAt, Kind: s.Kind,
		Method: s.Origin, Outcome: OutcomeOK, UserAgent: clip(s.UserAgent, maxUserAgent), DeviceName: n.DeviceName}}, nil
}
