package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/demo"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
)

// runDemo starts a self-contained local Pforte: SQLite in a folder, a data key
// made on first start, synthetic insured persons, the server on loopback, and a
// printed walkthrough.
func runDemo(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "demo", "demo [--dir DIR] [--listen HOST:PORT] [--persons N] [--reset]")
	dir := fs.String("dir", "pforte-data", "data `folder` for the database, key and generated files")
	listen := fs.String("listen", "127.0.0.1:8080", "listen `address`; the demo only serves on loopback")
	persons := fs.Int("persons", 1000, "synthetic insured persons to generate")
	seed := fs.Int64("seed", 1, "seed of the synthetic data")
	reset := fs.Bool("reset", false, "delete the demo folder's database first")
	simListen := fs.String("eid-listen", "127.0.0.1:8081", "listen `address` of the eID simulator (loopback)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *persons < 1 || *persons > 1_000_000 {
		return &usageError{msg: "demo: --persons must be between 1 and 1000000"}
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return &usageError{msg: "demo: --listen must be host:port"}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return &usageError{msg: "demo: --listen must be a loopback address such as 127.0.0.1:8080"}
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(*dir, "pforte.db")
	if *reset {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	keyFile := filepath.Join(*dir, "data.key")
	if err := ensureKeyFile(keyFile); err != nil {
		return err
	}
	auditKeyFile := filepath.Join(*dir, "audit.key")
	if err := ensureSecretFile(auditKeyFile, audit.GenerateKeyText); err != nil {
		return err
	}
	subjectKeyFile := filepath.Join(*dir, "subject.key")
	if err := ensureSecretFile(subjectKeyFile, newSubjectKey); err != nil {
		return err
	}
	clientSecretFile := filepath.Join(*dir, "demo-app.secret")
	if err := ensureSecretFile(clientSecretFile, func() string { return "demo-" + rand.Text() + rand.Text() }); err != nil {
		return err
	}
	rawSecret, err := os.ReadFile(clientSecretFile)
	if err != nil {
		return err
	}
	clientSecret := strings.TrimSpace(string(rawSecret))

	cfg := defaultConfig()
	cfg.Database = "sqlite:" + dbPath
	cfg.DataKeysFile = keyFile
	cfg.Audit.KeyFile = auditKeyFile
	cfg.Audit.CheckpointFile = filepath.Join(*dir, "audit-checkpoints.jsonl")
	cfg.OIDC.SubjectKeyFile = subjectKeyFile
	cfg.HTTP.Listen = *listen
	cfg.Log.Format = "text"
	if problems := cfg.validate(needs{keys: true, audit: true, http: true}); len(problems) > 0 {
		return &configError{problems: problems}
	}
	logger := cfg.logger(env.stderr)
	ring, err := cfg.keyring()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()

	csvPath := filepath.Join(*dir, "registry.csv")
	var csv bytes.Buffer
	if err := registry.Generate(&csv, *persons, *seed, time.Now().UTC()); err != nil {
		return err
	}
	if err := os.WriteFile(csvPath, csv.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Generated %d synthetic insured persons into %s\n", *persons, csvPath)
	aud, err := auditLog(cfg, st, logger)
	if err != nil {
		return err
	}
	im := registry.NewImporter(st, ring, importAuditor{aud}, time.Now)
	quiet := *env
	quiet.isTerminal = false
	if _, err := importRegistry(ctx, &quiet, im, bytes.NewReader(csv.Bytes()), cfg); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("demo: cannot listen on %s (is another pforte running? try --listen 127.0.0.1:8081): %w", *listen, err)
	}
	base := "http://" + ln.Addr().String()
	cfg.PublicURL = base
	cfg.OIDC.Clients = []oidc.ClientConfig{demo.Client(base, clientSecret)}
	if problems := cfg.validate(needs{keys: true, audit: true, http: true}); len(problems) > 0 {
		ln.Close()
		return &configError{problems: problems}
	}
	simHost, _, err := net.SplitHostPort(*simListen)
	if err != nil || !isLoopback(simHost) {
		ln.Close()
		return &usageError{msg: "demo: --eid-listen must be a loopback host:port"}
	}
	simLn, err := net.Listen("tcp", *simListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: eID simulator cannot listen on %s (try --eid-listen 127.0.0.1:8082): %w", *simListen, err)
	}
	simCfg, idents, err := startSimulator(ctx, st, simLn, base, logger)
	if err != nil {
		ln.Close()
		simLn.Close()
		return err
	}
	cfg.EID = simCfg.EID
	lettersDir := filepath.Join(*dir, "letters")
	printWalkthrough(env.stdout, base, cfg.Database, keyFile, csvPath, lettersDir, auditKeyFile, cfg.Audit.CheckpointFile, csv.Bytes())
	printOIDCWalkthrough(env.stdout, base, clientSecretFile, csv.Bytes())
	fmt.Fprintf(env.stdout, "The eID simulator (a development tool, no real ID card) runs at %s with these identities:\n", simCfg.EID.Issuer)
	for _, id := range idents {
		fmt.Fprintf(env.stdout, "  - %s\n", id.Label)
	}
	fmt.Fprintf(env.stdout, "Try it in a browser: %s/zugang, choose \"Online-Ausweis\" with the data of a matching identity.\n\n", base)
	env.useLogger(logger)
	return serve(ctx, cfg, logger, st, ln, folderSink{dir: lettersDir}, demo.NewRelyingParty(base, clientSecret, logger).Routes())
}

// ensureKeyFile writes a new data key to path unless one is there.
func ensureKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	k, err := seal.GenerateKey("demo1")
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(k.Encode()+"\n"), 0o600)
}

