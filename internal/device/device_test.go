package device_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
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

// notices makes real notices (queued in the store with their changes) and
// counts them by kind from the store.
type notices struct {
	*notice.Maker
	st   store.Store
	ring *seal.Keyring // seals the notices, and approvals in tests that make them
	id   store.PersonID
}

func newNotices(t testing.TB, st store.Store, now func() time.Time) *notices {
	t.Helper()
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return &notices{Maker: notice.NewMaker(ring, now, nil), st: st, ring: ring}
}

func (n *notices) count(k notice.Kind) int {
	list, err := n.st.PersonNotices(context.Background(), n.id, 1000)
	if err != nil {
		panic(err)
	}
	c := 0
	for _, x := range list {
		if x.Kind == string(k) {
			c += x.Count
		}
	}
	return c
}

const (
	kvnr     = "X110411675"
	pw       = "Kastanienbaum im Herbstwind"
	pin      = "482915"
	wrongPIN = "771903"
)

// fixtureMaxDevices is the device limit of new fixtures (0: the default).
var fixtureMaxDevices int

// fast KDF parameters keep the many PIN derivations of these tests quick.
var fastKDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}

type fixture struct {
	st      store.Store
	svc     *device.Service
	clk     *clock
	notices *notices
	person  store.Person
	code    string
}

func newFixture(t testing.TB, st store.Store) *fixture {
	t.Helper()
	return newFixtureConfig(t, st, device.Config{MaxDevices: fixtureMaxDevices})
}

// newFixtureConfig is newFixture with the device rules cfg.
func newFixtureConfig(t testing.TB, st store.Store, cfg device.Config) *fixture {
	t.Helper()
	return newFixtureCards(t, st, cfg, nil)
}

// newFixtureCards is newFixtureConfig with the health card checks cards.
func newFixtureCards(t testing.TB, st store.Store, cfg device.Config, cards device.Cards) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	p := store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14", Street: "Hauptstraße",
		HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: clk.now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, _ = st.PersonByKVNR(t.Context(), kvnr)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.NewManager(st, session.Config{}, clk.now)
	aud := audit.New(st, audit.GenerateKey(), clk.now, logger)
	ntc := newNotices(t, st, clk.now)
	ntc.id = p.ID
	accounts := account.New(st, h, sessions, aud, ntc, clk.now, account.Config{}, logger)
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
	f := &fixture{st: st, clk: clk, notices: ntc, person: p}
	f.svc = device.New(st, accounts, f.notices, sessions, aud, cards, ntc.ring, clk.now, cfg, logger)
	f.code = f.newCode(t)
	return f
}

