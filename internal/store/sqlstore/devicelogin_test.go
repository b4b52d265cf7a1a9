package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

// loginSetup stores a person with one binding and returns a good proof for
// it that starts a session.
func loginSetup(t *testing.T, s *sqlstore.Store) (store.PersonID, store.DeviceProof) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.UpsertPersons(ctx, []store.Person{{KVNR: "A000000001", FamilyName: "Müller", GivenNames: "Jürgen",
		BirthDate: "1970-03-14", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"), UpdatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PersonByKVNR(ctx, "A000000001")
	if err != nil {
		t.Fatal(err)
	}
	d := store.Device{ID: "D", PersonID: p.ID, DeviceKey: []byte{4, 1}, PINKey: []byte{9, 8}, KDF: "{}", Level: "substantial",
		Name: "Pixel", BoundAt: t0, UpdatedAt: t0}
	if err := s.AddDevice(ctx, d, func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	sess := store.Session{TokenHash: []byte("tok"), PersonID: p.ID, Kind: "app", Level: "substantial", AMR: []string{"hwk", "pin"},
		Origin: "device", OriginAt: t0, CreatedAt: t0, LastSeenAt: t0, IdleExpiresAt: t0.Add(30 * time.Minute), ExpiresAt: t0.Add(12 * time.Hour)}
	return p.ID, store.DeviceProof{Device: "D", ChallengeDigest: []byte("c1"),
		ChallengeExpires: t0.Add(2 * time.Minute), DeviceKey: d.DeviceKey, PINKey: d.PINKey, DeviceOK: true, PINOK: true, Limit: 3, Now: t0, Session: &sess}
}

// holdPerson begins a transaction on the writer that holds the person's
// row with lock (a row lock clause on PostgreSQL; SQLite's write
// transaction holds everything).
func holdPerson(t *testing.T, s *sqlstore.Store, id store.PersonID, lock string) *sql.Tx {
	t.Helper()
	tx, err := s.DB().BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dialect() != sqlstore.Postgres {
		lock = ""
	}
	var one int
	if err := tx.QueryRowContext(t.Context(), "SELECT 1 FROM persons WHERE id = $1"+lock, int64(id)).Scan(&one); err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitBriefly returns what done delivers within a moment, or nil: the call
// behind done is then taken to wait for the held transaction. (A slow
// machine that delivers late only makes the tests below weaker, never
// wrong.)
func waitBriefly[T any](done <-chan T) *T {
	select {
	case v := <-done:
		return &v
	case <-time.After(300 * time.Millisecond):
		return nil
	}
}

// TestLoginWaitsForALockInFlight: staff lock the person in a transaction
// that has not committed yet; an app login meanwhile waits for it and then
// sees the lock, so it stores no session that the lock's end of all
// sessions would miss.
func TestLoginWaitsForALockInFlight(t *testing.T) {
	sqltest.Backends(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		pid, proof := loginSetup(t, s)
		tx := holdPerson(t, s, pid, " FOR UPDATE") // as LockPerson does
		if _, err := tx.ExecContext(ctx, "INSERT INTO person_locks (person_id, locked_at, locked_by) VALUES ($1, $2, $3)",
			int64(pid), t0.UnixMicro(), "staff:1"); err != nil {
			t.Fatal(err)
		}
		type result struct {
			res store.ProofResult
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := s.DecideDeviceProof(context.WithoutCancel(ctx), proof)
			done <- result{res, err}
		}()
		early := waitBriefly(done)
		if early != nil {
			t.Errorf("the login did not wait for the lock in flight: %+v", *early)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if early == nil {
			r := <-done
			early = &r
		}
		r := *early
		if r.err != nil || r.res.Outcome != store.ProofPersonLocked {
			t.Errorf("login beside a lock in flight = %v, %v; want ProofPersonLocked", r.res.Outcome, r.err)
		}
		if live, err := s.PersonSessions(ctx, pid, t0); err != nil || len(live) != 0 {
			t.Errorf("%d live sessions (%v), want none", len(live), err)
		}
	})
}

// TestLockWaitsForALoginInFlight: an app login holds the person's row
// (FOR KEY SHARE) while it reads the lock and stores its session; a staff
// lock meanwhile waits until the login committed, so the session exists
// when the lock ends the person's sessions.
func TestLockWaitsForALoginInFlight(t *testing.T) {
	sqltest.Backends(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		pid, _ := loginSetup(t, s)
		tx := holdPerson(t, s, pid, " FOR KEY SHARE") // as DecideDeviceProof does
		done := make(chan error, 1)
		go func() {
			done <- s.LockPerson(context.WithoutCancel(ctx), store.PersonLock{PersonID: pid, LockedAt: t0, LockedBy: "staff:1"})
		}()
		early := waitBriefly(done)
		if early != nil {
			t.Errorf("the lock did not wait for the login in flight: %v", *early)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if early == nil {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	})
}
