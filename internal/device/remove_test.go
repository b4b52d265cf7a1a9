package device_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// remover builds the approval service with the removal executor and the
// remover on the fixture.
func (f *fixture) remover(t *testing.T) (*device.Remover, *approval.Service) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	aud := audit.New(f.st, audit.GenerateKey(), f.clk.now, logger)
	approvals := approval.New(f.st, f.notices.ring, f.svc, aud, f.clk.now, approval.Config{},
		approval.Executors{device.ActionRemove: device.NewRemoveExecutor(f.notices)}, nil, logger)
	return device.NewRemover(f.st, approvals, f.notices, aud, f.clk.now, logger), approvals
}

// TestRemoveTheOnlyPhoneNeedsThePhone: the password alone removes nothing;
// the phone approves its own removal, which is carried out in the approving
// transaction with its notice.
func TestRemoveTheOnlyPhoneNeedsThePhone(t *testing.T) {
	f := newFixture(t, sqltest.SQLite(t))
	rm, approvals := f.remover(t)
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	sess := func(id store.PersonID, level session.Level) store.Session {
		return store.Session{PersonID: id, Level: string(level), Origin: string(session.OriginDevice), OriginAt: f.clk.now()}
	}
	if _, err := rm.Request(t.Context(), sess(f.person.ID+1, session.LevelSubstantial), dev, "portal", ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("another person's device = %v", err)
	}
	if _, err := rm.Request(t.Context(), sess(f.person.ID, session.LevelLow), dev, "portal", ""); !errors.Is(err, approval.ErrSessionLevel) {
		t.Errorf("removal from a password-only session = %v, want ErrSessionLevel", err)
	}
	// A high session from a phone is no eID identification: it asks the phone.
	r, err := rm.Request(t.Context(), sess(f.person.ID, session.LevelHigh), dev, "portal", "")
	if err != nil || r.Done || r.Approval.Status != store.ApprovalPending {
		t.Fatalf("removal of the only phone = %+v, %v; want a pending approval", r, err)
	}
	if list, err := f.svc.List(t.Context(), f.person.ID); err != nil || len(list) != 1 {
		t.Fatalf("before the approval %d devices (%v), want 1", len(list), err)
	}
	a := r.Approval
	c, err := f.svc.NewChallengeFor(t.Context(), device.PurposeApprove, dev, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := phone.Sign(pin, appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt},
		appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := approvals.Approve(t.Context(), a.ID, dev, proofOf(c.ID, p), "pin", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.UsedAt.IsZero() {
		t.Errorf("approved removal not carried out: %+v", got)
	}
	if list, err := f.svc.List(t.Context(), f.person.ID); err != nil || len(list) != 0 {
		t.Errorf("after the approval %d devices (%v), want 0", len(list), err)
	}
	if n := f.notices.count(notice.DeviceRemoved); n != 1 {
		t.Errorf("%d device-removed notices, want 1", n)
	}
}

// TestRemoveWithAFreshEID: a fresh eID identification removes a phone at once
// (a lost phone cannot approve), with its notice; an older one asks the phone.
func TestRemoveWithAFreshEID(t *testing.T) {
	f := newFixture(t, sqltest.SQLite(t))
	rm, _ := f.remover(t)
	phone := f.bind(t)
	stale := store.Session{PersonID: f.person.ID, Level: string(session.LevelHigh), Origin: string(session.OriginEID),
		OriginAt: f.clk.now().Add(-session.EIDFreshness - time.Second)}
	if r, err := rm.Request(t.Context(), stale, store.DeviceID(phone.ID), "portal", ""); err != nil || r.Done {
		t.Fatalf("removal after an old eID identification = %+v, %v; want a pending approval", r, err)
	}
	eid := store.Session{PersonID: f.person.ID, Level: string(session.LevelHigh), Origin: string(session.OriginEID), OriginAt: f.clk.now()}
	r, err := rm.Request(t.Context(), eid, store.DeviceID(phone.ID), "portal", "")
	if err != nil || !r.Done {
		t.Fatalf("removal after eID = %+v, %v", r, err)
	}
	if list, err := f.svc.List(t.Context(), f.person.ID); err != nil || len(list) != 0 {
		t.Errorf("%d devices left (%v)", len(list), err)
	}
	if n := f.notices.count(notice.DeviceRemoved); n != 1 {
		t.Errorf("%d device-removed notices, want 1", n)
	}
	if _, err := rm.Request(t.Context(), eid, store.DeviceID(phone.ID), "portal", ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("removing it again = %v, want ErrNotFound", err)
	}
}
