package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/demo"
	"github.com/pforte/pforte/internal/egk/testca"
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

	cfg := config.Default()
	cfg.Database = "sqlite:" + dbPath
	cfg.DataKeysFile = keyFile
	cfg.Audit.KeyFile = auditKeyFile
	cfg.Audit.CheckpointFile = filepath.Join(*dir, "audit-checkpoints.jsonl")
	cfg.OIDC.SubjectKeyFile = subjectKeyFile
	cfg.HTTP.Listen = *listen
	cfg.Log.Format = "text"
	caDir := filepath.Join(*dir, "egk-test-ca")
	if err := demoTestCA(caDir); err != nil {
		return err
	}
	cfg.EGK.TrustAnchors = []string{filepath.Join(caDir, "ca.pem")}
	cfg.EGK.CRLFile = filepath.Join(caDir, "ca.crl")
	if problems := cfg.Validate(config.Needs{Keys: true, Audit: true, HTTP: true}); len(problems) > 0 {
		return &config.Error{Problems: problems}
	}
	logger := cfg.Logger(env.stderr)
	ring, err := cfg.Keyring()
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
	if problems := cfg.Validate(config.Needs{Keys: true, Audit: true, HTTP: true}); len(problems) > 0 {
		ln.Close()
		return &config.Error{Problems: problems}
	}
	simHost, _, err := net.SplitHostPort(*simListen)
	if err != nil || !config.IsLoopback(simHost) {
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
	demo.Walkthrough(env.stdout, base, demo.Files{Database: cfg.Database, DataKeys: keyFile, Persons: csvPath, Letters: lettersDir,
		AuditKey: auditKeyFile, Checkpoints: cfg.Audit.CheckpointFile}, csv.Bytes())
	demo.OIDCWalkthrough(env.stdout, base, clientSecretFile, csv.Bytes())
	fmt.Fprintf(env.stdout, "The eID simulator (a development tool, no real ID card) runs at %s with these identities:\n", simCfg.EID.Issuer)
	for _, id := range idents {
		fmt.Fprintf(env.stdout, "  - %s\n", id.Label)
	}
	fmt.Fprintf(env.stdout, "Try it in a browser: %s/zugang, choose \"Online-Ausweis\" with the data of a matching identity.\n\n", base)
	fmt.Fprintf(env.stdout, "Health card (eGK), with test cards of the demo's test CA in %s (no real card):\n", caDir)
	fmt.Fprintf(env.stdout, "  pforte egk test-card --ca %s --kvnr KVNR --out karte.json\n", caDir)
	fmt.Fprintf(env.stdout, "  pforte app activate --server %s --state phone-egk.json --egk karte.json --kvnr KVNR --password - --pin 482915\n", base)
	fmt.Fprintf(env.stdout, "  (the person config.Needs a password first; or name the account with --letter PDF instead of --kvnr and --password)\n\n")
	fmt.Fprintf(env.stdout, "Back office for staff at %s/backoffice/ (German): create a staff account in another terminal; it prints the\n"+
		"password and the TOTP secret for an authenticator app:\n", base)
	fmt.Fprintf(env.stdout, "  PFORTE_DATA_KEYS_FILE=%s PFORTE_AUDIT_KEY_FILE=%s pforte staff add demo.leitung --name \"Demo Teamleitung\" --role supervisor --database %s\n\n",
		keyFile, auditKeyFile, cfg.Database)
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

// demoTestCA makes the demo's test eGK CA in dir once and writes it a fresh,
// empty CRL on every start (a CRL is valid for 30 days).
func demoTestCA(dir string) error {
	ca, err := testca.Load(dir)
	if errors.Is(err, os.ErrNotExist) {
		now := time.Now()
		if ca, err = testca.New("Demo eGK-CA TEST-ONLY", now.AddDate(0, 0, -1), now.AddDate(5, 0, 0)); err == nil {
			err = ca.Save(dir)
		}
	}
	if err != nil {
		return fmt.Errorf("demo: test eGK CA: %w", err)
	}
	return writeTestCRL(ca, dir, nil)
}

// ensureSecretFile writes make() to path unless the file is there.
func ensureSecretFile(path string, generate func() string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return os.WriteFile(path, []byte(generate()+"\n"), 0o600)
}