// ensureSecretFile writes make() to path unless the file is there.
func ensureSecretFile(path string, generate func() string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return os.WriteFile(path, []byte(generate()+"\n"), 0o600)
}

// printOIDCWalkthrough tells how to try the OpenID provider.
func printOIDCWalkthrough(w io.Writer, base, secretFile string, csv []byte) {
	kvnr := "X110411675"
	if s := samplePersons(csv, 1); len(s) > 0 {
		kvnr = s[0].kvnr
	}
	fmt.Fprintf(w, `OpenID provider (docs/oidc.md): %[1]s/oidc/.well-known/openid-configuration
  Sign in to the demo application (a relying party of Pforte): %[1]s/demo-app/
  With a phone bound (see above), "substantiell" asks the phone to confirm the login.
  Ask the phone to approve a payment through CIBA (client %[3]s, secret in %[2]s):
    curl -s -u %[3]s:"$(cat %[2]s)" %[1]s/oidc/bc-authorize -d scope=openid -d login_hint=%[4]s \
      -d binding_message=ZAHLUNG-4711 --data-urlencode 'authorization_details=[{"type":"payment_initiation","amount":"42.00","currency":"EUR","creditor":"Apotheke am Markt"}]'
    go run ./cmd/pforte app approvals --state phone.json      # shows the payment as the phone does
    go run ./cmd/pforte app approve --state phone.json --id APPROVAL_ID --pin 482915
    curl -s -u %[3]s:"$(cat %[2]s)" %[1]s/oidc/oauth/token \
      -d grant_type=urn:openid:params:grant-type:ciba -d auth_req_id=AUTH_REQ_ID

`, base, secretFile, demo.ClientID, kvnr)
}

