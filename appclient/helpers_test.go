package appclient

import (
	"bytes"
	"crypto/ed25519"
	"sync"
	"time"
)

// testKDF keeps Argon2id cheap in tests: the smallest parameters Validate
// allows. Only the test vector uses the production parameters.
var testKDF = KDFParams{Alg: KDFArgon2id, Time: 1, Memory: MinKDFMemory, Threads: 1}

const testPIN = "271828"

// testDevice returns a device with testKDF and the PIN key of testPIN, derived
// once per test binary.
var testDevice = sync.OnceValues(func() (*Device, ed25519.PrivateKey) {
	d, err := NewDevice(nil)
	if err != nil {
		panic(err)
	}
	d.KDF = testKDF
	k, err := d.PINKey(testPIN)
	if err != nil {
		panic(err)
	}
	return d, k
})

// seq returns n bytes counting up from first.
func seq(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

func testChallenge(purpose string) Challenge {
	return Challenge{
		ID:        "ch_" + purpose,
		Nonce:     bytes.Repeat([]byte{0x5a}, 16),
		Purpose:   purpose,
		ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}
