package profile_test

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// BenchmarkApprovalRoundTrip measures the round trip of a personal-data change
// with 1 and with 100 persons at once, each with their own phone: the change is requested,
// the phone learns of it through its watch (the push channel's source), signs
// and approves it, which carries the change out; the person's data then shows
// it (the figure approve-to-visible: from the phone's approve to the change
// being readable, as GET /api/v1/me reads it). It reports the
// p50 and p99 latency of one round trip and round trips per second.
func BenchmarkApprovalRoundTrip(b *testing.B) {
	for _, backend := range []string{"sqlite", "sqlite-sync-normal", "postgres"} {
		for _, persons := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/persons=%d", backend, persons), func(b *testing.B) {
				var st store.Store
				switch backend {
				case "sqlite":
					st = sqltest.SQLite(b)
				case "sqlite-sync-normal":
					st = sqltest.OpenWith(b, "sqlite:"+b.TempDir()+"/p.db", sqlstore.Options{SQLiteSynchronous: "normal"})
				default:
					st = sqltest.Postgres(b)
				}
				benchRoundTrips(b, st, persons)
			})
		}
	}
}

func benchRoundTrips(b *testing.B, st store.Store, persons int) {
	ctx := b.Context()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	k, _ := seal.GenerateKey("b1")
	ring, _ := seal.NewKeyring(k)
	aud := audit.New(st, audit.GenerateKey(), time.Now, logger)
	n := notice.NewMaker(ring, time.Now, nil)
	devices := device.New(st, nil, n, session.NewManager(st, session.Config{}, time.Now), aud, nil, ring, time.Now, device.Config{}, logger)
	approvals := approval.New(st, ring, devices, aud, time.Now, approval.Config{}, profile.Executors(ring, n), nil, logger)
	svc := profile.New(st, approvals, devices, ring)

	batch := make([]store.Person, persons)
	for i := range batch {
		prefix := fmt.Sprintf("B%08d", i)
		d, _ := registry.KVNRCheckDigit(prefix)
		batch[i] = store.Person{KVNR: prefix + string(d), FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970",
			Street: "Hauptstraße", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte{byte(i)}, UpdatedAt: time.Now()}
	}
	if _, err := st.UpsertPersons(ctx, batch); err != nil {
		b.Fatal(err)
	}
	type client struct {
		person store.PersonID
		phone  *appclient.Device
		seed   []byte
	}
	kdf := appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	kdfJSON, _ := kdf.MarshalJSON()
	clients := make([]client, persons)
	for i := range clients {
		p, _ := st.PersonByKVNR(ctx, batch[i].KVNR)
		phone, _ := appclient.NewDevice(nil)
		phone.KDF = kdf
		pinKey, err := phone.PINKey(pin)
		if err != nil {
			b.Fatal(err)
		}
		id := fmt.Sprintf("dev_bench_%d", i)
		if err := st.AddDevice(ctx, store.Device{ID: store.DeviceID(id), PersonID: p.ID, DeviceKey: phone.PublicKey(),
			PINKey: pinKey.Public().(ed25519.PublicKey), KDF: string(kdfJSON), Level: "substantial", Name: "Bank", BoundAt: time.Now(),
			UpdatedAt: time.Now()}, func(int) error { return nil }); err != nil {
			b.Fatal(err)
		}
		phone.ID = id
		clients[i] = client{person: p.ID, phone: phone, seed: pinKey.Seed()}
	}

	var (
		mu      sync.Mutex
		lats    []time.Duration
		visible []time.Duration // from the phone's approve to the change being readable
		wg      sync.WaitGroup
	)
	rounds := max(b.N/persons, 1)
	b.ResetTimer()
	start := time.Now()
	for _, c := range clients {
		wg.Go(func() {
			watch := approvals.Watch(ctx, c.person, time.Second)
			for r := range rounds {
				t0 := time.Now()
				a, err := svc.RequestAddressChange(ctx, c.person, profile.Address{Street: "Lindenallee", HouseNumber: fmt.Sprint(r + 1),
					PostalCode: "04109", City: "Leipzig"}, "bench", session.LevelSubstantial)
				if err != nil {
					b.Error(err)
					return
				}
				var seen store.Approval
				for x := range watch {
					if x.ID == a.ID && x.Status == store.ApprovalPending {
						seen = x
						break
					}
				}
				ch, err := devices.NewChallengeFor(ctx, device.PurposeApprove, store.DeviceID(c.phone.ID), seen.ID)
				if err != nil {
					b.Error(err)
					return
				}
				p, err := c.phone.SignWithSeed(c.seed, appclient.Challenge{ID: ch.ID, Nonce: ch.Nonce, Purpose: ch.Purpose, ExpiresAt: ch.ExpiresAt},
					appclient.ContentHash(seen.Action, seen.Text, seen.Data))
				if err != nil {
					b.Error(err)
					return
				}
				t1 := time.Now()
				if _, err := approvals.Approve(ctx, seen.ID, store.DeviceID(c.phone.ID), device.Proof{ChallengeID: ch.ID,
					DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}, "fpt", 0, ""); err != nil {
					b.Error(err)
					return
				}
				// What GET /api/v1/me and the personal data page read.
				v, err := svc.View(ctx, c.person)
				if err != nil || v.Address.HouseNumber != fmt.Sprint(r+1) {
					b.Errorf("after approve the address is %+v (%v), want house number %d", v.Address, err, r+1)
					return
				}
				seenAt := time.Since(t1)
				done, err := svc.Status(ctx, a.ID, c.person)
				if err != nil || done.UsedAt.IsZero() {
					b.Errorf("status %+v, %v", done, err)
					return
				}
				mu.Lock()
				lats = append(lats, time.Since(t0))
				visible = append(visible, seenAt)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lats)
	if len(lats) > 0 {
		b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "roundtrips/s")
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
		slices.Sort(visible)
		b.ReportMetric(float64(visible[len(visible)/2].Microseconds())/1000, "approve-to-visible-p50-ms")
		b.ReportMetric(float64(visible[len(visible)*99/100].Microseconds())/1000, "approve-to-visible-p99-ms")
	}
}
