package password

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestIDKeyRFCVector checks the argon2id test vector of RFC 9106 (5.3),
// which uses a secret and associated data.
func TestIDKeyRFCVector(t *testing.T) {
	var w workspace
	got := idKey(&w, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 8),
		bytes.Repeat([]byte{4}, 12), 3, 32, 4, 32)
	want := "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
	if hex.EncodeToString(got) != want {
		t.Fatalf("tag = %x, want %s", got, want)
	}
}

// TestIDKeyMatchesXCrypto compares idKey with golang.org/x/crypto/argon2 on
// random inputs: memory sizes that are and are not whole segments, one to
// eight lanes, keys shorter and longer than one BLAKE2b output, and one
// workspace reused throughout, so that every hash starts on memory the one
// before it left behind (larger and smaller).
func TestIDKeyMatchesXCrypto(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var w workspace
	n := 120
	if testing.Short() {
		n = 30
	}
	for i := range n {
		lanes := uint8(1 + rng.IntN(8))
		mem := uint32(8*int(lanes) + rng.IntN(600))
		passes := uint32(1 + rng.IntN(3))
		keyLen := uint32(4 + rng.IntN(200))
		pw := make([]byte, rng.IntN(80))
		salt := make([]byte, 8+rng.IntN(40))
		for _, b := range [][]byte{pw, salt} {
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
		}
		got := idKey(&w, pw, salt, nil, nil, passes, mem, lanes, keyLen)
		want := argon2.IDKey(pw, salt, passes, mem, lanes, keyLen)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (t=%d m=%d p=%d len=%d): %x, want %x", i, passes, mem, lanes, keyLen, got, want)
		}
	}
}

// TestIDKeyDefaultParams compares one hash with the default parameters, the
// second on the memory of the first.
func TestIDKeyDefaultParams(t *testing.T) {
	d := DefaultParams()
	var w workspace
	for _, pw := range []string{"Kx7!mehrWald92", "ein anderes Passwort"} {
		salt := []byte("0123456789abcdef")
		got := idKey(&w, []byte(pw), salt, nil, nil, d.Time, d.Memory, d.Threads, d.KeyLen)
		if want := argon2.IDKey([]byte(pw), salt, d.Time, d.Memory, d.Threads, d.KeyLen); !bytes.Equal(got, want) {
			t.Fatalf("%q: %x, want %x", pw, got, want)
		}
	}
}

// TestHasherKeepsOneWorkspacePerSlot checks that hashing reuses the memory of
// its slots: after many hashes from more goroutines than slots, no more
// workspaces exist than slots, and hashes made concurrently still verify.
func TestHasherKeepsOneWorkspacePerSlot(t *testing.T) {
	h, err := NewHasher(Params{Memory: minMemory, Time: 1}, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 3 {
				pw := string(rune('a'+g)) + string(rune('0'+i)) + "-Wald92!"
				stored, err := h.Hash(t.Context(), pw)
				if err != nil {
					t.Error(err)
					return
				}
				if ok, _, err := h.Verify(t.Context(), pw, stored); !ok || err != nil {
					t.Errorf("%q does not verify: %v %v", pw, ok, err)
				}
				if ok, _, _ := h.Verify(t.Context(), pw+"x", stored); ok {
					t.Errorf("%q verifies with a wrong password", pw)
				}
			}
		})
	}
	wg.Wait()
	if n := h.pool.workspacesMade.Load(); n > 2 {
		t.Fatalf("%d workspaces made for 2 slots", n)
	}
}

// BenchmarkIDKey compares idKey with golang.org/x/crypto/argon2 at the
// default parameters, one and two goroutines at once.
func BenchmarkIDKey(b *testing.B) {
	d := DefaultParams()
	pw, salt := []byte("Kx7!mehrWald92"), []byte("0123456789abcdef")
	for _, par := range []int{1, 2} {
		b.Run("pforte/"+string(rune('0'+par)), func(b *testing.B) {
			runParallel(b, par, func(w *workspace) { idKey(w, pw, salt, nil, nil, d.Time, d.Memory, d.Threads, d.KeyLen) })
		})
		b.Run("x-crypto/"+string(rune('0'+par)), func(b *testing.B) {
			runParallel(b, par, func(*workspace) { argon2.IDKey(pw, salt, d.Time, d.Memory, d.Threads, d.KeyLen) })
		})
	}
}

// runParallel runs b.N calls of f in par goroutines, each with its own
// workspace, and reports hashes per second.
func runParallel(b *testing.B, par int, f func(*workspace)) {
	var mu sync.Mutex
	left := b.N
	var wg sync.WaitGroup
	b.ResetTimer()
	for range par {
		wg.Go(func() {
			var w workspace
			for {
				mu.Lock()
				if left == 0 {
					mu.Unlock()
					return
				}
				left--
				mu.Unlock()
				f(&w)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
