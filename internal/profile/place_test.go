package profile_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// An IBAN ciphertext copied into another person's row does not open there:
// View fails instead of showing the other person's bank account.
func TestViewRefusesAnIBANOfAnotherRow(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	other := store.Person{KVNR: "T555558879", FamilyName: "Schmidt", GivenNames: "Anna", BirthDate: "1980", Street: "Weg",
		PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: time.Now()}
	if _, err := f.st.UpsertPersons(ctx, []store.Person{other}); err != nil {
		t.Fatal(err)
	}
	other, _ = f.st.PersonByKVNR(ctx, other.KVNR)
	if v, err := f.svc.View(ctx, f.person.ID); err != nil || v.IBANMasked == "" {
		t.Fatalf("own IBAN: %+v, %v", v, err)
	}
	if _, err := testdb.SQL(t, f.st).DB().ExecContext(ctx, "UPDATE persons SET iban_key_id = $1, iban_sealed = $2 WHERE id = $3",
		f.person.IBAN.KeyID, f.person.IBAN.Ciphertext, int64(other.ID)); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.View(ctx, other.ID)
	if !errors.Is(err, seal.ErrDecrypt) {
		t.Fatalf("View with a copied IBAN = %+v, %v; want ErrDecrypt", v, err)
	}
}

// An outbox payload copied into another event does not open there.
func TestOutboxRefusesAPayloadOfAnotherEvent(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, iban := range []string{"DE44500105175407324931", "DE89370400440532013000"} {
		a, err := f.svc.RequestBankChange(ctx, f.person.ID, iban, "test", session.LevelSubstantial)
		if err != nil {
			t.Fatal(err)
		}
		f.approve(t, a)
		if _, err := f.svc.Status(ctx, a.ID, f.person.ID); err != nil {
			t.Fatal(err)
		}
	}
	events, err := f.svc.Outbox(ctx, 0, 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("outbox %+v, %v", events, err)
	}
	if _, err := testdb.SQL(t, f.st).DB().ExecContext(ctx, "UPDATE outbox SET payload = (SELECT payload FROM outbox WHERE seq = 1) WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Outbox(ctx, 0, 10); !errors.Is(err, seal.ErrDecrypt) {
		t.Fatalf("Outbox with a copied payload: %v, want ErrDecrypt", err)
	}
}
