package profile_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
	"github.com/pforte/pforte/internal/store/testdb"
)

const (
	kvnr = "X110411675"
	pw   = "Kastanienbaum im Herbstwind"
	pin  = "482915"
)

// queuedNotices returns the kinds of the person's queued notices and, for
// each, the first line of the city the notice goes to ("" for the current
// address), oldest first.
func (f *fixture) queuedNotices(t *testing.T) []string {
	t.Helper()
	list, err := f.st.PersonNotices(t.Context(), f.person.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		n := list[i]
		plain, err := f.ring.OpenFor(n.Details, []byte("notices.details:"+n.ID))
		if err != nil {
			t.Fatal(err)
		}
		var d notice.Details
		if err := json.Unmarshal(plain, &d); err != nil {
			t.Fatal(err)
		}
		to := ""
		if len(d.To) > 0 {
			to = " to " + d.To[len(d.To)-1]
		}
		out = append(out, n.Kind+to)
	}
	return out
}

type fixture struct {
	st        store.Store
	svc       *profile.Service
	approvals *approval.Service
	devices   *device.Service
	ring      *seal.Keyring
	person    store.Person
	phone     *appclient.Device
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, testdb.Open(t))
}

func newFixtureOn(t *testing.T, st store.Store) *fixture {
	t.Helper()
	k, _ := seal.GenerateKey("t1")
	ring, _ := seal.NewKeyring(k)
	oldIBAN, _ := ring.SealFor([]byte("DE89370400440532013000"), seal.Place("persons", "iban", kvnr))
	p := store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14", Street: "Hauptstraße",
		HouseNumber: "1", PostalCode: "10115", City: "Berlin", AddressVerifiedAt: time.Now(), AddressVerifiedBy: "melderegister",
		IBAN: oldIBAN, Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, _ = st.PersonByKVNR(t.Context(), kvnr)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, _ := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 2)
	sessions := session.NewManager(st, session.Config{}, time.Now)
	aud := audit.New(st, audit.GenerateKey(), time.Now, logger)
	n := notice.NewMaker(ring, time.Now, nil)
	accounts := account.New(st, h, sessions, aud, n, time.Now, account.Config{}, logger)
	if _, err := accounts.SetInitialPassword(t.Context(), p.ID, "ABCDEFGHJKLMNPQR"); err != nil {
		t.Fatal(err)
	}
	devices := device.New(st, accounts, n, sessions, aud, nil, ring, time.Now, device.Config{}, logger)
	executors := profile.Executors(ring, n)
	executors[device.ActionRemove] = device.NewRemoveExecutor(n)
	approvals := approval.New(st, ring, devices, aud, time.Now, approval.Config{}, executors, nil, logger)
	f := &fixture{st: st, approvals: approvals, devices: devices, ring: ring, person: p,
		svc: profile.New(st, approvals, devices, ring)}
	// Bind a phone with the letter's activation code and initial password.
	code, _ := proofing.NewActivationCode()
	st.PutOneTime(t.Context(), store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
		Subject: "person:" + strconv.FormatInt(int64(p.ID), 10), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	phone, _ := appclient.NewDevice(nil)
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	c, _ := devices.NewChallenge(t.Context(), device.PurposeBind, "")
	b, err := phone.SignBind(pin, "Testtelefon", "", appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	bound, err := devices.BindWithLetter(t.Context(), device.BindRequest{KVNR: kvnr, Password: "ABCDEFGHJKLMNPQR", ActivationCode: code,
		DeviceKey: b.DevicePublicKey, PINKey: b.PINPublicKey, KDF: string(b.KDF), Name: b.Name, Model: b.Model,
		Proof: device.Proof{ChallengeID: c.ID, DeviceSignature: b.Proof.DeviceSignature, PINSignature: b.Proof.PINSignature}})
	if err != nil {
		t.Fatal(err)
	}
	phone.ID = string(bound.ID)
	f.phone = phone
	return f
}

func (f *fixture) approve(t *testing.T, a store.Approval) {
	t.Helper()
	c, err := f.devices.NewChallengeFor(t.Context(), device.PurposeApprove, store.DeviceID(f.phone.ID), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.phone.Sign(pin, appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt},
		appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.approvals.Approve(t.Context(), a.ID, store.DeviceID(f.phone.ID),
		device.Proof{ChallengeID: c.ID, DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}, "pin", 0, ""); err != nil {
		t.Fatal(err)
	}
}

func TestAddressChange(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, err := f.svc.RequestAddressChange(ctx, f.person.ID, profile.Address{Street: " Lindenallee ", HouseNumber: "3", PostalCode: "04109", City: "Leipzig"}, "test", session.LevelSubstantial)
	if err != nil {
		t.Fatal(err)
	}
	if a.Text != "Neue Anschrift: Lindenallee 3, 04109 Leipzig" || a.Status != store.ApprovalPending {
		t.Errorf("request %q %s", a.Text, a.Status)
	}
	if got, _ := f.svc.Status(ctx, a.ID, f.person.ID); got.Status != store.ApprovalPending {
		t.Errorf("status before approval %s", got.Status)
	}
	if p, _ := f.st.PersonByID(ctx, f.person.ID); p.City != "Berlin" {
		t.Fatal("changed before the approval")
	}
	f.approve(t, a)
	// Carried out by the approval: visible before anyone reads the status.
	p, err := f.st.PersonByID(ctx, f.person.ID)
	if err != nil || p.Street != "Lindenallee" || p.City != "Leipzig" || p.Version != f.person.Version+1 || !p.AddressVerifiedAt.IsZero() {
		t.Errorf("person after the change: %+v (%v)", p, err)
	}
	for range 3 { // reading changes nothing
		got, err := f.svc.Status(ctx, a.ID, f.person.ID)
		if err != nil || got.Status != store.ApprovalApproved || got.UsedAt.IsZero() {
			t.Fatalf("status after approval: %+v, %v", got, err)
		}
	}
	if q, err := f.st.PersonByID(ctx, f.person.ID); err != nil || q.Version != p.Version {
		t.Errorf("reading the status changed the person: v%d → v%d (%v)", p.Version, q.Version, err)
	}
	want := []string{"device_bound", "address_changed to 10115 Berlin"}
	if got := f.queuedNotices(t); !slices.Equal(got, want) {
		t.Errorf("notices %q, want %q (the address notice to the old address)", got, want)
	}
	events, err := f.svc.Outbox(ctx, 0, 10)
	if err != nil || len(events) != 1 || events[0].ID != "approval:"+a.ID || events[0].Type != "address.changed" {
		t.Fatalf("outbox %+v, %v", events, err)
	}
	var payload struct {
		Change map[string]string `json:"change"`
	}
	json.Unmarshal(events[0].Payload, &payload)
	if payload.Change["city"] != "Leipzig" || payload.Change["kvnr"] != kvnr {
		t.Errorf("payload %s", events[0].Payload)
	}
	var raw []byte
	testdb.SQL(t, f.st).DB().QueryRowContext(ctx, "SELECT payload FROM outbox").Scan(&raw)
	if json.Valid(raw) && (contains(raw, "Leipzig") || contains(raw, kvnr)) {
		t.Errorf("outbox payload stored in clear: %s", raw)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
func TestBankChangeAndView(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	v, err := f.svc.View(ctx, f.person.ID)
	if err != nil || v.IBANMasked != "DE89 **** **** **** **30 00" || v.Address.City != "Berlin" {
		t.Fatalf("view %+v, %v", v, err)
	}
	var inv *field.Error
	if _, err := f.svc.RequestBankChange(ctx, f.person.ID, "DE00 3704 0044 0532 0130 00", "test", session.LevelSubstantial); !errors.As(err, &inv) {
		t.Errorf("bad IBAN = %v", err)
	}
	a, err := f.svc.RequestBankChange(ctx, f.person.ID, "de44 5001 0517 5407 3249 31", "test", session.LevelSubstantial)
	if err != nil {
		t.Fatal(err)
	}
	if a.Text != "Neue Bankverbindung (IBAN): DE44 5001 0517 5407 3249 31" {
		t.Errorf("text %q", a.Text)
	}
	f.approve(t, a)
	p, err := f.st.PersonByID(ctx, f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := f.ring.OpenFor(p.IBAN, seal.Place("persons", "iban", kvnr))
	if err != nil || string(plain) != "DE44500105175407324931" {
		t.Errorf("stored IBAN %q, %v", plain, err)
	}
	if v, err := f.svc.View(ctx, f.person.ID); err != nil || v.IBANMasked != "DE44 **** **** **** **49 31" {
		t.Errorf("masked %q (%v)", v.IBANMasked, err)
	}
	// The bank change owes a notice too (it sent none before).
	want := []string{"device_bound", "bank_changed"}
	if got := f.queuedNotices(t); !slices.Equal(got, want) {
		t.Errorf("notices %q, want %q", got, want)
	}
}

func TestDeclinedChangeChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, err := f.svc.RequestAddressChange(ctx, f.person.ID, profile.Address{Street: "Lindenallee", HouseNumber: "3", PostalCode: "04109", City: "Leipzig"}, "test", session.LevelSubstantial)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.devices.NewChallengeFor(ctx, device.PurposeDecline, store.DeviceID(f.phone.ID), a.ID)
	p, err := f.phone.SignDevice(appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt},
		appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.approvals.Decline(ctx, a.ID, store.DeviceID(f.phone.ID), device.Proof{ChallengeID: c.ID, DeviceSignature: p.DeviceSignature}, true, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := f.svc.Status(ctx, a.ID, f.person.ID)
	if got.Status != store.ApprovalDeclined || !got.NotMe {
		t.Errorf("status %s not-me %v", got.Status, got.NotMe)
	}
	if q, _ := f.st.PersonByID(ctx, f.person.ID); q.City != "Berlin" {
		t.Error("a declined change was applied")
	}
	if events, err := f.svc.Outbox(ctx, 0, 10); err != nil || len(events) != 0 {
		t.Errorf("outbox after a decline: %d events (%v)", len(events), err)
	}
	var inv *field.Error
	if _, err := f.svc.RequestAddressChange(ctx, f.person.ID, profile.Address{Street: "", PostalCode: "1", City: "x"}, "test", session.LevelSubstantial); !errors.As(err, &inv) {
		t.Errorf("bad address = %v", err)
	}
}

// TestApprovalOnOneConnection: the executor reads only through the approving
// transaction. On PostgreSQL with a single connection, a read through the
// store would wait for the connection its own transaction holds (with the
// default pool, 16 parallel approvals starved it the same way).
func TestApprovalOnOneConnection(t *testing.T) {
	st := sqltest.OpenWith(t, sqltest.PostgresURL(t), sqlstore.Options{MaxOpenConns: 1})
	f := newFixtureOn(t, st)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	a, err := f.svc.RequestAddressChange(ctx, f.person.ID, profile.Address{Street: "Lindenallee", HouseNumber: "3", PostalCode: "04109", City: "Leipzig"},
		"test", session.LevelSubstantial)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.devices.NewChallengeFor(ctx, device.PurposeApprove, store.DeviceID(f.phone.ID), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.phone.Sign(pin, appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt},
		appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	// With the bug the approval waits until the context ends.
	if _, err := f.approvals.Approve(ctx, a.ID, store.DeviceID(f.phone.ID),
		device.Proof{ChallengeID: c.ID, DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}, "pin", 0, ""); err != nil {
		t.Fatalf("approval on one connection: %v", err)
	}
	if p, err := f.st.PersonByID(t.Context(), f.person.ID); err != nil || p.City != "Leipzig" {
		t.Errorf("after the approval: %q (%v)", p.City, err)
	}
}
