package load

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pforte/pforte/appclient"
)

// MaxVerifyWorkers bounds the goroutines of MeasureVerify.
const MaxVerifyWorkers = 1000

// verifyMessage is what MeasureVerify's signatures cover: a fixed string of
// the length of a signed challenge, as the cost does not depend on it.
const verifyMessage = "pforte load verify: one challenge, one content hash...."

// MeasureVerify runs workers goroutines verifying, for d, what every app
// login verifies: a P-256 device signature and an Ed25519 PIN signature,
// with the functions the server uses (appclient.VerifyDeviceSignature,
// appclient.VerifyPINSignature). It returns the pairs verified within d.
func MeasureVerify(ctx context.Context, workers int, d time.Duration) (int64, time.Duration, error) {
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, 0, err
	}
	pub, pk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return 0, 0, err
	}
	msg := []byte(verifyMessage)
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, dk, h[:])
	if err != nil {
		return 0, 0, err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	psig := ed25519.Sign(pk, msg)
	devPub := appclient.EncodeDevicePublicKey(&dk.PublicKey)
	if !appclient.VerifyDeviceSignature(devPub, msg, sig) || !appclient.VerifyPINSignature(pub, msg, psig) {
		return 0, 0, errors.New("load verify: the reference signatures do not verify")
	}

	start := time.Now()
	deadline := start.Add(d)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var done atomic.Int64
	var bad atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && done.Load() < DefaultRequests*10 {
				if !appclient.VerifyDeviceSignature(devPub, msg, sig) || !appclient.VerifyPINSignature(pub, msg, psig) {
					bad.Store(true)
					return
				}
				if time.Now().Before(deadline) {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() {
		return 0, 0, fmt.Errorf("load verify: a signature failed to verify")
	}
	return done.Load(), min(time.Since(start), d), nil
}
