package session_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestPrepareStoresNothing: Prepare builds the session Create would store,
// with its history line, and stores neither.
func TestPrepareStoresNothing(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{}, clk.now)
	p, err := m.Prepare(session.New{PersonID: id, Kind: session.KindApp, Level: session.LevelHigh, AMR: []string{"hwk", "pin"},
		Origin: session.OriginDevice, UserAgent: "pforte-app", DeviceName: "Pixel 8"})
	if err != nil {
		t.Fatal(err)
	}
	s, h := p.Session, p.History
	if !bytes.Equal(s.TokenHash, p.Token.Hash()) || s.PersonID != id || s.Level != "high" || !s.CreatedAt.Equal(clk.now()) ||
		!s.IdleExpiresAt.Equal(clk.now().Add(15*time.Minute)) || !s.ExpiresAt.Equal(clk.now().Add(12*time.Hour)) {
		t.Errorf("prepared session %+v", s)
	}
	if h.PersonID != id || !h.At.Equal(s.CreatedAt) || h.Kind != "app" || h.Method != "device" || h.Outcome != session.OutcomeOK ||
		h.UserAgent != "pforte-app" || h.DeviceName != "Pixel 8" {
		t.Errorf("prepared history line %+v", h)
	}
	if live, err := st.PersonSessions(t.Context(), id, clk.now()); err != nil || len(live) != 0 {
		t.Errorf("%d sessions stored by Prepare (%v)", len(live), err)
	}
	if events, err := st.PersonLoginEvents(t.Context(), id, time.Time{}, 10); err != nil || len(events) != 0 {
		t.Errorf("%d history lines stored by Prepare (%v)", len(events), err)
	}
	if _, err := m.Prepare(session.New{PersonID: id, Kind: session.KindApp, Level: session.LevelHigh}); !errors.Is(err, session.ErrNoOrigin) {
		t.Errorf("Prepare without an origin = %v, want ErrNoOrigin", err)
	}
}