// newCode stores a fresh activation code for the person, as a letter does.
func (f *fixture) newCode(t testing.TB) string {
	t.Helper()
	code, err := proofing.NewActivationCode()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutOneTime(t.Context(), store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
		Subject: "person:" + itoa(f.person.ID), CreatedAt: f.clk.now(), ExpiresAt: f.clk.now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return code
}

func itoa(id store.PersonID) string {
	b := []byte{}
	for v := int64(id); v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

func (f *fixture) challenge(t testing.TB, purpose string, dev store.DeviceID) appclient.Challenge {
	t.Helper()
	ch, err := f.svc.NewChallenge(t.Context(), purpose, dev)
	if err != nil {
		t.Fatal(err)
	}
	return appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: ch.Purpose, ExpiresAt: ch.ExpiresAt}
}

func newPhone(t testing.TB) *appclient.Device {
	t.Helper()
	d, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.KDF = fastKDF
	return d
}

// bindRequest signs a bind challenge with phone.
func (f *fixture) bindRequest(t testing.TB, phone *appclient.Device, code string) device.BindRequest {
	t.Helper()
	ch := f.challenge(t, device.PurposeBind, "")
	b, err := phone.SignBind(pin, "Pixel von Jürgen", "Pixel 8", ch)
	if err != nil {
		t.Fatal(err)
	}
	return device.BindRequest{KVNR: kvnr, Password: pw, ActivationCode: code, DeviceKey: b.DevicePublicKey, PINKey: b.PINPublicKey,
		KDF: string(b.KDF), Name: b.Name, Model: b.Model, Proof: proofOf(ch.ID, b.Proof)}
}

// bind binds a new phone and returns it with its device id set.
func (f *fixture) bind(t testing.TB) *appclient.Device {
	t.Helper()
	phone := newPhone(t)
	b, err := f.svc.BindWithLetter(t.Context(), f.bindRequest(t, phone, f.newCode(t)))
	if err != nil {
		t.Fatal(err)
	}
	phone.ID = string(b.ID)
	return phone
}

// loginProof signs a login challenge with the given PIN.
func (f *fixture) loginProof(t testing.TB, phone *appclient.Device, withPIN string) device.Proof {
	t.Helper()
	ch := f.challenge(t, device.PurposeLogin, store.DeviceID(phone.ID))
	p, err := phone.Sign(withPIN, ch, appclient.ContentHash(device.PurposeLogin, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	return proofOf(ch.ID, p)
}

func proofOf(id string, p appclient.Proof) device.Proof {
	return device.Proof{ChallengeID: id, DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}
}

func TestBindWithLetter(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := newPhone(t)
	req := f.bindRequest(t, phone, "https://portal.example/app/activate#"+f.code)
	b, err := f.svc.BindWithLetter(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.notices.count(notice.DeviceBound); b.Level != "substantial" || n != 1 {
		t.Errorf("binding %+v, %d device-bound notices", b, n)
	}
	// The code is used up; the challenge too.
	again := f.bindRequest(t, newPhone(t), f.code)
	if _, err := f.svc.BindWithLetter(t.Context(), again); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("second use of the activation code = %v", err)
	}
	if _, err := f.svc.BindWithLetter(t.Context(), req); !errors.Is(err, device.ErrProof) {
		t.Errorf("replayed bind challenge = %v", err)
	}
	wrongPW := f.bindRequest(t, newPhone(t), f.newCode(t))
	wrongPW.Password = "falsch"
	if _, err := f.svc.BindWithLetter(t.Context(), wrongPW); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("wrong password = %v", err)
	}
	forged := f.bindRequest(t, newPhone(t), f.newCode(t))
	// Another valid key (a flipped bit may give no point at all, which is
	// refused before the proof is looked at): the signatures covered the real key.
	forged.PINKey, _, err = ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.BindWithLetter(t.Context(), forged); !errors.Is(err, device.ErrProof) {
		t.Errorf("key swapped after signing = %v", err)
	}
	var inv *field.Error
	bad := f.bindRequest(t, newPhone(t), f.newCode(t))
	bad.KDF = `{"alg":"argon2id","t":3,"m":65536,"p":1,"x":1}`
	if _, err := f.svc.BindWithLetter(t.Context(), bad); !errors.As(err, &inv) {
		t.Errorf("odd KDF = %v", err)
	}
	f.bind(t)
	f.bind(t)
	if _, err := f.svc.BindWithLetter(t.Context(), f.bindRequest(t, newPhone(t), f.newCode(t))); !errors.Is(err, device.ErrTooManyDevices) {
		t.Errorf("fourth device = %v", err)
	}
}

func TestChallengesAreSingleUsePurposeBoundAndExpire(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	p := f.loginProof(t, phone, pin)
	if _, _, err := f.svc.Login(t.Context(), dev, p, "pin", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, p, "pin", "", ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("replayed challenge = %v", err)
	}
	// A challenge for another purpose.
	ch := f.challenge(t, device.PurposeUnbind, dev)
	sig, _ := phone.Sign(pin, ch, appclient.ContentHash(device.PurposeLogin, "", nil))
	if _, _, err := f.svc.Login(t.Context(), dev, proofOf(ch.ID, sig), "pin", "", ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("challenge for another purpose = %v", err)
	}
	// An expired challenge.
	late := f.loginProof(t, phone, pin)
	f.clk.advance(2*time.Minute + time.Second)
	if _, _, err := f.svc.Login(t.Context(), dev, late, "pin", "", ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("expired challenge = %v", err)
	}
	if d, err := f.st.DeviceByID(t.Context(), dev); err != nil || d.PINFailures != 0 {
		t.Errorf("refused challenges counted %d PIN attempts (%v)", d.PINFailures, err)
	}
}

func TestAppLoginAndPINLimit(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	_, sess, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "fpt", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Level != "substantial" || len(sess.AMR) != 2 || sess.AMR[0] != "hwk" || sess.AMR[1] != "pin" {
		t.Errorf("app session %+v", sess)
	}
	// A forged or missing device signature never counts.
	forged := f.loginProof(t, phone, wrongPIN)
	forged.DeviceSignature = append([]byte(nil), forged.DeviceSignature...)
	forged.DeviceSignature[10] ^= 0xff
	missing := f.loginProof(t, phone, wrongPIN)
	missing.DeviceSignature = nil
	for _, p := range []device.Proof{forged, missing} {
		if _, _, err := f.svc.Login(t.Context(), dev, p, "pin", "", ""); !errors.Is(err, device.ErrProof) {
			t.Errorf("bad device signature = %v", err)
		}
	}
	if d, err := f.st.DeviceByID(t.Context(), dev); err != nil || d.PINFailures != 0 {
		t.Fatalf("device-signature failures counted: %d (%v)", d.PINFailures, err)
	}
	for _, remaining := range []int{2, 1} {
		var wrong *device.WrongPINError
		if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, wrongPIN), "pin", "", ""); !errors.As(err, &wrong) || wrong.Remaining != remaining {
			t.Errorf("wrong PIN = %v, want %d remaining", err, remaining)
		}
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, wrongPIN), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
		t.Errorf("third wrong PIN = %v, want locked", err)
	}
	for range 3 {
		if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
			t.Errorf("right PIN after the lock = %v, want locked", err)
		}
	}
	if n := f.notices.count(notice.PINLocked); n != 1 {
		t.Errorf("%d PIN-locked notices, want 1", n)
	}
	// The person's history has the counted attempts with the phone's name,
	// the last as the lock; tries against the lock add nothing (they are
	// not bounded).
	events, err := f.st.PersonLoginEvents(t.Context(), f.person.ID, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range events {
		if e.Method == string(session.OriginDevice) {
			outcomes = append(outcomes, e.Outcome)
			if e.DeviceName == "" {
				t.Errorf("history entry without the device name: %+v", e)
			}
		}
	}
	if want := []string{session.OutcomeLocked, session.OutcomeFailed, session.OutcomeFailed, session.OutcomeOK}; !slices.Equal(outcomes, want) {
		t.Errorf("app sign-in history = %v, want %v (newest first)", outcomes, want)
	}
}