// printWalkthrough tells a newcomer what to try next.
func printWalkthrough(w io.Writer, base, database, keyFile, csvPath, lettersDir, auditKeyFile, checkpointFile string, csv []byte) {
	samples := samplePersons(csv, 5)
	kvnr, plz, birth := "X110411675", "10115", "1970-01-01"
	if len(samples) > 0 {
		kvnr, plz, birth = samples[0].kvnr, samples[0].postalCode, samples[0].birthDate
	}
	fmt.Fprintf(w, `
Pforte demo is running at %[1]s  (stop with Ctrl-C)

Open the portal in a browser: %[1]s/  (request access by letter or with the
simulated ID card, log in, choose a password, see your data and devices)

Open the service app (the phone) in a browser: %[1]s/app/  (register, activate it
with the letter's QR code: the camera, a photo of the letter PDF or the link
%[1]s/app/activate#CODE; choose the Freigabe-PIN; then confirm the portal's logins
and changes there). Use a separate browser profile to keep portal and phone apart.

Try:
  curl %[1]s/healthz          # the process is alive
  curl %[1]s/readyz           # the database answers
  curl -s %[1]s/metrics | grep pforte_http

Request access as an insured person (a password letter to the address on file):
  curl -s -X POST %[1]s/api/v1/access-requests -H 'Content-Type: application/json' \
    -d '{"kvnr":"%[6]s","postal_code":"%[7]s","birth_date":"%[8]s","method":"letter"}'
  The letter appears as a PDF in %[5]s/ ; its initial password follows "Initialpasswort:"
  (pdftotext %[5]s/L*.pdf - | grep -A1 Initialpasswort). Then log in and choose a password:
  curl -s -X POST %[1]s/api/v1/sessions -H 'Content-Type: application/json' \
    -d '{"kvnr":"%[6]s","password":"INITIAL PASSWORD FROM THE LETTER"}'
  curl -s -X POST %[1]s/api/v1/password -H 'Authorization: Bearer SESSION_TOKEN' \
    -H 'Content-Type: application/json' -d '{"current_password":"…","new_password":"…"}'
  API reference: %[1]s/api/openapi.json and docs/api.md

Bind a phone with the reference app client, which reads the activation link of the
letter's QR code from its PDF (or pass --code-url with the URL in the QR code):
  go run ./cmd/pforte app activate --server %[1]s --state phone.json \
    --letter %[5]s/L….pdf --kvnr %[6]s --password 'YOUR PASSWORD' --pin 482915 --name "Mein Telefon"
  go run ./cmd/pforte app login --state phone.json --pin 482915
Change the address (portal page %[1]s/daten/anschrift after confirming the login on
the "phone", or PUT /api/v1/me/address with the session_token in phone.json: a
password-only session may not ask), then approve it on the "phone" — the approval
carries the change out and a notice letter to the old address appears in %[5]s/:
  go run ./cmd/pforte app approvals --state phone.json
  go run ./cmd/pforte app approve --state phone.json --id APPROVAL_ID --pin 482915

In another terminal:
  PFORTE_AUDIT_KEY_FILE=%[9]s go run ./cmd/pforte audit verify --database %[2]s --checkpoints %[10]s
      # checks the keyed hash chain of the audit trail against the published checkpoints
  PFORTE_DATA_KEYS_FILE=%[3]s PFORTE_AUDIT_KEY_FILE=%[9]s go run ./cmd/pforte registry import --database %[2]s %[4]s
      # importing the same file again changes nothing
  go run ./cmd/pforte registry generate --count 5 --seed 7
      # more synthetic persons as CSV (docs/registry-csv.md)

Synthetic insured persons with verified addresses (KVNR, name, postal code, birth date):
`, base, database, keyFile, csvPath, lettersDir, kvnr, plz, birth, auditKeyFile, checkpointFile)
	for _, p := range samples {
		fmt.Fprintf(w, "  %s  %-30s %s  %s\n", p.kvnr, p.name, p.postalCode, p.birthDate)
	}
	fmt.Fprintln(w)
}

type sample struct{ kvnr, name, postalCode, birthDate string }

// samplePersons picks the first n members with a full birth date and an address
// verified recently (so a letter to them is not held for review) from the
// generated CSV.
func samplePersons(csv []byte, n int) []sample {
	r, err := registry.NewReader(bytes.NewReader(csv), registry.ReaderOptions{})
	if err != nil {
		return nil
	}
	var out []sample
	for len(out) < n {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			continue
		}
		if row.Relation != "member" || len(row.BirthDate.String()) != len("2006-01-02") ||
			time.Since(row.AddressVerifiedAt) > 300*24*time.Hour {
			continue
		}
		out = append(out, sample{row.KVNR, strings.TrimSpace(row.GivenNames + " " + row.FamilyName), row.PostalCode, row.BirthDate.String()})
	}
	return out
}
