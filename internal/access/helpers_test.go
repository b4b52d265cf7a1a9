package access_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// fixture is one person in the register, with the account service the flows
// keep passwords with.
type fixture struct {
	st       store.Store
	svc      *account.Service
	sessions *session.Manager
	hasher   account.Hasher
	ring     *seal.Keyring
	clk      *clock
	person   store.Person
	logger   *slog.Logger
}

const (
	kvnr    = "X110411675"
	initial = "ABCD-EFGH-JKLM"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := testdb.Open(t)
	p := store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember,
		Digest: []byte("d"), UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonByKVNR(t.Context(), kvnr)
	if err != nil {
		t.Fatal(err)
	}
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	f := &fixture{st: st, sessions: session.NewManager(st, session.Config{}, clk.now), ring: ring, clk: clk, person: p,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.useHasher(h)
	return f
}

// useHasher builds the account service on h.
func (f *fixture) useHasher(h account.Hasher) {
	f.hasher = h
	f.svc = account.New(f.st, h, f.sessions, f.audit(), notice.NewMaker(f.ring, f.clk.now, nil), f.clk.now, account.Config{}, f.logger)
}

func (f *fixture) audit() *audit.Log {
	return audit.New(f.st, audit.GenerateKey(), f.clk.now, f.logger)
}

func (f *fixture) login(t *testing.T, pw string) (account.LoginResult, error) {
	t.Helper()
	return f.svc.Login(t.Context(), account.Login{KVNR: kvnr, Password: pw, ClientIP: "192.0.2.1"}, session.KindBrowser)
}

// pdfSink collects delivered letters.
type pdfSink struct {
	mu   sync.Mutex
	pdfs map[string][]byte
}

func (s *pdfSink) Deliver(_ context.Context, id string, pdf []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pdfs[id] = pdf
	return nil
}

// flowOptions change what newAccessWith builds.
type flowOptions struct {
	letters     dispatch.Config
	intakeLimit int              // 0: the default
	eid         access.EIDClient // nil: no identification partner
	partner     string
}

func newAccess(t *testing.T, f *fixture) (*access.Service, *pdfSink) {
	t.Helper()
	return newAccessWith(t, f, flowOptions{})
}

func newAccessWith(t *testing.T, f *fixture, o flowOptions) (*access.Service, *pdfSink) {
	t.Helper()
	r, err := letter.NewRenderer(letter.Sender{Name: "Beispiel-Kasse", Street: "Hauptstraße 1", PostalCity: "10115 Berlin",
		Phone: "0800 123 456", Web: "portal.example"})
	if err != nil {
		t.Fatal(err)
	}
	sink := &pdfSink{pdfs: map[string][]byte{}}
	d := dispatch.New(f.st, f.ring, r, f.audit(), sink, f.clk.now, o.letters, f.logger)
	a := access.New(f.st, f.svc, f.hasher, d, f.audit(), f.ring,
		access.Config{Portal: "https://portal.example", MinTime: time.Millisecond, EID: o.eid, Partner: o.partner,
			IntakeLimit: o.intakeLimit}, f.clk.now, f.logger)
	return a, sink
}

func verifyAddress(t *testing.T, f *fixture, at time.Time) {
	t.Helper()
	if _, err := f.st.UpdatePerson(t.Context(), f.person.ID, func(p *store.Person) error {
		p.AddressVerifiedAt, p.AddressVerifiedBy = at, "melderegister"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// noticeCount is how many notices are queued for the fixture's person.
func (f *fixture) noticeCount(t *testing.T) int {
	t.Helper()
	list, err := f.st.PersonNotices(t.Context(), f.person.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// resetNow requests a reset and lets the intake's worker handle it, as
// every node's worker does soon after.
func resetNow(ctx context.Context, a *access.Service, in access.Request) error {
	if err := a.RequestReset(ctx, in); err != nil {
		return err
	}
	n, err := a.DrainIntake(ctx)
	if err == nil && n != 1 {
		err = fmt.Errorf("intake: %d requests handled, want 1", n)
	}
	return err
}

// resetter is resetNow as a request function of a.
func resetter(a *access.Service) func(context.Context, access.Request) error {
	return func(ctx context.Context, in access.Request) error { return resetNow(ctx, a, in) }
}

// advance moves the clock on by d.
func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
