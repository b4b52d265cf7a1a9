package device_test

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// signLogin answers the login challenge id with nonce, as the app does.
func signLogin(t *testing.T, phone *appclient.Device, id string, nonce []byte) device.Proof {
	t.Helper()
	p, err := phone.Sign(pin, appclient.Challenge{ID: id, Nonce: nonce, Purpose: device.PurposeLogin},
		appclient.ContentHash(device.PurposeLogin, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	return proofOf(id, p)
}

// TestChallengeAltered: a challenge with any byte changed (version, key
// tag, expiry, nonce, mac) is refused, even when the phone signed it as
// changed, and nothing is written: the challenge as issued still works.
func TestChallengeAltered(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	ch := f.challenge(t, device.PurposeLogin, dev)
	if err := appclient.CheckChallengeID(ch.ID); err != nil {
		t.Fatalf("the challenge id does not fit the app: %v", err)
	}
	enc := base64.RawURLEncoding
	raw, err := enc.DecodeString(ch.ID[3:])
	if err != nil || ch.ID[:3] != "ch_" {
		t.Fatalf("challenge id %q: %v", ch.ID, err)
	}
	for i := range raw {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		id := "ch_" + enc.EncodeToString(b)
		// The nonce is bytes 13 to 29 of the challenge.
		if _, _, err := f.svc.Login(t.Context(), dev, signLogin(t, phone, id, b[13:29]), "pin", "", ""); !errors.Is(err, device.ErrProof) {
			t.Errorf("byte %d changed: %v, want ErrProof", i, err)
		}
		if used, err := f.st.ChallengeUsed(t.Context(), proofing.CodeDigest(id)); err != nil || used {
			t.Errorf("byte %d changed: the altered challenge was recorded as used (%v)", i, err)
		}
	}
	last := "A"
	if ch.ID[len(ch.ID)-1] == 'A' {
		last = "B"
	}
	for _, id := range []string{"", "ch_", ch.ID + "A", ch.ID[:len(ch.ID)-1], "xx" + ch.ID[2:], ch.ID[:len(ch.ID)-1] + last} {
		p := signLogin(t, phone, ch.ID, ch.Nonce)
		p.ChallengeID = id
		if _, _, err := f.svc.Login(t.Context(), dev, p, "pin", "", ""); !errors.Is(err, device.ErrProof) {
			t.Errorf("challenge id %q: %v, want ErrProof", id, err)
		}
	}
	if d, err := f.st.DeviceByID(t.Context(), dev); err != nil || d.PINFailures != 0 {
		t.Errorf("altered challenges counted %d PIN attempts (%v)", d.PINFailures, err)
	}
	if _, _, err := f.svc.Login(t.Context(), dev, signLogin(t, phone, ch.ID, ch.Nonce), "pin", "", ""); err != nil {
		t.Errorf("the challenge as issued, after the altered ones: %v", err)
	}
}

// TestChallengeBound: a challenge issued for one purpose, binding or
// approval is refused for another; one issued for them is accepted.
func TestChallengeBound(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone, other := f.bind(t), f.bind(t)
	dev, otherDev := store.DeviceID(phone.ID), store.DeviceID(other.ID)
	login := appclient.ContentHash(device.PurposeLogin, "", nil)
	cases := []struct {
		name    string
		purpose string
		dev     store.DeviceID
		ok      bool
	}{
		{"issued for unbind", device.PurposeUnbind, dev, false},
		{"issued for pin change", device.PurposePINChange, dev, false},
		{"issued for another binding", device.PurposeLogin, otherDev, false},
		{"issued for the login", device.PurposeLogin, dev, true},
	}
	for _, c := range cases {
		ch := f.challenge(t, c.purpose, c.dev)
		sig, err := phone.Sign(pin, appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: device.PurposeLogin}, login)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.Login(t.Context(), dev, proofOf(ch.ID, sig), "pin", "", "")
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, device.ErrProof)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// An approval's challenge names the approval.
	hash := [32]byte{1}
	ch, err := f.svc.NewChallengeFor(t.Context(), device.PurposeApprove, dev, "A1")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := phone.Sign(pin, appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: device.PurposeApprove}, hash)
	if err != nil {
		t.Fatal(err)
	}
	p := proofOf(ch.ID, sig)
	p.For = "A2"
	if _, err := f.svc.Prove(t.Context(), dev, device.PurposeApprove, hash, p, ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("approval challenge for another approval: %v", err)
	}
	p.For = "A1"
	if _, err := f.svc.Prove(t.Context(), dev, device.PurposeApprove, hash, p, ""); err != nil {
		t.Errorf("approval challenge for its approval: %v", err)
	}
}

