package device_test

import (
	"bytes"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/egk/testca"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// cardWorld is a test CA trusted by a fixture's device service, with a CRL
// file that revokes the cards the test asks it to.
type cardWorld struct {
	ca    *testca.CA
	other *testca.CA // trusted by nobody
	crl   string
	f     *fixture
}

func newCardWorld(t *testing.T, st store.Store, revoked ...*big.Int) *cardWorld {
	t.Helper()
	start := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	ca, err := testca.New("Test eGK-CA", start.AddDate(-5, 0, 0), start.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	other, err := testca.New("Fremde eGK-CA", start.AddDate(-5, 0, 0), start.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	w := &cardWorld{ca: ca, other: other, crl: filepath.Join(t.TempDir(), "egk.crl")}
	w.writeCRL(t, start, revoked...)
	// The verifier reads the fixture's clock, which tests may move.
	now := func() time.Time {
		if w.f == nil {
			return start
		}
		return w.f.clk.now()
	}
	v, err := egk.New(egk.Config{Anchors: [][]byte{ca.Cert}, CRLFile: w.crl}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.f = newFixtureCards(t, st, device.Config{MaxDevices: fixtureMaxDevices}, v)
	if !w.f.clk.now().Equal(start) {
		t.Fatalf("the fixture's clock starts at %v, not %v", w.f.clk.now(), start)
	}
	return w
}

func (w *cardWorld) writeCRL(t *testing.T, at time.Time, revoked ...*big.Int) {
	t.Helper()
	b, err := w.ca.CRLPEM(revoked, at.Add(-time.Hour), at.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.crl, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// card issues a card of ca after spec (KVNR defaulting to the fixture's).
func (w *cardWorld) card(t *testing.T, ca *testca.CA, spec testca.CardSpec) *testca.Card {
	t.Helper()
	if spec.KVNR == "" {
		spec.KVNR = kvnr
	}
	if spec.NotBefore.IsZero() {
		spec.NotBefore = w.f.clk.now().AddDate(-1, 0, 0)
	}
	c, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signer signs with the card's key whatever its curve: a software card for
// brainpool keys, and the raw key for the wrong-curve card.
type rawCard struct{ c *testca.Card }

func (r rawCard) Certificate() []byte { return r.c.Cert }
func (r rawCard) SignHash(h [32]byte) ([]byte, error) {
	if sc, err := r.c.Software(); err == nil {
		return sc.SignHash(h)
	}
	return make([]byte, appclient.CardSignatureSize), nil // no brainpool key: refused before it counts
}

// request signs a fresh bind-egk challenge with phone and card.
func (w *cardWorld) request(t *testing.T, phone *appclient.Device, card appclient.Card) (device.CardRequest, appclient.CardPairing) {
	t.Helper()
	ch := w.f.challenge(t, device.PurposeBindEGK, "")
	p, err := phone.SignPairing(pin, "Pixel von Jürgen", "Pixel 8", ch, card)
	if err != nil {
		t.Fatal(err)
	}
	return device.CardRequest{DeviceKey: p.DevicePublicKey, PINKey: p.PINPublicKey, KDF: string(p.KDF), Name: p.Name, Model: p.Model,
		Proof: proofOf(ch.ID, p.Proof), Certificate: p.CardCertificate, Statement: p.Statement, CardSignature: p.CardSignature}, p
}

func (w *cardWorld) session() *store.Session {
	return &store.Session{PersonID: w.f.person.ID, Level: string(session.LevelLow), Origin: string(session.OriginPassword)}
}

// challengeLeft reports whether the request's challenge is still unused.
func (w *cardWorld) challengeLeft(t *testing.T, r device.CardRequest) bool {
	t.Helper()
	used, err := w.f.st.ChallengeUsed(t.Context(), proofing.CodeDigest(r.Proof.ChallengeID))
	if err != nil {
		t.Fatal(err)
	}
	return !used
}

func TestBindWithCard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		w := newCardWorld(t, st)
		c := w.card(t, w.ca, testca.CardSpec{})
		req, _ := w.request(t, newPhone(t), rawCard{c})
		b, err := w.f.svc.Cards().BindWithCard(t.Context(), w.session(), req)
		if err != nil {
			t.Fatalf("BindWithCard: %v", err)
		}
		if b.Level != "high" || b.Session.Origin != string(session.OriginEGK) || b.Session.Level != "high" || b.Token == "" {
			t.Errorf("binding %+v, session origin %q level %q", b.Binding, b.Session.Origin, b.Session.Level)
		}
		if n := w.f.notices.count(notice.DeviceBound); n != 1 {
			t.Errorf("%d device-bound notices, want 1", n)
		}
		if w.challengeLeft(t, req) {
			t.Error("the challenge was not used up")
		}
		// A card binding is no fresh eID identification: its session does
		// not bind a further phone without the card.
		if session.FreshEID(b.Session, w.f.clk.now()) {
			t.Error("a session from the card counts as a fresh eID identification")
		}
		// With the letter's activation code instead of a session.
		req2, _ := w.request(t, newPhone(t), rawCard{c})
		req2.ActivationCode = "https://portal.example/app/activate#" + w.f.code
		if _, err := w.f.svc.Cards().BindWithCard(t.Context(), nil, req2); err != nil {
			t.Fatalf("BindWithCard with the activation code: %v", err)
		}
		if _, err := w.f.st.OneTimeByDigest(t.Context(), device.ActivationKind, proofing.CodeDigest(w.f.code), w.f.clk.now()); err == nil {
			t.Error("the activation code was not used up")
		}
		devs, err := w.f.st.PersonDevices(t.Context(), w.f.person.ID)
		if err != nil || len(devs) != 2 || devs[0].Level != "high" {
			t.Errorf("devices %+v, %v", devs, err)
		}
	})
}

// TestBindWithCardRefusals: every bad input is refused with its own error
// and changes nothing: no device, no notice, the activation code unused,
// and the challenge unused (it is consumed only once everything passed).
func TestBindWithCardRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		revoked := big.NewInt(0xbad)
		w := newCardWorld(t, st, revoked)
		now := w.f.clk.now()
		good := w.card(t, w.ca, testca.CardSpec{})
		unknownCritical := testca.Extension([]int{1, 3, 6, 1, 4, 1, 99999, 7}, true, []byte{5, 0})
		type tc struct {
			name     string
			card     *testca.Card
			mutate   func(t *testing.T, r *device.CardRequest)
			byCode   bool
			wantErr  error
			wantWhy  egk.Reason
			wantFld  string
			consumed bool // the challenge is used up (a replay)
		}
		cases := []tc{
			{name: "wrong curve", card: w.card(t, w.ca, testca.CardSpec{Curve: elliptic.P256()}), wantWhy: egk.ReasonCurve},
			{name: "expired", card: w.card(t, w.ca, testca.CardSpec{NotBefore: now.AddDate(-6, 0, 0), NotAfter: now.Add(-time.Minute)}), wantWhy: egk.ReasonExpired},
			{name: "not yet valid", card: w.card(t, w.ca, testca.CardSpec{NotBefore: now.Add(time.Hour)}), wantWhy: egk.ReasonNotYetValid},
			{name: "revoked", card: w.card(t, w.ca, testca.CardSpec{Serial: revoked}), wantWhy: egk.ReasonRevoked},
			{name: "unknown issuer", card: w.card(t, w.other, testca.CardSpec{}), wantWhy: egk.ReasonUnknownIssuer},
			{name: "extra critical extension", card: w.card(t, w.ca, testca.CardSpec{Extra: []egk.Extension{unknownCritical}}), wantWhy: egk.ReasonCriticalExtension},
			{name: "another KVNR", card: w.card(t, w.ca, testca.CardSpec{KVNR: "T555558879"}), wantErr: device.ErrCardNotYours},
			{name: "another KVNR by code", card: w.card(t, w.ca, testca.CardSpec{KVNR: "T555558879"}), byCode: true, wantErr: device.ErrCardNotYours},
			{name: "truncated DER", card: good, wantFld: "card_certificate", mutate: func(_ *testing.T, r *device.CardRequest) {
				r.Certificate = r.Certificate[:len(r.Certificate)/2]
			}},
			{name: "oversized DER", card: good, wantFld: "card_certificate", mutate: func(_ *testing.T, r *device.CardRequest) {
				r.Certificate = append(bytes.Clone(r.Certificate), make([]byte, appclient.MaxCardCertificate)...)
			}},
			{name: "DER with trailing data", card: good, wantFld: "card_certificate", mutate: func(_ *testing.T, r *device.CardRequest) {
				r.Certificate = append(bytes.Clone(r.Certificate), 0, 0)
			}},
			{name: "statement over another device key", card: good, wantErr: device.ErrCardStatement, mutate: func(t *testing.T, r *device.CardRequest) {
				// Another phone signs the same challenge; the card's statement
				// still names the first phone.
				ch := appclient.Challenge{ID: r.Proof.ChallengeID, Nonce: w.nonce(t, r), Purpose: device.PurposeBindEGK}
				other, err := newPhone(t).SignPairing(pin, r.Name, r.Model, ch, rawCard{good})
				if err != nil {
					t.Fatal(err)
				}
				r.DeviceKey, r.PINKey, r.Proof = other.DevicePublicKey, other.PINPublicKey, proofOf(ch.ID, other.Proof)
			}},
			{name: "card signature of another card", card: good, wantErr: device.ErrCardSignature, mutate: func(t *testing.T, r *device.CardRequest) {
				sig, err := rawCard{w.card(t, w.ca, testca.CardSpec{})}.SignHash(sha(r.Statement))
				if err != nil {
					t.Fatal(err)
				}
				r.CardSignature = sig
			}},
			{name: "device signature wrong", card: good, wantErr: device.ErrProof, mutate: func(_ *testing.T, r *device.CardRequest) {
				r.Proof.DeviceSignature = bytes.Clone(r.Proof.DeviceSignature)
				r.Proof.DeviceSignature[5] ^= 1
			}},
			{name: "malformed statement", card: good, wantFld: "statement", mutate: func(_ *testing.T, r *device.CardRequest) {
				r.Statement = r.Statement[:len(r.Statement)-1]
			}},
			{name: "no account named", card: good, wantErr: device.ErrBindRefused},
			{name: "replayed challenge", card: good, wantErr: device.ErrProof, consumed: true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req, _ := w.request(t, newPhone(t), rawCard{c.card})
				var sess *store.Session
				switch {
				case c.name == "no account named":
				case c.byCode:
					req.ActivationCode = w.f.code
				default:
					sess = w.session()
				}
				if c.consumed {
					// A good binding uses the challenge; the same request
					// again is a replay.
					if _, err := w.f.svc.Cards().BindWithCard(t.Context(), sess, req); err != nil {
						t.Fatal(err)
					}
				}
				if c.mutate != nil {
					c.mutate(t, &req)
				}
				before := w.state(t)
				_, err := w.f.svc.Cards().BindWithCard(t.Context(), sess, req)
				var refused *egk.RefusedError
				var fe *field.Error
				switch {
				case c.wantWhy != "":
					if !errors.As(err, &refused) || refused.Reason != c.wantWhy {
						t.Fatalf("BindWithCard = %v, want reason %s", err, c.wantWhy)
					}
				case c.wantFld != "":
					if !errors.As(err, &fe) || fe.Name != c.wantFld {
						t.Fatalf("BindWithCard = %v, want invalid field %s", err, c.wantFld)
					}
				default:
					if !errors.Is(err, c.wantErr) {
						t.Fatalf("BindWithCard = %v, want %v", err, c.wantErr)
					}
				}
				if after := w.state(t); after != before {
					t.Errorf("state changed: %+v -> %+v", before, after)
				}
				if !c.consumed && !w.challengeLeft(t, req) {
					t.Error("a refused request used up the challenge")
				}
			})
		}
	})
}

