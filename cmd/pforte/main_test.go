package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// cli runs pforte in-process and returns its exit code and output.
type cli struct {
	t       *testing.T
	environ []string
}

func (c cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	env := &environment{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, environ: c.environ}
	code = run(c.t.Context(), env, args)
	return code, out.String(), errOut.String()
}

func newCLI(t *testing.T) cli {
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	return cli{t: t, environ: []string{"PFORTE_DATA_KEYS=" + k.Encode(), "PFORTE_LOG_LEVEL=warn", auditKeyEnv(t)}}
}

// backends runs fn against a fresh SQLite file and, when PFORTE_TEST_POSTGRES is
// set, a fresh PostgreSQL schema; dsn is the --database value.
func backends(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, sqltest.PostgresURL(t)) })
}

func TestUsageAndVersion(t *testing.T) {
	c := newCLI(t)
	if code, _, errOut := c.run("", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut)
	}
	if code, _, _ := c.run(""); code != 2 {
		t.Errorf("no command: code %d, want 2", code)
	}
	if code, out, _ := c.run("", "version"); code != 0 || !strings.HasPrefix(out, "pforte ") {
		t.Errorf("version: code %d, out %q", code, out)
	}
	if code, _, _ := c.run("", "migrate", "--no-such-flag"); code != 2 {
		t.Errorf("unknown flag: code %d, want 2", code)
	}
	if code, out, _ := c.run("", "keygen"); code != 0 || !strings.HasPrefix(out, "k1:") {
		t.Errorf("keygen: code %d, out %q", code, out)
	}
}

func TestInvalidConfigurationReportsEverythingAtOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pforte.yaml")
	os.WriteFile(file, []byte("log:\n  level: loud\nhttp:\n  listen: nowhere\n  max_body_bytes: -1\n"), 0o600)
	c := cli{t: t, environ: []string{"PFORTE_REGISTRY_BATCH_SIZE=0", "PFORTE_NO_SUCH_THING=1", "PFORTE_TEST_IGNORED=1"}}
	code, _, errOut := c.run("", "serve", "--config", file, "--database", "mysql://x")
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	for _, want := range []string{"database:", "log.level", "http.listen", "max", "registry.batch_size",
		"PFORTE_NO_SUCH_THING", "data_keys: required"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "PFORTE_TEST_IGNORED") {
		t.Errorf("PFORTE_TEST_ variables must be ignored:\n%s", errOut)
	}

	os.WriteFile(file, []byte("databse: sqlite:x.db\n"), 0o600)
	code, _, errOut = c.run("", "migrate", "--config", file)
	if code != 2 || !strings.Contains(errOut, "databse") {
		t.Errorf("unknown YAML key: code %d, stderr %q", code, errOut)
	}
}

func TestRegistryImportAndAuditVerify(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		c := newCLI(t)
		dir := t.TempDir()
		csvFile := filepath.Join(dir, "persons.csv")
		if code, _, errOut := c.run("", "registry", "generate", "--count", "300", "--seed", "3", "--date", "2026-11-29", "--out", csvFile); code != 0 {
			t.Fatalf("generate: %d %s", code, errOut)
		}
		if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
			t.Fatalf("migrate: %d %s", code, errOut)
		}
		code, out, errOut := c.run("", "registry", "import", "--database", dsn, csvFile)
		if code != 0 || !strings.Contains(out, "imported 300, updated 0, unchanged 0, skipped 0") {
			t.Fatalf("first import: code %d\n%s%s", code, out, errOut)
		}
		code, out, _ = c.run("", "registry", "import", "--database", dsn, csvFile)
		if code != 0 || !strings.Contains(out, "imported 0, updated 0, unchanged 300, skipped 0") {
			t.Fatalf("second import: code %d\n%s", code, out)
		}

		// Bad rows are reported with their line numbers; good rows land.
		header := "kvnr,family_name,given_names,title,birth_name,birth_date,street,house_number,postal_code,city,address_verified_at,address_verified_by,iban,relation,member_kvnr\n"
		good := "X110411675,Weiß,Jürgen,,,1970-01-02,Hauptstraße,1,10115,Berlin,2026-01-01,melderegister,DE89370400440532013000,member,\n"
		bad := []string{
			"A123456789,Groß,Anna,,,1970-01-02,Hauptstraße,1,10115,Berlin,,,,member,\n",                       // line 3: check digit
			"T555558879,Groß,Anna,,,1970-13-02,Hauptstraße,1,10115,Berlin,,,,member,\n",                       // line 4: date
			"T555558879,Groß,Anna,,,1970-01-02,Hauptstraße,1,10115,Berlin,,,DE00370400440532013000,member,\n", // line 5: IBAN
			"T555558879,,Anna,,,1970-01-02,Hauptstraße,1,10115,Berlin,,,,member,\n",                           // line 6: missing name
			"T555558879,Groß,Anna\n", // line 7: columns
			"T555558879,Gro\xff,Anna,,,1970-01-02,Hauptstraße,1,10115,Berlin,,,,member,\n", // line 8: UTF-8
		}
		input := header + good + strings.Join(bad, "") + "T555558879,Groß,Anna,,,1970,Hauptstraße,1,10115,Berlin,,,,member,\n"
		code, out, errOut = c.run(input, "registry", "import", "--database", dsn, "-")
		if code == 0 {
			t.Errorf("import with bad rows exited 0")
		}
		if !strings.Contains(out, "imported 2, updated 0, unchanged 0, skipped 6") {
			t.Errorf("summary: %s", out)
		}
		for line := 3; line <= 8; line++ {
			if !strings.Contains(errOut, fmt.Sprintf("line %d:", line)) {
				t.Errorf("no report for line %d:\n%s", line, errOut)
			}
		}
		if strings.Contains(errOut, "A123456789") {
			t.Errorf("a full KVNR was echoed:\n%s", errOut)
		}

		code, out, _ = c.run("", "audit", "verify", "--database", dsn)
		if code != 0 || !strings.Contains(out, "audit trail intact: 3 entries") {
			t.Fatalf("verify: code %d, out %q", code, out)
		}
	})
}

