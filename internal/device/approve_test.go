package device_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

func TestProveDevice(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	hash := appclient.ContentHash(device.PurposeDecline, "", nil)
	sign := func(purpose string) device.Proof {
		forID := ""
		if purpose == device.PurposeDecline || purpose == device.PurposeApprove {
			forID = "A1"
		}
		c, err := f.svc.NewChallengeFor(t.Context(), purpose, dev, forID)
		if err != nil {
			t.Fatal(err)
		}
		ch := appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt}
		p, err := phone.SignDevice(ch, hash)
		if err != nil {
			t.Fatal(err)
		}
		proof := proofOf(ch.ID, p)
		proof.For = forID
		return proof
	}
	// A decline never counts a PIN attempt, nor resets the counter.
	if _, err := f.st.UpdateDevice(t.Context(), dev, func(d *store.Device) error { d.PINFailures = 2; return nil }); err != nil {
		t.Fatal(err)
	}
	p := sign(device.PurposeDecline)
	if d, err := f.svc.ProveDevice(t.Context(), dev, device.PurposeDecline, hash, p, ""); err != nil || d.ID != dev {
		t.Fatalf("ProveDevice = %v, %v", d.ID, err)
	}
	if _, err := f.svc.ProveDevice(t.Context(), dev, device.PurposeDecline, hash, p, ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("replayed decline = %v, want ErrProof", err)
	}
	other := appclient.ContentHash(device.PurposeLogin, "", nil)
	if _, err := f.svc.ProveDevice(t.Context(), dev, device.PurposeDecline, other, sign(device.PurposeDecline), ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("decline over another hash = %v, want ErrProof", err)
	}
	// The device key alone never passes for a purpose that needs the PIN.
	if _, err := f.svc.ProveDevice(t.Context(), dev, device.PurposeLogin, hash, sign(device.PurposeLogin), ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("device key alone for login = %v, want ErrProof", err)
	}
	if d, _ := f.st.DeviceByID(t.Context(), dev); d.PINFailures != 2 {
		t.Errorf("ProveDevice changed the PIN counter to %d", d.PINFailures)
	}
	// A challenge issued for one approval does not answer another.
	wrongFor := sign(device.PurposeDecline)
	wrongFor.For = "A2"
	if _, err := f.svc.ProveDevice(t.Context(), dev, device.PurposeDecline, hash, wrongFor, ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("challenge for another approval = %v, want ErrProof", err)
	}
	// Prove is the full proof with the PIN.
	c, err := f.svc.NewChallengeFor(t.Context(), device.PurposeApprove, dev, "A1")
	if err != nil {
		t.Fatal(err)
	}
	ch := appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt}
	content := appclient.ContentHash("address.change", "Text", []byte(`{}`))
	full, err := phone.Sign(pin, ch, content)
	if err != nil {
		t.Fatal(err)
	}
	fullProof := proofOf(ch.ID, full)
	fullProof.For = "A1"
	if _, err := f.svc.Prove(t.Context(), dev, device.PurposeApprove, content, fullProof, ""); err != nil {
		t.Errorf("Prove: %v", err)
	}
	if d, err := f.st.DeviceByID(t.Context(), dev); err != nil || d.PINFailures != 0 {
		t.Errorf("a correct PIN left %d failures (%v)", d.PINFailures, err)
	}
}
