package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// TestMigrateBindsSealedFields: 'pforte migrate' with the data keys re-seals
// an IBAN stored before values were bound to their place, once.
func TestMigrateBindsSealedFields(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		k, _ := seal.GenerateKey("t1")
		ring, _ := seal.NewKeyring(k)
		c := cli{t: t, environ: []string{"PFORTE_LOG_LEVEL=warn"}}
		if code, out, errOut := c.run("", "migrate", "--database", dsn); code != 0 || !strings.Contains(out, "not yet bound") {
			t.Fatalf("migrate without keys: %d %s %s", code, out, errOut)
		}
		st := sqltest.Open(t, dsn)
		p := store.Person{KVNR: "X110411675", FamilyName: "Weiß", GivenNames: "Jürgen", BirthDate: "1970", Street: "Hauptstraße",
			PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: time.Now(),
			IBAN: unboundSeal(k, "DE89370400440532013000")}
		if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
			t.Fatal(err)
		}
		c.environ = append(c.environ, "PFORTE_DATA_KEYS="+k.Encode())
		code, out, errOut := c.run("", "migrate", "--database", dsn)
		if code != 0 || !strings.Contains(out, "1 IBANs and 0 outbox payloads re-sealed") {
			t.Fatalf("migrate with keys: %d %q %s", code, out, errOut)
		}
		got, err := st.PersonByKVNR(t.Context(), p.KVNR)
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := ring.OpenFor(got.IBAN, seal.Place("persons", "iban", p.KVNR)); err != nil || string(plain) != "DE89370400440532013000" {
			t.Errorf("IBAN after migrate opens bound as %q, %v", plain, err)
		}
		if code, out, _ := c.run("", "migrate", "--database", dsn); code != 0 || strings.Contains(out, "re-sealed") {
			t.Errorf("second migrate: %d %q; want nothing re-sealed", code, out)
		}
	})
}
