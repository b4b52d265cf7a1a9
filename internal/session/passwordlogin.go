package session

import (
	"github.com/pforte/pforte/internal/store"
)

// Prepare builds the session n describes and its line in the sign-in
// history, without storing either: for a login that stores them in one
// transaction with its own writes (a password login:
// store.PasswordLogins.SettlePasswordLogin), which must refuse them while
// staff lock the person's access as Create does, and answer
// ErrPersonLocked then.
func (m *Manager) Prepare(n New) (Token, store.Session, store.LoginEvent, error) {
	tok, s, err := m.build(n, m.now())
	if err != nil {
		return "", store.Session{}, store.LoginEvent{}, err
	}
	e := store.LoginEvent{PersonID: s.PersonID, At: s.CreatedAt, Kind: s.Kind, Method: s.Origin,
		Outcome: OutcomeOK, UserAgent: clip(s.UserAgent, maxUserAgent), DeviceName: n.DeviceName}
	return tok, s, e, nil
}