// TestAuditVerifyCatchesTampering edits the trail below the application (as a
// database administrator could) and expects verify to name the first broken entry.
func TestAuditVerifyCatchesTampering(t *testing.T) {
	tampers := []struct {
		name    string
		sql     []string
		wantSeq string
	}{
		{"modified", []string{`UPDATE audit_entries SET details = $1 WHERE seq = 3`}, "entry 3"},
		{"deleted", []string{`DELETE FROM audit_entries WHERE seq = 2`}, "entry 2"},
		{"deleted last", []string{`DELETE FROM audit_entries WHERE seq = 5`}, "entry 5"},
		{"reordered", []string{
			`UPDATE audit_entries SET seq = 100 WHERE seq = 2`,
			`UPDATE audit_entries SET seq = 2 WHERE seq = 4`,
			`UPDATE audit_entries SET seq = 4 WHERE seq = 100`,
		}, "entry 2"},
	}
	backends(t, func(t *testing.T, dsn string) {
		for _, tt := range tampers {
			t.Run(tt.name, func(t *testing.T) {
				c := newCLI(t)
				dsn := dsn
				if strings.HasPrefix(dsn, "sqlite:") {
					dsn = "sqlite:" + filepath.Join(t.TempDir(), "p.db")
				} else {
					dsn = sqltest.PostgresURL(t)
				}
				if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
					t.Fatal(errOut)
				}
				st := sqltest.Open(t, dsn)
				for i := range 5 {
					if err := appendEvent(t.Context(), st, i); err != nil {
						t.Fatal(err)
					}
				}
				if code, out, _ := c.run("", "audit", "verify", "--database", dsn); code != 0 {
					t.Fatalf("before tampering: %s", out)
				}
				disableAppendOnly(t, st)
				for _, q := range tt.sql {
					var args []any
					if strings.Contains(q, "$1") {
						args = append(args, []byte(`{"n":999}`))
					}
					if _, err := st.DB().ExecContext(t.Context(), q, args...); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				code, out, _ := c.run("", "audit", "verify", "--database", dsn)
				if code == 0 || !strings.Contains(out, "BROKEN at "+tt.wantSeq) {
					t.Errorf("after %s: code %d, out %q; want non-zero naming %s", tt.name, code, out, tt.wantSeq)
				}
			})
		}
	})
}

// disableAppendOnly removes the database's append-only guard, as an attacker
// with administrator rights would.
func disableAppendOnly(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	stmts := []string{`ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only`}
	if st.Dialect() == sqlstore.SQLite {
		stmts = []string{`DROP TRIGGER audit_entries_no_update`, `DROP TRIGGER audit_entries_no_delete`}
	}
	for _, q := range stmts {
		if _, err := st.DB().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendOnlyGuard(t *testing.T) {
	sqltest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		if err := appendEvent(t.Context(), st, 1); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`UPDATE audit_entries SET actor = 'x'`, `DELETE FROM audit_entries`} {
			if _, err := st.DB().ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only guard", q, err)
			}
		}
	})
}

func appendEvent(ctx context.Context, st *sqlstore.Store, i int) error {
	return auditLogFor(st).Record(ctx, auditEvent(i))
}

// TestOIDCConfiguration: clients come from YAML, a subject key is required
// with them, and every client problem is reported by its index at once.
func TestOIDCConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pforte.yaml")
	os.WriteFile(file, []byte(`oidc:
  clients:
    - id: bonus
      secret: short
      redirect_uris: [http://bonus.example/cb]
      scopes: [email]
    - id: bonus
      public: true
      ciba: true
      redirect_uris: [https://spa.example/cb]
`), 0o600)
	c := cli{t: t, environ: []string{"PFORTE_DATA_KEYS=" + testDataKey(t)}}
	code, _, errOut := c.run("", "serve", "--config", file)
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	for _, want := range []string{"oidc.subject_key: required"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, errOut)
		}
	}
	c.environ = append(c.environ, "PFORTE_OIDC_SUBJECT_KEY="+newSubjectKey())
	code, _, errOut = c.run("", "serve", "--config", file)
	for _, want := range []string{"clients[0].secret", "clients[0]: redirect URI", "unknown scope \"email\"",
		"clients[1].id: \"bonus\" is configured twice", "clients[1].ciba"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, errOut)
		}
	}
	if code != 2 || strings.Contains(errOut, "short") {
		t.Errorf("exit code %d (want 2), or the secret is shown:\n%s", code, errOut)
	}
	if code, out, _ := c.run("", "keygen", "--subject"); code != 0 || len(strings.TrimSpace(out)) != 44 {
		t.Errorf("keygen --subject: code %d, out %q", code, out)
	}
}

func testDataKey(t *testing.T) string {
	k, err := seal.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	return k.Encode()
}
