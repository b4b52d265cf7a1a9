package reseal_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/seal/reseal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// unbound seals plain as Pforte did before values were bound to their place:
// the package seal format with no caller context.
func unbound(k seal.Key, plain string) store.Sealed {
	id, b64, _ := strings.Cut(k.Encode(), ":")
	secret, _ := base64.StdEncoding.DecodeString(b64)
	block, _ := aes.NewCipher(secret)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	aad := append([]byte("pforte-seal-v1\x01"), byte(len(id)))
	aad = append(aad, id...)
	out := append([]byte{1}, nonce...)
	return store.Sealed{KeyID: id, Ciphertext: aead.Seal(out, nonce, []byte(plain), aad)}
}

type fixture struct {
	st   store.Store
	key  seal.Key
	ring *seal.Keyring
	ids  []store.PersonID
}

func kvnr(i int) string { return fmt.Sprintf("A%09d", i) }

// newFixture stores three persons (the second without an IBAN) whose IBANs
// iban(i) returns, and one outbox event for the first with the payload
// payload returns.
func newFixture(t *testing.T, iban func(f *fixture, i int) store.Sealed, payload func(f *fixture, eventID string) store.Sealed) *fixture {
	t.Helper()
	k, _ := seal.GenerateKey("t1")
	ring, _ := seal.NewKeyring(k)
	f := &fixture{st: testdb.Open(t), key: k, ring: ring}
	ctx := t.Context()
	for i := 1; i <= 3; i++ {
		p := store.Person{KVNR: kvnr(i), FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970", Street: "Hauptstraße",
			PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: now}
		if i != 2 {
			p.IBAN = iban(f, i)
		}
		if _, err := f.st.UpsertPersons(ctx, []store.Person{p}); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.PersonByKVNR(ctx, p.KVNR)
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, got.ID)
	}
	a := store.Approval{ID: "A1", PersonID: f.ids[0], Action: "bank.change", Text: "Neue Bankverbindung",
		Data: []byte(`{}`), ContentHash: bytes.Repeat([]byte("h"), 32), Level: "substantial", Status: store.ApprovalPending,
		Client: "test", CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	if err := f.st.CreateApproval(ctx, a, now.Add(-time.Minute), nil, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(payload(f, "approval:A1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ApproveApproval(ctx, a.ID, a.ContentHash, "D", "pin", now, func(ctx context.Context, tx store.ApprovalTx, _ store.Approval) error {
		return tx.AppendOutbox(ctx, store.OutboxEvent{ID: "approval:A1", Type: "bank_account.changed", Payload: raw})
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func ibanOf(i int) string { return fmt.Sprintf("DE8937040044053201300%d", i) }

func oldIBAN(f *fixture, i int) store.Sealed { return unbound(f.key, ibanOf(i)) }

func oldPayload(f *fixture, _ string) store.Sealed { return unbound(f.key, `{"change":"old"}`) }

// checkBound checks that every value opens for its place, and only there.
func checkBound(t *testing.T, f *fixture) {
	t.Helper()
	ctx := t.Context()
	for i, id := range f.ids {
		p, err := f.st.PersonByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if !p.IBAN.IsZero() {
				t.Errorf("person without IBAN got %v", p.IBAN)
			}
			continue
		}
		plain, err := f.ring.OpenFor(p.IBAN, seal.Place("persons", "iban", p.KVNR))
		if err != nil || string(plain) != ibanOf(i+1) {
			t.Errorf("person %d: IBAN opens bound as %q, %v", i+1, plain, err)
		}
		if _, err := f.ring.OpenFor(p.IBAN, seal.Place("persons", "iban", kvnr(9))); !errors.Is(err, seal.ErrDecrypt) {
			t.Errorf("person %d: IBAN opens for another row: %v", i+1, err)
		}
	}
	events, err := f.st.OutboxAfter(ctx, 0, 10)
	if err != nil || len(events) != 1 {
		t.Fatalf("outbox = %v, %v", events, err)
	}
	var sealed store.Sealed
	if err := json.Unmarshal(events[0].Payload, &sealed); err != nil {
		t.Fatal(err)
	}
	if plain, err := f.ring.OpenFor(sealed, seal.Place("outbox", "payload", "approval:A1")); err != nil || string(plain) != `{"change":"old"}` {
		t.Errorf("payload opens bound as %q, %v", plain, err)
	}
}

func TestRunBindsUnboundValues(t *testing.T) {
	f := newFixture(t, oldIBAN, oldPayload)
	res, err := reseal.Run(t.Context(), f.st, f.ring, clock, 1) // batches of one row
	if err != nil {
		t.Fatal(err)
	}
	if want := (reseal.Result{IBANs: 2, Payloads: 1}); res != want {
		t.Errorf("Run = %+v, want %+v", res, want)
	}
	checkBound(t, f)
	if done, err := f.st.UpgradeDone(t.Context(), reseal.Name); err != nil || !done {
		t.Errorf("upgrade not marked done: %v, %v", done, err)
	}
	again, err := reseal.Run(t.Context(), f.st, f.ring, clock, 0)
	if err != nil || again != (reseal.Result{AlreadyDone: true}) {
		t.Errorf("second Run = %+v, %v; want already done", again, err)
	}
}

// Values already bound (a new database, or a run interrupted after some
// batches) are left byte for byte as they are.
func TestRunIsIdempotent(t *testing.T) {
	f := newFixture(t, func(f *fixture, i int) store.Sealed {
		s, _ := f.ring.SealFor([]byte(ibanOf(i)), seal.Place("persons", "iban", kvnr(i)))
		return s
	}, func(f *fixture, id string) store.Sealed {
		s, _ := f.ring.SealFor([]byte(`{"change":"old"}`), seal.Place("outbox", "payload", id))
		return s
	})
	before, _ := f.st.ListPersons(t.Context(), 0, 10)
	res, err := reseal.Run(t.Context(), f.st, f.ring, clock, 0)
	if err != nil || res != (reseal.Result{}) {
		t.Fatalf("Run on bound values = %+v, %v; want nothing re-sealed", res, err)
	}
	after, _ := f.st.ListPersons(t.Context(), 0, 10)
	for i := range before {
		if !bytes.Equal(before[i].IBAN.Ciphertext, after[i].IBAN.Ciphertext) || before[i].Version != after[i].Version {
			t.Errorf("person %d changed", i+1)
		}
	}
	checkBound(t, f)
}

// A value that opens neither for its place nor unbound (here: the first
// person's bound IBAN copied into the third person's row) stops the upgrade
// with an error naming the row, and the upgrade stays not done.
func TestRunRefusesAValueOfAnotherRow(t *testing.T) {
	var first store.Sealed
	f := newFixture(t, func(f *fixture, i int) store.Sealed {
		if i == 1 {
			first, _ = f.ring.SealFor([]byte(ibanOf(1)), seal.Place("persons", "iban", kvnr(1)))
			return first
		}
		return first
	}, oldPayload)
	_, err := reseal.Run(t.Context(), f.st, f.ring, clock, 0)
	if !errors.Is(err, seal.ErrDecrypt) || !strings.Contains(err.Error(), fmt.Sprintf("person %d", f.ids[2])) {
		t.Fatalf("Run = %v, want ErrDecrypt naming person %d", err, f.ids[2])
	}
	if strings.Contains(err.Error(), kvnr(3)) {
		t.Errorf("error %q names the KVNR", err)
	}
	if done, _ := f.st.UpgradeDone(t.Context(), reseal.Name); done {
		t.Error("upgrade marked done after an error")
	}
}

func TestRunRefusesAForeignPayload(t *testing.T) {
	f := newFixture(t, oldIBAN, func(f *fixture, _ string) store.Sealed {
		s, _ := f.ring.SealFor([]byte(`{}`), seal.Place("outbox", "payload", "approval:other"))
		return s
	})
	_, err := reseal.Run(t.Context(), f.st, f.ring, clock, 0)
	if !errors.Is(err, seal.ErrDecrypt) || !strings.Contains(err.Error(), "outbox event approval:A1") {
		t.Fatalf("Run = %v, want ErrDecrypt naming the outbox event", err)
	}
}
