package device_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// eidSession starts a session at level high whose origin is an eID
// identification made ago before now (as account.ChoosePassword does).
func (f *fixture) eidSession(t *testing.T, ago time.Duration) store.Session {
	t.Helper()
	m := session.NewManager(f.st, session.Config{}, f.clk.now)
	_, s, err := m.Create(t.Context(), session.New{PersonID: f.person.ID, Kind: session.KindBrowser, Level: session.LevelHigh,
		AMR: []string{"hwk", "pin"}, Origin: session.OriginEID, OriginAt: f.clk.now().Add(-ago)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bindWith binds a new phone with a session (the eID way).
func (f *fixture) bindWith(t *testing.T, s store.Session) (*appclient.Device, error) {
	t.Helper()
	phone := newPhone(t)
	r := f.bindRequest(t, phone, "")
	b, err := f.svc.BindWithSession(t.Context(), s, r.DeviceKey, r.PINKey, r.KDF, r.Name, r.Model, r.Proof, "")
	phone.ID = string(b.ID)
	return phone, err
}

// unlockWith sets newPIN on the phone's binding with a session.
func (f *fixture) unlockWith(t *testing.T, phone *appclient.Device, s store.Session, newPIN string) error {
	t.Helper()
	ch := f.challenge(t, device.PurposeBind, "")
	b, err := phone.SignBind(newPIN, "Pixel von Jürgen", "Pixel 8", ch)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.UnlockWithSession(t.Context(), store.DeviceID(phone.ID), s, b.DevicePublicKey, b.PINPublicKey, string(b.KDF),
		b.Name, b.Model, proofOf(ch.ID, b.Proof), "")
}

// lastVia returns the "via" of the newest audit entry of event.
func (f *fixture) lastVia(t *testing.T, event string) string {
	t.Helper()
	entries, err := f.st.AuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	via := ""
	for _, e := range entries {
		if e.Event == event {
			var d struct{ Via string }
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			via = d.Via
		}
	}
	return via
}

// TestFreshEIDMeansAnEIDOrigin: binding a phone at level high and unlocking
// a PIN need a session that came from an eID identification at most 15
// minutes ago; a session at level high from a phone bound at high (an app
// login) does not do.
func TestFreshEIDMeansAnEIDOrigin(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	ctx := t.Context()

	// An eID identification 10 minutes ago binds a phone at high.
	highPhone, err := f.bindWith(t, f.eidSession(t, 10*time.Minute))
	if err != nil {
		t.Fatalf("bind with a fresh eID session: %v", err)
	}
	if via := f.lastVia(t, "device.bound"); via != "eid" {
		t.Errorf("device.bound via %q, want eid", via)
	}
	// The app login of that phone is at level high, but its origin is the
	// phone.
	_, appSession, err := f.svc.Login(ctx, store.DeviceID(highPhone.ID), f.loginProof(t, highPhone, pin), "pin", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if appSession.Level != "high" || appSession.Origin != "device" {
		t.Fatalf("app session level %q origin %q, want high from device", appSession.Level, appSession.Origin)
	}
	if _, err := f.bindWith(t, appSession); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("bind with an app session at level high = %v, want ErrBindRefused", err)
	}
	// An identification 16 minutes ago is too old, however new its session.
	if _, err := f.bindWith(t, f.eidSession(t, 16*time.Minute)); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("bind with an eID identification 16 minutes old = %v, want ErrBindRefused", err)
	}
	// So is a session that was fresh and aged.
	aging := f.eidSession(t, 0)
	f.clk.advance(15*time.Minute + time.Second)
	if _, err := f.bindWith(t, aging); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("bind with an eID session 15 minutes and 1 second old = %v, want ErrBindRefused", err)
	}

	// Lock the PIN of a letter-bound phone.
	phone := f.bind(t)
	for range 3 {
		f.svc.Login(ctx, store.DeviceID(phone.ID), f.loginProof(t, phone, wrongPIN), "pin", "", "")
	}
	// A new app login of the phone bound at high: a session of level high
	// just begun.
	_, appSession, err = f.svc.Login(ctx, store.DeviceID(highPhone.ID), f.loginProof(t, highPhone, pin), "pin", "", "")
	if err != nil {
		t.Fatal(err)
	}
	const newPIN = "604817"
	if err := f.unlockWith(t, phone, appSession, newPIN); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("unlock with an app session at level high = %v, want ErrBindRefused", err)
	}
	if err := f.unlockWith(t, phone, f.eidSession(t, 16*time.Minute), newPIN); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("unlock with an eID identification 16 minutes old = %v, want ErrBindRefused", err)
	}
	if err := f.unlockWith(t, phone, f.eidSession(t, 14*time.Minute), newPIN); err != nil {
		t.Fatalf("unlock with a fresh eID session: %v", err)
	}
	if via := f.lastVia(t, "device.pin_reset"); via != "eid" {
		t.Errorf("device.pin_reset via %q, want eid", via)
	}
	if _, _, err := f.svc.Login(ctx, store.DeviceID(phone.ID), f.loginProof(t, phone, newPIN), "pin", "", ""); err != nil {
		t.Errorf("login with the new PIN: %v", err)
	}
}
