package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

func auditLogFor(st *sqlstore.Store) *audit.Log {
	return audit.New(st, testAuditKey(), time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// testAuditKeyText is the audit key of the tests in this package.
var testAuditKeyText = audit.GenerateKeyText()

func testAuditKey() audit.Key {
	k, err := audit.ParseKey(testAuditKeyText)
	if err != nil {
		panic(err)
	}
	return k
}

// auditKeyEnv writes the test audit key to a file and returns the
// environment variable naming it.
func auditKeyEnv(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(path, []byte(testAuditKeyText+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return "PFORTE_AUDIT_KEY_FILE=" + path
}

func auditEvent(i int) audit.Event {
	return audit.Event{Actor: "system", Event: "test.event", Subject: "node", Details: map[string]any{"n": i}}
}

// unboundSeal seals plain as Pforte did before values were bound to their
// place: the package seal format with no caller context.
func unboundSeal(k seal.Key, plain string) store.Sealed {
	id, b64, _ := strings.Cut(k.Encode(), ":")
	secret, _ := base64.StdEncoding.DecodeString(b64)
	block, _ := aes.NewCipher(secret)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	aad := append([]byte("pforte-seal-v1\x01"), byte(len(id)))
	aad = append(aad, id...)
	return store.Sealed{KeyID: id, Ciphertext: aead.Seal(append([]byte{1}, nonce...), nonce, []byte(plain), aad)}
}

// serveLoopback serves the real graph on the SQLite database dsn on a
// loopback port, with the CLI's data keys, cheap password hashes and the
// given per-IP login limit, until the test ends; it returns the base URL.
func serveLoopback(t *testing.T, c cli, dsn string, rate float64, burst int) string {
	t.Helper()
	cfg := config.Default()
	cfg.Database = dsn
	cfg.DataKeys = strings.TrimPrefix(c.environ[0], "PFORTE_DATA_KEYS=")
	cfg.Audit.Key = testAuditKeyText
	cfg.Password.MemoryKiB, cfg.Password.Time = 8192, 1
	cfg.HTTP.LoginRatePerIP, cfg.HTTP.LoginBurstPerIP = rate, burst
	st, err := openStore(t.Context(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), st, ln, nil, nil)
		st.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
