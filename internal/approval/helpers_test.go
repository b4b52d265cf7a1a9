package approval_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
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
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// notices makes real notices, queued in the store with their changes.
var notices = notice.NewMaker(testRing, time.Now, nil)

// moveExecutor carries out address.change in these tests: the address from the
// approved data, and an outbox event named after the approval.
var moveExecutor = approval.ExecutorFunc(func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
	var addr struct {
		Street      string `json:"street"`
		HouseNumber string `json:"house_number"`
		PostalCode  string `json:"postal_code"`
		City        string `json:"city"`
	}
	if err := json.Unmarshal(a.Data, &addr); err != nil {
		return err
	}
	if _, err := tx.UpdatePerson(ctx, a.PersonID, func(p *store.Person) error {
		p.Street, p.HouseNumber, p.PostalCode, p.City = addr.Street, addr.HouseNumber, addr.PostalCode, addr.City
		return nil
	}); err != nil {
		return err
	}
	return tx.AppendOutbox(ctx, store.OutboxEvent{ID: "approval:" + a.ID, Type: "address.changed", Payload: a.Data})
})

func testExecutors() approval.Executors {
	return approval.Executors{approval.ActionAddressChange: moveExecutor}
}

const (
	kvnr     = "X110411675"
	pw       = "Kastanienbaum im Herbstwind"
	pin      = "482915"
	wrongPIN = "771903"
)

// fastKDF keeps the many PIN derivations of these tests quick.
var fastKDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}

// fixture is one person with an account, the device service and the approval
// service on one database; the reference app client plays the phone.
type fixture struct {
	st      store.Store
	clk     *clock
	logger  *slog.Logger
	aud     *audit.Log
	devices *device.Service
	svc     *approval.Service
	person  store.Person
}

// backends runs fn on SQLite and, when PFORTE_TEST_POSTGRES is set, PostgreSQL.
func backends(t *testing.T, cfg approval.Config, fn func(t *testing.T, f *fixture)) {
	testdb.Each(t, func(t *testing.T, st store.Store) { fn(t, newFixture(t, st, cfg)) })
}

func newFixture(t *testing.T, st store.Store, cfg approval.Config) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	p := store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14", Street: "Hauptstraße",
		HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: clk.now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonByKVNR(t.Context(), kvnr)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.NewManager(st, session.Config{}, clk.now)
	aud := audit.New(st, audit.GenerateKey(), clk.now, logger)
	accounts := account.New(st, h, sessions, aud, notices, clk.now, account.Config{}, logger)
	if _, err := accounts.SetInitialPassword(t.Context(), p.ID, "ABCDEFGHJKLMNPQR"); err != nil {
		t.Fatal(err)
	}
	res, err := accounts.Login(t.Context(), account.Login{KVNR: kvnr, Password: "ABCDEFGHJKLMNPQR"}, session.KindBrowser)
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.ChangePassword(t.Context(), res.Token, res.Session, "ABCDEFGHJKLMNPQR", pw, ""); err != nil {
		t.Fatal(err)
	}
	devices := device.New(st, accounts, notices, sessions, aud, nil, testRing, clk.now, device.Config{}, logger)
	svc := approval.New(st, testRing, devices, aud, clk.now, cfg, testExecutors(), nil, logger)
	return &fixture{st: st, clk: clk, logger: logger, aud: aud, devices: devices, person: p, svc: svc}
}

// testRing seals approvals at rest in every test, as production does.
var testRing = func() *seal.Keyring {
	k, err := seal.GenerateKey("t1")
	if err != nil {
		panic(err)
	}
	r, err := seal.NewKeyring(k)
	if err != nil {
		panic(err)
	}
	return r
}()

// otherNode returns a second approval service on the same database: it shares
// nothing in memory with f.svc, as a service on another node would.
func (f *fixture) otherNode() *approval.Service {
	svc := approval.New(f.st, testRing, f.devices, f.aud, f.clk.now, approval.Config{}, testExecutors(), nil, f.logger)
	return svc
}