func TestPINChangeAndUnbind(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	ch := f.challenge(t, device.PurposePINChange, dev)
	change, err := phone.SignPINChange(pin, "905172", fastKDF, ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ChangePIN(t.Context(), dev, change.PINPublicKey, string(change.KDF), proofOf(ch.ID, change.Proof), ""); err != nil {
		t.Fatal(err)
	}
	var wrong *device.WrongPINError
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.As(err, &wrong) {
		t.Errorf("old PIN after the change = %v", err)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, "905172"), "pin", "", ""); err != nil {
		t.Errorf("new PIN: %v", err)
	}
	uch := f.challenge(t, device.PurposeUnbind, dev)
	up, _ := phone.Sign("905172", uch, appclient.ContentHash(device.PurposeUnbind, "", nil))
	if err := f.svc.Unbind(t.Context(), dev, proofOf(uch.ID, up), ""); err != nil {
		t.Fatal(err)
	}
	if list, err := f.svc.List(t.Context(), f.person.ID); err != nil || len(list) != 0 {
		t.Errorf("%d devices after unbind (%v)", len(list), err)
	}
	if _, err := f.svc.NewChallenge(t.Context(), device.PurposeLogin, dev); err != nil {
		// A challenge may be issued, but no proof will be accepted.
		t.Log(err)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, "905172"), "pin", "", ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("login of an unbound device = %v", err)
	}
}