// state is what a refused request must leave as it was.
type worldState struct {
	devices, notices int
	codeLeft         bool
}

func (w *cardWorld) state(t *testing.T) worldState {
	t.Helper()
	devs, err := w.f.st.PersonDevices(t.Context(), w.f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.f.st.OneTimeByDigest(t.Context(), device.ActivationKind, proofing.CodeDigest(w.f.code), w.f.clk.now())
	return worldState{devices: len(devs), notices: w.f.notices.count(notice.DeviceBound), codeLeft: err == nil}
}

// nonce returns the challenge nonce r answers.
func (w *cardWorld) nonce(t *testing.T, r *device.CardRequest) []byte {
	t.Helper()
	st, err := appclient.ParsePairingStatement(r.Statement)
	if err != nil {
		t.Fatal(err)
	}
	return st.Nonce
}

func TestUnlockWithCard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		w := newCardWorld(t, st)
		phone := w.f.bind(t)
		for range 3 {
			w.f.svc.Login(t.Context(), store.DeviceID(phone.ID), w.f.loginProof(t, phone, wrongPIN), "pin", "", "")
		}
		if _, _, err := w.f.svc.Login(t.Context(), store.DeviceID(phone.ID), w.f.loginProof(t, phone, pin), "pin", "", ""); !errors.Is(err, device.ErrPINLocked) {
			t.Fatalf("after three wrong PINs: %v, want ErrPINLocked", err)
		}
		dev := store.DeviceID(phone.ID)
		// Another person's card unlocks nothing and changes nothing.
		req, _ := w.request(t, phone, rawCard{w.card(t, w.ca, testca.CardSpec{KVNR: "T555558879"})})
		if err := w.f.svc.Cards().UnlockWithCard(t.Context(), dev, req); !errors.Is(err, device.ErrCardNotYours) {
			t.Fatalf("UnlockWithCard with another person's card: %v", err)
		}
		if d, _ := w.f.st.DeviceByID(t.Context(), dev); d.PINLockedAt.IsZero() || d.PINFailures != 3 || !w.challengeLeft(t, req) {
			t.Errorf("after a refused unlock: locked %v, failures %d", !d.PINLockedAt.IsZero(), d.PINFailures)
		}
		// Another device's key is refused before the card is looked at.
		other, _ := w.request(t, newPhone(t), rawCard{w.card(t, w.ca, testca.CardSpec{})})
		if err := w.f.svc.Cards().UnlockWithCard(t.Context(), dev, other); !errors.Is(err, device.ErrProof) {
			t.Errorf("UnlockWithCard with another device key: %v", err)
		}
		// The person's card sets the new PIN.
		req, _ = w.request(t, phone, rawCard{w.card(t, w.ca, testca.CardSpec{})})
		if err := w.f.svc.Cards().UnlockWithCard(t.Context(), dev, req); err != nil {
			t.Fatalf("UnlockWithCard: %v", err)
		}
		if _, _, err := w.f.svc.Login(t.Context(), dev, w.f.loginProof(t, phone, pin), "pin", "", ""); err != nil {
			t.Errorf("login after the unlock: %v", err)
		}
	})
}

func TestCardBindingOffWithoutAnchors(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	if f.svc.Cards().Enabled() {
		t.Fatal("EGK() without cards")
	}
	_, err := f.svc.Cards().BindWithCard(t.Context(), nil, device.CardRequest{})
	if !errors.Is(err, device.ErrEGKOff) {
		t.Errorf("BindWithCard without cards: %v, want ErrEGKOff", err)
	}
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }
