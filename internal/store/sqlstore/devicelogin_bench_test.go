package sqlstore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// BenchmarkDecideProof is the decision transaction of one app login alone
// (challenge consumed, binding held, session and history line stored), one
// after another on SQLite with synchronous=normal: the store's share of a
// login without the fsync.
func BenchmarkDecideProof(b *testing.B) {
	s := sqltest.OpenWith(b, "sqlite:"+filepath.Join(b.TempDir(), "p.db"), sqlstore.Options{SQLiteSynchronous: "normal"})
	ctx := b.Context()
	if _, err := s.UpsertPersons(ctx, []store.Person{{KVNR: "A000000001", FamilyName: "M", GivenNames: "J",
		BirthDate: "1970-03-14", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: t0}}); err != nil {
		b.Fatal(err)
	}
	p, err := s.PersonByKVNR(ctx, "A000000001")
	if err != nil {
		b.Fatal(err)
	}
	d := store.Device{ID: "D", PersonID: p.ID, DeviceKey: []byte{4, 1}, PINKey: []byte{9, 8}, KDF: "{}", Level: "substantial", Name: "Pixel", BoundAt: t0, UpdatedAt: t0}
	if err := s.AddDevice(ctx, d, func(int) error { return nil }); err != nil {
		b.Fatal(err)
	}
	proofs := make([]store.DeviceProof, b.N)
	for i := range proofs {
		dig := fmt.Appendf(nil, "c%d", i)
		sess := store.Session{TokenHash: fmt.Appendf(nil, "tok%d", i), PersonID: p.ID, Kind: "app", Level: "substantial", AMR: []string{"hwk", "pin"},
			Origin: "device", OriginAt: t0, CreatedAt: t0, LastSeenAt: t0, IdleExpiresAt: t0.Add(30 * time.Minute), ExpiresAt: t0.Add(12 * time.Hour)}
		proofs[i] = store.DeviceProof{Device: "D", ChallengeDigest: dig, ChallengeExpires: t0.Add(time.Hour),
			DeviceKey: d.DeviceKey, PINKey: d.PINKey, DeviceOK: true, PINOK: true, Limit: 3, Now: t0, Session: &sess,
			History: &store.LoginEvent{PersonID: p.ID, Kind: "app", Method: "device", DeviceName: "Pixel"}}
	}
	b.ResetTimer()
	for i := range b.N {
		if res, err := s.DecideDeviceProof(ctx, proofs[i]); err != nil || res.Outcome != store.ProofAccepted {
			b.Fatal(res.Outcome, err)
		}
	}
}
