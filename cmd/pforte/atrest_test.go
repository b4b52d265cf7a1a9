package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
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

// TestAuditVerifyWithCheckpoints: verify config.Needs the audit key, and with the
// checkpoint file it detects a tail cut off together with the head, which
// the database alone cannot show.
func TestAuditVerifyWithCheckpoints(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		c := newCLI(t)
		if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
			t.Fatal(errOut)
		}
		st := sqltest.Open(t, dsn)
		for i := range 5 {
			if err := appendEvent(t.Context(), st, i); err != nil {
				t.Fatal(err)
			}
		}
		file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.NewCheckpointer(st, testAuditKey(), f, time.Now, slog.New(slog.DiscardHandler)).Publish(t.Context(), false); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if code, out, _ := c.run("", "audit", "verify", "--database", dsn, "--checkpoints", file); code != 0 ||
			!strings.Contains(out, "intact: 5 entries, keyed from entry 1") || !strings.Contains(out, "checkpoints matched: 1, last entry 5") {
			t.Fatalf("intact: %d %q", code, out)
		}
		noKey := cli{t: t, environ: []string{"PFORTE_LOG_LEVEL=warn"}}
		if code, _, errOut := noKey.run("", "audit", "verify", "--database", dsn); code != 2 || !strings.Contains(errOut, "audit.key_file: required") {
			t.Errorf("without key: %d %q", code, errOut)
		}
		other := cli{t: t, environ: []string{"PFORTE_LOG_LEVEL=warn", "PFORTE_AUDIT_KEY=" + audit.GenerateKeyText()}}
		if code, out, _ := other.run("", "audit", "verify", "--database", dsn); code != 1 || !strings.Contains(out, "BROKEN at entry 1") {
			t.Errorf("another key: %d %q", code, out)
		}
		if code, out, _ := other.run("", "audit", "verify", "--database", dsn, "--checkpoints", file); code != 1 || !strings.Contains(out, "REJECTED") {
			t.Errorf("checkpoints under another key: %d %q", code, out)
		}

		// Cut off the last entry and rewind the head, as a database
		// administrator could.
		disableAppendOnly(t, st)
		entries, _ := st.AuditEntries(t.Context(), 0, 10)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"DELETE FROM audit_entries WHERE seq = 5", nil},
			{"UPDATE audit_head SET seq = 4, hash = $1 WHERE id = 1", []any{entries[3].Hash}},
		} {
			if _, err := st.DB().ExecContext(t.Context(), q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if code, out, _ := c.run("", "audit", "verify", "--database", dsn); code != 0 {
			t.Fatalf("without checkpoints a cut tail is not visible (documented): %d %q", code, out)
		}
		code, out, _ := c.run("", "audit", "verify", "--database", dsn, "--checkpoints", file)
		if code != 1 || !strings.Contains(out, "BROKEN at entry 5") || !strings.Contains(out, "cut off") {
			t.Errorf("with checkpoints after the cut: %d %q", code, out)
		}
	})
}
