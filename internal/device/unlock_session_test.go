package device_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// eidSessions gives sessions the way a person gets them: by an eID
// identification at the simulator (then choosing a password), and by a plain
// login at level substantial.
type eidSessions struct {
	f        *fixture
	access   *access.Service
	browser  *sim.Browser
	sessions *session.Manager
}

func newEIDSessions(t *testing.T, f *fixture) *eidSessions {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.NewManager(f.st, session.Config{}, f.clk.now)
	accounts := account.New(f.st, h, sessions, audit.New(f.st, audit.GenerateKey(), f.clk.now, logger), f.notices, f.clk.now, account.Config{}, logger)

	const redirect = "https://portal.example/eid/rueckkehr"
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	s, err := sim.New(sim.Config{Insecure: true, Issuer: issuer,
		Clients: []sim.Client{{ID: "pforte", Secret: "secret", RedirectURIs: []string{redirect}}},
		Identities: []sim.Identity{{Label: "passt", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
			Address: sim.Address{Street: "Hauptstraße 1", PostalCode: "10115", City: "Berlin", Country: "DE"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	client, err := eid.New(t.Context(), eid.Config{Issuer: issuer, ClientID: "pforte", ClientSecret: eid.NewSecret("secret"),
		RedirectURL: redirect}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	k, _ := seal.GenerateKey("t1")
	ring, _ := seal.NewKeyring(k)
	flows := access.New(f.st, accounts, h, nil, audit.New(f.st, audit.GenerateKey(), f.clk.now, logger), ring,
		access.Config{Portal: "https://portal.example", MinTime: time.Millisecond, EID: client, Partner: issuer}, f.clk.now, logger)
	return &eidSessions{f: f, access: flows, browser: &sim.Browser{Client: srv.Client()}, sessions: sessions}
}

// eid identifies the person with the eID card (forgotten password) and
// returns the session at level high that choosing a new password starts.
func (e *eidSessions) eid(t *testing.T, newPassword string) store.Session {
	t.Helper()
	start, err := e.access.StartEID(t.Context(), access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"},
		access.PurposeReset)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := e.browser.Authorize(t.Context(), start.RedirectURL, sim.Choice{Identity: 0})
	if err != nil {
		t.Fatal(err)
	}
	proven, err := e.access.FinishEID(t.Context(), start.Flow, loc.Query(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.access.ChoosePassword(t.Context(), proven.Ticket, newPassword, "192.0.2.1", "", session.KindApp)
	if err != nil {
		t.Fatal(err)
	}
	if res.Session.Level != string(session.LevelHigh) {
		t.Fatalf("eID session at level %q", res.Session.Level)
	}
	return res.Session
}

// TestUnlockWithSessionNeedsAFreshEIDIdentification guards the rule of
// UnlockWithSession: only a fresh eID identification (at most 15 minutes old)
// unlocks a locked PIN; an older eID session and a session at level
// substantial are refused and change nothing.
func TestUnlockWithSessionNeedsAFreshEIDIdentification(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	e := newEIDSessions(t, f)
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	for range 3 {
		f.svc.Login(t.Context(), dev, f.loginProof(t, phone, wrongPIN), "pin", "", "")
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
		t.Fatalf("not locked: %v", err)
	}
	const newPIN = "604817"
	unlock := func(sess store.Session) error {
		t.Helper()
		ch := f.challenge(t, device.PurposeBind, "")
		b, err := phone.SignBind(newPIN, "Pixel von Jürgen", "Pixel 8", ch)
		if err != nil {
			t.Fatal(err)
		}
		return f.svc.UnlockWithSession(t.Context(), dev, sess, b.DevicePublicKey, b.PINPublicKey, string(b.KDF), b.Name, b.Model,
			proofOf(ch.ID, b.Proof), "192.0.2.1")
	}
	stillLocked := func(when string) {
		t.Helper()
		if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, newPIN), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
			t.Errorf("%s: login with the new PIN = %v, want ErrPINLocked", when, err)
		}
	}

	// An eID identification older than 15 minutes is no longer fresh.
	old := e.eid(t, "Leuchtturm an der Ostsee")
	f.clk.advance(15*time.Minute + time.Second)
	if err := unlock(old); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("unlock with a 15 min 1 s old eID session = %v, want ErrBindRefused", err)
	}
	stillLocked("after the old eID session")

	// A session at level substantial (the password and a letter, or the
	// phone) does not prove identity anew.
	_, subst, err := e.sessions.Create(t.Context(), session.New{PersonID: f.person.ID, Kind: session.KindApp,
		Level: session.LevelSubstantial, AMR: []string{"pwd", "otp"}, Origin: session.OriginDevice})
	if err != nil {
		t.Fatal(err)
	}
	if err := unlock(subst); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("unlock with a substantial session = %v, want ErrBindRefused", err)
	}
	stillLocked("after the substantial session")

	// A fresh eID identification unlocks, with the new PIN.
	fresh := e.eid(t, "Sonnenblumenfeld am Deich")
	f.clk.advance(14 * time.Minute)
	if err := unlock(fresh); err != nil {
		t.Fatalf("unlock with a 14 min old eID session: %v", err)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, newPIN), "pin", "", ""); err != nil {
		t.Errorf("login with the new PIN after the unlock: %v", err)
	}
	var wrong *device.WrongPINError
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.As(err, &wrong) {
		t.Errorf("old PIN after the unlock = %v", err)
	}
}