func (f *fixture) challenge(t *testing.T, purpose string, dev store.DeviceID) appclient.Challenge {
	t.Helper()
	ch, err := f.devices.NewChallenge(t.Context(), purpose, dev)
	if err != nil {
		t.Fatal(err)
	}
	return appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: ch.Purpose, ExpiresAt: ch.ExpiresAt}
}

func (f *fixture) challengeFor(t *testing.T, purpose string, dev store.DeviceID, id string) appclient.Challenge {
	t.Helper()
	ch, err := f.devices.NewChallengeFor(t.Context(), purpose, dev, id)
	if err != nil {
		t.Fatal(err)
	}
	return appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: ch.Purpose, ExpiresAt: ch.ExpiresAt}
}

func newPhone(t *testing.T) *appclient.Device {
	t.Helper()
	d, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.KDF = fastKDF
	return d
}

// bind binds a new phone with an activation letter (level substantial).
func (f *fixture) bind(t *testing.T) *appclient.Device {
	t.Helper()
	code, err := proofing.NewActivationCode()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutOneTime(t.Context(), store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
		Subject: "person:" + strconv.FormatInt(int64(f.person.ID), 10), CreatedAt: f.clk.now(),
		ExpiresAt: f.clk.now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	phone := newPhone(t)
	ch := f.challenge(t, device.PurposeBind, "")
	b, err := phone.SignBind(pin, "Pixel von Jürgen", "Pixel 8", ch)
	if err != nil {
		t.Fatal(err)
	}
	bound, err := f.devices.BindWithLetter(t.Context(), device.BindRequest{KVNR: kvnr, Password: pw, ActivationCode: code,
		DeviceKey: b.DevicePublicKey, PINKey: b.PINPublicKey, KDF: string(b.KDF), Name: b.Name, Model: b.Model,
		Proof: proofOf(ch.ID, b.Proof)})
	if err != nil {
		t.Fatal(err)
	}
	phone.ID = string(bound.ID)
	return phone
}

// bindHigh binds a new phone after a fresh eID identification (level high).
func (f *fixture) bindHigh(t *testing.T) *appclient.Device {
	t.Helper()
	phone := newPhone(t)
	ch := f.challenge(t, device.PurposeBind, "")
	b, err := phone.SignBind(pin, "iPhone von Jürgen", "iPhone 16", ch)
	if err != nil {
		t.Fatal(err)
	}
	sess := store.Session{PersonID: f.person.ID, Level: string(session.LevelHigh), Origin: string(session.OriginEID),
		OriginAt: f.clk.now(), CreatedAt: f.clk.now()}
	bound, err := f.devices.BindWithSession(t.Context(), sess, b.DevicePublicKey, b.PINPublicKey, string(b.KDF), b.Name, b.Model,
		proofOf(ch.ID, b.Proof), "")
	if err != nil {
		t.Fatal(err)
	}
	phone.ID = string(bound.ID)
	return phone
}

// approveProof signs an approve challenge over what the phone was shown.
func (f *fixture) approveProof(t *testing.T, phone *appclient.Device, id, action, text string, data []byte, withPIN string) device.Proof {
	t.Helper()
	ch := f.challengeFor(t, device.PurposeApprove, store.DeviceID(phone.ID), id)
	p, err := phone.Sign(withPIN, ch, appclient.ContentHash(action, text, data))
	if err != nil {
		t.Fatal(err)
	}
	return proofOf(ch.ID, p)
}

// declineProof signs a decline challenge for a with the device key alone, over
// what the phone was shown.
func (f *fixture) declineProof(t *testing.T, phone *appclient.Device, a store.Approval) device.Proof {
	t.Helper()
	ch := f.challengeFor(t, device.PurposeDecline, store.DeviceID(phone.ID), a.ID)
	p, err := phone.SignDevice(ch, appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	return proofOf(ch.ID, p)
}

func proofOf(id string, p appclient.Proof) device.Proof {
	return device.Proof{ChallengeID: id, DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}
}

// auditEvents returns the names of the recorded audit events.
func (f *fixture) auditEvents(t *testing.T) []string {
	t.Helper()
	entries, err := f.st.AuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Event)
	}
	return out
}