// TestChallengeExpiry: a challenge is good until the microsecond before its
// expiry and refused from then on.
func TestChallengeExpiry(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	start := f.clk.now()
	a, b := f.challenge(t, device.PurposeLogin, dev), f.challenge(t, device.PurposeLogin, dev)
	if want := start.Add(2 * time.Minute); !a.ExpiresAt.Equal(want) {
		t.Errorf("expires at %v, want %v", a.ExpiresAt, want)
	}
	f.clk.advance(2*time.Minute - time.Microsecond)
	if _, _, err := f.svc.Login(t.Context(), dev, signLogin(t, phone, a.ID, a.Nonce), "pin", "", ""); err != nil {
		t.Errorf("a microsecond before the expiry: %v", err)
	}
	f.clk.advance(time.Microsecond)
	if _, _, err := f.svc.Login(t.Context(), dev, signLogin(t, phone, b.ID, b.Nonce), "pin", "", ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("at the expiry: %v, want ErrProof", err)
	}
}

// TestChallengeKeyRotation: a challenge issued before a rotation of the data
// keys is accepted while its key is in the keyring, and refused once it left.
func TestChallengeKeyRotation(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	phone := f.bind(t)
	dev := store.DeviceID(phone.ID)
	old, _ := seal.GenerateKey("old")
	cur, _ := seal.GenerateKey("new")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := func(current seal.Key, older ...seal.Key) *device.Service {
		ring, err := seal.NewKeyring(current, older...)
		if err != nil {
			t.Fatal(err)
		}
		return device.New(f.st, nil, f.notices, session.NewManager(f.st, session.Config{}, f.clk.now),
			audit.New(f.st, audit.GenerateKey(), f.clk.now, logger), nil, ring, f.clk.now, device.Config{}, logger)
	}
	before, after, only := svc(old), svc(cur, old), svc(cur)
	issue := func() device.Proof {
		ch, err := before.NewChallenge(t.Context(), device.PurposeLogin, dev)
		if err != nil {
			t.Fatal(err)
		}
		return signLogin(t, phone, ch.ID, ch.Nonce)
	}
	if _, _, err := after.Login(t.Context(), dev, issue(), "pin", "", ""); err != nil {
		t.Errorf("old key still in the keyring: %v", err)
	}
	if _, _, err := only.Login(t.Context(), dev, issue(), "pin", "", ""); !errors.Is(err, device.ErrProof) {
		t.Errorf("old key gone: %v, want ErrProof", err)
	}
}

// TestChallengeUsedOnceUnderParallelLogins: parallel logins with one
// challenge start exactly one session, on every database.
func TestChallengeUsedOnceUnderParallelLogins(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		p := f.loginProof(t, phone, pin)
		const n = 20
		var ok atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				_, _, err := f.svc.Login(t.Context(), dev, p, "pin", "", "")
				switch {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, device.ErrProof):
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := ok.Load(); got != 1 {
			t.Errorf("%d parallel logins with one challenge: %d sessions, want 1", n, got)
		}
		if _, _, err := f.svc.Login(t.Context(), dev, p, "pin", "", ""); !errors.Is(err, device.ErrProof) {
			t.Errorf("the challenge once more: %v, want ErrProof", err)
		}
	})
}
