package device_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

func TestRemoveLastDeviceWithPassword(t *testing.T) {
	f := newFixture(t, sqltest.SQLite(t))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc.EnableRemoval(approval.New(f.st, f.svc, audit.New(f.st, f.clk.now, logger), f.clk.now, approval.Config{}, logger))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	if _, err := f.svc.RequestRemoval(t.Context(), f.person.ID, dev, "falsch", ""); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("wrong password = %v", err)
	}
	if _, err := f.svc.RequestRemoval(t.Context(), f.person.ID+1, dev, pw, ""); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("another person's device = %v", err)
	}
	r, err := f.svc.RequestRemoval(t.Context(), f.person.ID, dev, pw, "")
	if err != nil || !r.Done {
		t.Fatalf("removal = %+v, %v", r, err)
	}
	if list, err := f.svc.List(t.Context(), f.person.ID); err != nil || len(list) != 0 {
		t.Errorf("%d devices left (%v)", len(list), err)
	}
}

func TestRemoveDeviceThroughAnApproval(t *testing.T) {
	f := newFixture(t, sqltest.SQLite(t))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	approvals := approval.New(f.st, f.svc, audit.New(f.st, f.clk.now, logger), f.clk.now, approval.Config{}, logger)
	f.svc.EnableRemoval(approvals)
	old := f.bind(t)
	current := f.bind(t)
	r, err := f.svc.RequestRemoval(t.Context(), f.person.ID, store.DeviceID(old.ID), "", "")
	if err != nil || r.Done || r.Approval.Status != store.ApprovalPending {
		t.Fatalf("removal with two devices = %+v, %v", r, err)
	}
	a := r.Approval
	if got, _ := f.svc.RemovalStatus(t.Context(), a.ID, f.person.ID); got.Status != store.ApprovalPending {
		t.Errorf("status %s", got.Status)
	}
	c, err := f.svc.NewChallengeFor(t.Context(), device.PurposeApprove, store.DeviceID(current.ID), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := current.Sign(pin, appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt},
		appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	proof := proofOf(c.ID, p)
	if _, err := approvals.Approve(t.Context(), a.ID, store.DeviceID(current.ID), proof, "pin", 0, ""); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := f.svc.RemovalStatus(t.Context(), a.ID, f.person.ID)
		if err != nil || got.UsedAt.IsZero() {
			t.Fatalf("after approval: %+v, %v", got, err)
		}
	}
	list, _ := f.svc.List(t.Context(), f.person.ID)
	if len(list) != 1 || string(list[0].ID) != current.ID {
		t.Errorf("devices after removal: %v", list)
	}
}
