package device_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// BenchmarkAppLogin measures full app logins — challenge issued and stored,
// both signatures made by the reference client (biometric path: no KDF) and
// verified by the server, the challenge consumed, a PIN attempt reserved and
// released, a session created — with 16 concurrent clients, and reports
// logins/s and the p50/p99 latency of one login.
func BenchmarkAppLogin(b *testing.B) {
	for _, backend := range []string{"sqlite", "sqlite-sync-normal", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var st store.Store
			switch backend {
			case "sqlite":
				st = sqltest.SQLite(b)
			case "sqlite-sync-normal":
				st = sqltest.OpenWith(b, "sqlite:"+filepath.Join(b.TempDir(), "p.db"), sqlstore.Options{SQLiteSynchronous: "normal"})
			default:
				st = sqltest.Postgres(b)
			}
			benchLogins(b, st)
		})
	}
}

func benchLogins(b *testing.B, st store.Store) {
	const clients = 16
	fixtureMaxDevices = clients
	defer func() { fixtureMaxDevices = 0 }()
	f := newFixture(b, st)
	// One phone per client: a phone logs in one login at a time.
	phones := make([]*appclient.Device, clients)
	seeds := make([][]byte, clients)
	for i := range phones {
		phones[i] = f.bind(b)
		k, err := phones[i].PINKey(pin)
		if err != nil {
			b.Fatal(err)
		}
		seeds[i] = k.Seed()
	}
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	per := b.N/clients + 1
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		phone, seed, dev := phones[c], seeds[c], store.DeviceID(phones[c].ID)
		wg.Go(func() {
			local := make([]time.Duration, 0, per)
			for range per {
				t0 := time.Now()
				ch, err := f.svc.NewChallenge(b.Context(), device.PurposeLogin, dev)
				if err != nil {
					b.Error(err)
					return
				}
				p, err := phone.SignWithSeed(seed, appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: ch.Purpose, ExpiresAt: ch.ExpiresAt},
					appclient.ContentHash(device.PurposeLogin, "", nil))
				if err != nil {
					b.Error(err)
					return
				}
				if _, _, err := f.svc.Login(b.Context(), dev, proofOf(ch.ID, p), "fpt", "", ""); err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lats)
	if len(lats) > 0 {
		b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "logins/s")
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkVerifyRaw is the raw rate of what every app login verifies: one
// P-256 signature and one Ed25519 signature, on 2 goroutines.
func BenchmarkVerifyRaw(b *testing.B) {
	dk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, pk, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("pforte benchmark message")
	h := sha256.Sum256(msg)
	r, s, _ := ecdsa.Sign(rand.Reader, dk, h[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	psig := ed25519.Sign(pk, msg)
	devPub := appclient.EncodeDevicePublicKey(&dk.PublicKey)
	b.SetParallelism(1)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !appclient.VerifyDeviceSignature(devPub, msg, sig) || !appclient.VerifyPINSignature(pub, msg, psig) {
				b.Error("verify failed")
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifies/s")
}
