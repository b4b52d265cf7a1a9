package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
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
