package egk_test

import (
	"crypto/sha256"
	"testing"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/egk/testca"
)

// BenchmarkPairingVerification measures what the server computes for each
// pairing besides the database and the revocation source: the card
// certificate's DER, profile and chain (one brainpoolP256r1 signature of
// the CA) and the card's brainpoolP256r1 signature of the statement. It
// reports verifications per second on one core.
func BenchmarkPairingVerification(b *testing.B) {
	ca := newCA(b)
	v, _ := crlVerifier(b, ca)
	card := issue(b, ca, testca.CardSpec{})
	sc, err := card.Software()
	if err != nil {
		b.Fatal(err)
	}
	statement := appclient.PairingStatement{ChallengeID: "ch_bench", Nonce: make([]byte, 32),
		ContentHash: sha256.Sum256([]byte("content"))}.Marshal()
	sig, err := sc.SignHash(sha256.Sum256(statement))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		c, err := v.Verify(card.Cert)
		if err != nil {
			b.Fatal(err)
		}
		if !appclient.VerifyCardSignature(c.PublicKey, statement, sig) {
			b.Fatal("the statement's signature does not verify")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
