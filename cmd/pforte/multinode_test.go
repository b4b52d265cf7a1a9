package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// TestWrongPINsAcrossThreeServeProcesses runs three `pforte serve` processes on
// one PostgreSQL database and sends 200 parallel wrong-PIN logins for one bound
// device, spread over the three: exactly the limit (3) are checked, then the PIN
// is locked, and the right PIN is refused afterwards on every node.
func TestWrongPINsAcrossThreeServeProcesses(t *testing.T) {
	dsn := sqltest.PostgresURL(t) // skips without PFORTE_TEST_POSTGRES
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pforte")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	st := sqltest.Open(t, dsn) // migrates the schema
	key, _ := seal.GenerateKey("t1")

	// One person with an initial password and an activation code, as after a
	// letter.
	ctx := t.Context()
	p := store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14", Street: "Hauptstraße",
		PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(ctx, []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, _ = st.PersonByKVNR(ctx, p.KVNR)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, _ := password.NewHasher(password.DefaultParams(), nil, 2)
	ring, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	accounts := account.New(st, h, session.NewManager(st, session.Config{}, time.Now), audit.New(st, testAuditKey(), time.Now, logger),
		notice.NewMaker(ring, time.Now, nil), time.Now, account.Config{}, logger)
	const initial = "ABCDEFGHJKLMNPQR"
	if _, err := accounts.SetInitialPassword(ctx, p.ID, initial); err != nil {
		t.Fatal(err)
	}
	code, _ := proofing.NewActivationCode()
	if err := st.PutOneTime(ctx, store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
		Subject: "person:" + strconv.FormatInt(int64(p.ID), 10), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	nodes := make([]string, 3)
	for i := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "serve", "--database", dsn, "--listen", addr)
		cmd.Env = append(os.Environ(), "PFORTE_DATA_KEYS="+key.Encode(), "PFORTE_LOG_LEVEL=error", auditKeyEnv(t),
			"PFORTE_HTTP_LOGIN_RATE_PER_IP=100000", "PFORTE_HTTP_LOGIN_BURST_PER_IP=100000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
			}
		})
		nodes[i] = "http://" + addr
		waitReady(t, nodes[i])
	}

	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	const pin, wrongPIN = "482915", "771903"
	if _, _, err := (&appclient.Client{BaseURL: nodes[0]}).Bind(ctx, phone, p.KVNR, initial, code, pin, "Testtelefon", "Go"); err != nil {
		t.Fatal(err)
	}

	// Sign 200 wrong-PIN answers first (each to its own challenge, from the
	// node it will be sent to), then fire them at once.
	const n = 200
	type attempt struct {
		node int
		body []byte
	}
	attempts := make([]attempt, n)
	// The wrong PIN's key is derived once: 200 derivations would outlast
	// the challenges' two minutes on a slow machine, and an expired
	// challenge is refused as a failed proof, counted by no one.
	wrongKey, err := phone.PINKey(wrongPIN)
	if err != nil {
		t.Fatal(err)
	}
	for i := range attempts {
		c := &appclient.Client{BaseURL: nodes[i%3]}
		ch, err := c.Challenge(ctx, appclient.PurposeLogin, phone.ID)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := phone.SignWithSeed(wrongKey.Seed(), ch, appclient.ContentHash(appclient.PurposeLogin, "", nil))
		if err != nil {
			t.Fatal(err)
		}
		attempts[i] = attempt{node: (i + 1) % 3, body: []byte(`{"device_id":"` + phone.ID + `","challenge_id":"` + ch.ID +
			`","method":"pin","device_signature":"` + appclient.B64(proof.DeviceSignature) + `","pin_signature":"` +
			appclient.B64(proof.PINSignature) + `"}`)}
	}
	var wrong, locked, busy, other atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, a := range attempts {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequestWithContext(ctx, "POST", nodes[a.node]+"/api/v1/app/sessions", bytes.NewReader(a.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				wrong.Add(1)
			case http.StatusLocked:
				locked.Add(1)
			case http.StatusTooManyRequests:
				busy.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	d, err := st.DeviceByID(ctx, store.DeviceID(phone.ID))
	if err != nil {
		t.Fatal(err)
	}
	if d.PINFailures != 3 || d.PINLockedAt.IsZero() || wrong.Load() != 2 || other.Load() != 0 ||
		locked.Load()+busy.Load() != n-2 {
		t.Errorf("3 nodes, %d parallel wrong PINs: failures %d, locked %v; answers: %d wrong, %d locked, %d busy, %d other",
			n, d.PINFailures, !d.PINLockedAt.IsZero(), wrong.Load(), locked.Load(), busy.Load(), other.Load())
	}
	for _, node := range nodes {
		_, err := (&appclient.Client{BaseURL: node}).Login(ctx, phone, pin, "pin")
		if !appclient.IsPINLocked(err) {
			t.Errorf("right PIN on %s after the lock: %v", node, err)
		}
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not become ready", base)
}