// testParallelWrongPINs sends n parallel wrong-PIN logins from one bound device:
// exactly the limit are counted and answered as such, then the PIN is locked,
// and the right PIN is refused afterwards.
func testParallelWrongPINs(t *testing.T, svcs []*device.Service, f *fixture, phone *appclient.Device, n int) {
	dev := store.DeviceID(phone.ID)
	proofs := make([]device.Proof, n)
	for i := range proofs {
		proofs[i] = f.loginProof(t, phone, wrongPIN)
	}
	var wrong, locked atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, err := svcs[i%len(svcs)].Login(t.Context(), dev, proofs[i], "pin", "", "")
			var w *device.WrongPINError
			switch {
			case errors.As(err, &w):
				wrong.Add(1)
			case errors.Is(err, device.ErrPINLocked):
				locked.Add(1)
			default:
				t.Errorf("login %d = %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	d, err := f.st.DeviceByID(t.Context(), dev)
	if err != nil {
		t.Fatal(err)
	}
	limit := 3 // the default device.Config.PINLimit
	// Exactly limit PIN proofs were counted: limit-1 answered "wrong", the
	// limit-th locked, every other request found the PIN locked.
	if d.PINFailures != limit || d.PINLockedAt.IsZero() || wrong.Load() != int64(limit-1) || locked.Load() != int64(n-limit+1) {
		t.Errorf("%d parallel wrong PINs: failures %d, locked %v, answers: %d wrong, %d locked",
			n, d.PINFailures, !d.PINLockedAt.IsZero(), wrong.Load(), locked.Load())
	}
	// The person's history has the counted attempts only.
	events, err := f.st.PersonLoginEvents(t.Context(), f.person.ID, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	app := 0
	for _, e := range events {
		if e.Method == string(session.OriginDevice) {
			app++
		}
	}
	if app != limit {
		t.Errorf("%d app sign-in history lines, want the %d counted attempts", app, limit)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
		t.Errorf("right PIN after the lock = %v", err)
	}
	if n := f.notices.count(notice.PINLocked); n != 1 {
		t.Errorf("%d PIN-locked notices, want exactly 1", n)
	}
}

func TestParallelWrongPINsSQLite(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	testParallelWrongPINs(t, []*device.Service{f.svc}, f, phone, 200)
}

// TestParallelWrongPINsPostgresThreeNodes spreads the attempts over three
// services with their own connection pools on one PostgreSQL database.
func TestParallelWrongPINsPostgresThreeNodes(t *testing.T) {
	url := sqltest.PostgresURL(t)
	f := newFixture(t, sqltest.Open(t, url))
	phone := f.bind(t)
	svcs := []*device.Service{f.svc}
	for range 2 {
		st := sqltest.Open(t, url)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		svcs = append(svcs, device.New(st, nil, f.notices, session.NewManager(st, session.Config{}, f.clk.now),
			audit.New(st, audit.GenerateKey(), f.clk.now, logger), nil, f.notices.ring, f.clk.now, device.Config{}, logger))
	}
	testParallelWrongPINs(t, svcs, f, phone, 200)
}

func TestUnlockWithANewLetterAndANewPIN(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	for range 3 {
		f.svc.Login(t.Context(), dev, f.loginProof(t, phone, wrongPIN), "pin", "", "")
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
		t.Fatalf("not locked: %v", err)
	}
	const newPIN = "604817"
	unlock := func(code, withPIN string) device.BindRequest {
		ch := f.challenge(t, device.PurposeBind, "")
		b, err := phone.SignBind(withPIN, "Pixel von Jürgen", "Pixel 8", ch)
		if err != nil {
			t.Fatal(err)
		}
		return device.BindRequest{KVNR: kvnr, Password: pw, ActivationCode: code, DeviceKey: b.DevicePublicKey, PINKey: b.PINPublicKey,
			KDF: string(b.KDF), Name: b.Name, Model: b.Model, Proof: proofOf(ch.ID, b.Proof)}
	}
	// Another phone's key cannot unlock this binding.
	other := newPhone(t)
	ch := f.challenge(t, device.PurposeBind, "")
	ob, _ := other.SignBind(newPIN, "x", "y", ch)
	if err := f.svc.UnlockWithLetter(t.Context(), dev, device.BindRequest{KVNR: kvnr, Password: pw, ActivationCode: f.newCode(t),
		DeviceKey: ob.DevicePublicKey, PINKey: ob.PINPublicKey, KDF: string(ob.KDF), Name: ob.Name, Model: ob.Model,
		Proof: proofOf(ch.ID, ob.Proof)}); !errors.Is(err, device.ErrProof) {
		t.Errorf("unlock with another device key = %v", err)
	}
	if err := f.svc.UnlockWithLetter(t.Context(), dev, unlock("not-a-code", newPIN)); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("unlock without a valid code = %v", err)
	}
	if err := f.svc.UnlockWithLetter(t.Context(), dev, unlock(f.newCode(t), newPIN)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, newPIN), "pin", "", ""); err != nil {
		t.Errorf("login with the new PIN: %v", err)
	}
	var wrong *device.WrongPINError
	if _, _, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), "pin", "", ""); !errors.As(err, &wrong) {
		t.Errorf("old PIN after the unlock = %v", err)
	}
}

// TestReportedMethodIsNoAMR: what the app reports (the PIN typed, a finger, a
// face) is recorded as reported_method in the audit trail; the session's amr
// is what the server verified, the device key and the PIN key: hwk and pin.
func TestReportedMethodIsNoAMR(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	for _, tc := range []struct{ reported, recorded string }{
		{"face", "face"}, {"fpt", "fpt"}, {"pin", "pin"}, {"iris", "pin"}, {"", "pin"},
	} {
		_, sess, err := f.svc.Login(t.Context(), dev, f.loginProof(t, phone, pin), tc.reported, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"hwk", "pin"}, sess.AMR); diff != "" {
			t.Errorf("app reported %q: session amr (-want +got):\n%s", tc.reported, diff)
		}
		entries, err := f.st.AuditEntries(t.Context(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		last := entries[len(entries)-1]
		var details map[string]any
		if err := json.Unmarshal(last.Details, &details); err != nil {
			t.Fatal(err)
		}
		if last.Event != "device.login" || details["reported_method"] != tc.recorded {
			t.Errorf("app reported %q: audit %s %v, want device.login with reported_method %q", tc.reported, last.Event, details, tc.recorded)
		}
	}
}
