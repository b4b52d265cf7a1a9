package device

import (
	"testing"
	"time"

	"github.com/pforte/pforte/internal/seal"
)

// FuzzChallengeOpen: no input makes open panic, and the only id it accepts
// is the one issued (for its purpose and binding, before its expiry).
func FuzzChallengeOpen(f *testing.F) {
	k, err := seal.GenerateKey("f1")
	if err != nil {
		f.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		f.Fatal(err)
	}
	keys := challengeKeys{ring.MACKeys(challengeKeyInfo)}
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	issued := keys.issue(PurposeLogin, "dev_1", "", now.Add(2*time.Minute))
	if _, err := keys.open(issued.ID, PurposeLogin, "dev_1", "", now); err != nil {
		f.Fatalf("the issued challenge: %v", err)
	}
	f.Add(issued.ID)
	f.Add("ch_")
	f.Add("")
	f.Add(issued.ID[:len(issued.ID)-2] + "==")
	f.Fuzz(func(t *testing.T, id string) {
		ch, err := keys.open(id, PurposeLogin, "dev_1", "", now)
		if err == nil && (id != issued.ID || string(ch.nonce) != string(issued.Nonce)) {
			t.Errorf("open accepted %q, which was not issued", id)
		}
	})
}
