package session_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestHistory: every session is a sign-in in the history, with its device
// name; failures are there too, with a clipped user agent; the history
// reaches back HistoryDays days, newest first.
func TestHistory(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{}, clk.now)
	ctx := t.Context()
	if _, _, err := m.Create(ctx, session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow,
		AMR: []string{"pwd"}, Origin: session.OriginPassword, UserAgent: "Firefox"}); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Duration(session.HistoryDays) * 24 * time.Hour / 2)
	if err := m.Failed(ctx, id, session.KindApp, session.OriginDevice, session.OutcomeFailed, strings.Repeat("ä", 400), "Pixel"); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	if _, _, err := m.Create(ctx, session.New{PersonID: id, Kind: session.KindApp, Level: session.LevelSubstantial,
		AMR: []string{"hwk", "pin"}, Origin: session.OriginDevice, DeviceName: "Pixel"}); err != nil {
		t.Fatal(err)
	}
	got, err := m.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Outcome != session.OutcomeOK || got[0].DeviceName != "Pixel" || got[1].Outcome != session.OutcomeFailed ||
		got[2].UserAgent != "Firefox" || got[2].Method != string(session.OriginPassword) {
		t.Fatalf("History = %+v", got)
	}
	if ua := got[1].UserAgent; len(ua) > 300 || !strings.HasPrefix(ua, "ää") || strings.ContainsRune(ua, '\uFFFD') {
		t.Errorf("long user agent kept as %d bytes %q…", len(ua), ua[:10])
	}
	// Past the reach, the first sign-in drops out of the history.
	clk.advance(time.Duration(session.HistoryDays)*24*time.Hour/2 + time.Hour)
	if got, err := m.History(ctx, id); err != nil || len(got) != 2 {
		t.Errorf("History after %d days = %d entries (%v), want 2", session.HistoryDays, len(got), err)
	}
}

// TestEndByID: a person ends their own session by its ID, never another
// person's, and an unknown ID is ErrNotYours.
func TestEndByID(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	other := store.Person{KVNR: "T555558879", FamilyName: "Schmidt", GivenNames: "Anna", BirthDate: "1980",
		Street: "Weg", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("e"), UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{other}); err != nil {
		t.Fatal(err)
	}
	other, err := st.PersonByKVNR(t.Context(), other.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	m := session.NewManager(st, session.Config{}, newClock().now)
	ctx := t.Context()
	start := func(p store.PersonID) (session.Token, store.Session) {
		tok, s, err := m.Create(ctx, session.New{PersonID: p, Kind: session.KindBrowser, Level: session.LevelLow,
			AMR: []string{"pwd"}, Origin: session.OriginPassword})
		if err != nil {
			t.Fatal(err)
		}
		return tok, s
	}
	mineTok, mine := start(id)
	theirsTok, theirs := start(other.ID)
	if err := m.EndByID(ctx, id, session.ID(theirs)); !errors.Is(err, session.ErrNotYours) {
		t.Errorf("ending another person's session = %v, want ErrNotYours", err)
	}
	if _, err := m.Authenticate(ctx, theirsTok); err != nil {
		t.Errorf("the other person's session after the attempt: %v", err)
	}
	if err := m.EndByID(ctx, id, "nonsense"); !errors.Is(err, session.ErrNotYours) {
		t.Errorf("EndByID(nonsense) = %v", err)
	}
	if err := m.EndByID(ctx, id, session.ID(mine)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, mineTok); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("ended session = %v, want ErrNoSession", err)
	}
}
