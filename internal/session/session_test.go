package session_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)} }
func seed(t *testing.T, st store.Store) store.PersonID {
	t.Helper()
	p := store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970",
		Street: "Hauptstraße", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"),
		UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	got, err := st.PersonByKVNR(t.Context(), p.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	return got.ID
}

func TestLifecycle(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{}, clk.now)
	ctx := t.Context()

	tok, s, err := m.Create(ctx, session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow, AMR: []string{"pwd"}, Origin: session.OriginPassword})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || fmt.Sprint(tok) == string(tok) || fmt.Sprintf("%v", tok) == string(tok) {
		t.Errorf("token %d chars, prints as %v", len(tok), tok)
	}
	if got, err := m.Authenticate(ctx, tok); err != nil || got.PersonID != id || got.Level != "low" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	// Used within the idle timeout, the session lives on past the first
	// idle deadline.
	for range 4 {
		clk.advance(20 * time.Minute)
		if _, err := m.Authenticate(ctx, tok); err != nil {
			t.Fatalf("after %v: %v", clk.t.Sub(s.CreatedAt), err)
		}
	}
	clk.advance(31 * time.Minute)
	if _, err := m.Authenticate(ctx, tok); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("idle session = %v, want ErrNoSession", err)
	}
	for _, bad := range []session.Token{"", "short", session.Token(string(tok[:42]) + "A")} {
		if _, err := m.Authenticate(ctx, bad); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("Authenticate(%q) = %v", string(bad), err)
		}
	}
}

func TestAbsoluteExpiry(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{High: session.Lifetime{Idle: 15 * time.Minute, Absolute: time.Hour}}, clk.now)
	tok, _, err := m.Create(t.Context(), session.New{PersonID: id, Kind: session.KindApp, Level: session.LevelHigh, Origin: session.OriginDevice})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		clk.advance(14 * time.Minute)
		if _, err := m.Authenticate(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(14 * time.Minute)
	// 70 minutes in: past the absolute hour although used every 14 minutes.
	if _, err := m.Authenticate(t.Context(), tok); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("after the absolute lifetime = %v, want ErrNoSession", err)
	}
}

func TestReplaceGivesNewToken(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{}, clk.now)
	ctx := t.Context()
	old, _, err := m.Create(ctx, session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow, Origin: session.OriginPassword})
	if err != nil {
		t.Fatal(err)
	}
	next, s, err := m.Replace(ctx, old, session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelSubstantial, AMR: []string{"pwd", "hwk"}, Origin: session.OriginDevice})
	if err != nil {
		t.Fatal(err)
	}
	if next == old || s.Level != "substantial" {
		t.Errorf("replace kept the token or level: %+v", s)
	}
	if _, err := m.Authenticate(ctx, old); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("old token after replace = %v", err)
	}
	if _, _, err := m.Replace(ctx, old, session.New{PersonID: id, Level: session.LevelHigh, Origin: session.OriginDevice}); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("replacing an ended session = %v, want ErrNoSession", err)
	}
	other, _, _ := m.Create(ctx, session.New{PersonID: id, Kind: session.KindApp, Level: session.LevelLow, Origin: session.OriginDevice})
	if n, err := m.EndOthers(ctx, id, next, session.EndedPasswordChanged); err != nil || n != 1 {
		t.Errorf("EndOthers = %d, %v", n, err)
	}
	if _, err := m.Authenticate(ctx, other); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("other session survived EndOthers: %v", err)
	}
	if list, err := m.List(ctx, id); err != nil || len(list) != 1 {
		t.Errorf("List = %d sessions, %v", len(list), err)
	}
	if err := m.End(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, next); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("ended session = %v", err)
	}
}

func TestLevels(t *testing.T) {
	if !(session.LevelHigh.Rank() > session.LevelSubstantial.Rank() && session.LevelSubstantial.Rank() > session.LevelLow.Rank()) {
		t.Error("levels out of order")
	}
	if session.Level("bogus").Rank() != 0 {
		t.Error("unknown level ranks")
	}
	if got := session.LevelHigh.ACR(); got != "http://eidas.europa.eu/LoA/high" {
		t.Errorf("ACR = %q", got)
	}
	if errs := (session.Config{Low: session.Lifetime{Idle: 2 * time.Hour, Absolute: time.Hour}}).Validate(); len(errs) != 1 {
		t.Errorf("Validate = %v", errs)
	}
}

func TestOriginIsStoredAndRequired(t *testing.T) {
	st := testdb.Open(t)
	id := seed(t, st)
	clk := newClock()
	m := session.NewManager(st, session.Config{}, clk.now)
	ctx := t.Context()
	identified := clk.t.Add(-4 * time.Minute)
	tok, _, err := m.Create(ctx, session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelHigh,
		Origin: session.OriginEID, OriginAt: identified})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != "eid" || !got.OriginAt.Equal(identified) {
		t.Errorf("origin = %q at %v, want eid at %v", got.Origin, got.OriginAt, identified)
	}
	next, s, err := m.Replace(ctx, tok, session.New{PersonID: id, Kind: session.KindBrowser, Level: session.LevelHigh, Origin: session.OriginDevice})
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != "device" || !s.OriginAt.Equal(clk.t) {
		t.Errorf("replacement origin = %q at %v, want device now", s.Origin, s.OriginAt)
	}
	for name, n := range map[string]session.New{
		"no origin":        {PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow},
		"unknown origin":   {PersonID: id, Kind: session.KindBrowser, Level: session.LevelLow, Origin: "sms"},
		"origin in future": {PersonID: id, Kind: session.KindBrowser, Level: session.LevelHigh, Origin: session.OriginEID, OriginAt: clk.t.Add(time.Second)},
	} {
		if _, _, err := m.Create(ctx, n); !errors.Is(err, session.ErrNoOrigin) {
			t.Errorf("%s: Create = %v, want ErrNoOrigin", name, err)
		}
		if _, _, err := m.Replace(ctx, next, n); !errors.Is(err, session.ErrNoOrigin) {
			t.Errorf("%s: Replace = %v, want ErrNoOrigin", name, err)
		}
	}
}

func TestFreshEID(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	eid := store.Session{Level: "high", Origin: "eid", OriginAt: now.Add(-14 * time.Minute), CreatedAt: now.Add(-time.Minute)}
	tests := []struct {
		name string
		edit func(s *store.Session)
		want bool
	}{
		{"eID within 15 minutes", func(*store.Session) {}, true},
		{"eID exactly 15 minutes ago", func(s *store.Session) { s.OriginAt = now.Add(-15 * time.Minute) }, true},
		{"eID 16 minutes ago, session new", func(s *store.Session) { s.OriginAt = now.Add(-16 * time.Minute) }, false},
		{"high from a phone", func(s *store.Session) { s.Origin = "device" }, false},
		{"high from a password", func(s *store.Session) { s.Origin = "password" }, false},
		{"eID origin below high", func(s *store.Session) { s.Level = "substantial" }, false},
		{"no origin time", func(s *store.Session) { s.OriginAt = time.Time{} }, false},
		{"origin in the future", func(s *store.Session) { s.OriginAt = now.Add(time.Minute) }, false},
	}
	for _, tt := range tests {
		s := eid
		tt.edit(&s)
		if got := session.FreshEID(s, now); got != tt.want {
			t.Errorf("%s: FreshEID = %v, want %v", tt.name, got, tt.want)
		}
	}
}
