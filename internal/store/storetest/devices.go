package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func device(id string, pid store.PersonID, bound int) store.Device {
	return store.Device{ID: store.DeviceID(id), PersonID: pid, DeviceKey: []byte{4, 1, 2, 3}, PINKey: []byte{9, 8, 7},
		KDF: `{"alg":"argon2id","t":3,"m":65536,"p":1}`, Level: "substantial", Name: "Pixel von Jürgen", Model: "Pixel 8",
		BoundAt: at(bound), BoundIP: "192.0.2.9", UpdatedAt: at(bound)}
}

func testDevices(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	max3 := func(bound int) error {
		if bound >= 3 {
			return errors.New("too many devices")
		}
		return nil
	}
	for i := range 3 {
		if err := s.AddDevice(ctx, device(fmt.Sprintf("D%d", i), pid, i), max3); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddDevice(ctx, device("D9", pid, 9), max3); err == nil || err.Error() != "too many devices" {
		t.Errorf("fourth device = %v", err)
	}
	if err := s.AddDevice(ctx, device("D0", pid, 9), func(int) error { return nil }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id = %v, want ErrConflict", err)
	}
	if err := s.AddDevice(ctx, device("DX", 4711, 9), max3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown person = %v, want ErrNotFound", err)
	}
	got, err := s.DeviceByID(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(device("D1", pid, 1), got); diff != "" {
		t.Errorf("DeviceByID (-want +got):\n%s", diff)
	}
	if _, err := s.DeviceByID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown device = %v", err)
	}
	removed, err := s.UpdateDevice(ctx, "D1", func(d *store.Device) error {
		d.RemovedAt, d.UpdatedAt = at(10), at(10)
		d.PersonID = 4711 // ignored
		return nil
	})
	if err != nil || removed.PersonID != pid {
		t.Fatalf("remove = %+v, %v", removed, err)
	}
	list, err := s.PersonDevices(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	var ids []store.DeviceID
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	if diff := cmp.Diff([]store.DeviceID{"D0", "D2"}, ids); diff != "" {
		t.Errorf("PersonDevices (-want +got):\n%s", diff)
	}
	if err := s.AddDevice(ctx, device("D3", pid, 11), max3); err != nil {
		t.Errorf("a removed device still counts: %v", err)
	}
	if _, err := s.ReservePINAttempt(ctx, "D1", 3, at(12)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reserve on a removed device = %v, want ErrConflict", err)
	}
	if _, err := s.ReservePINAttempt(ctx, "nope", 3, at(12)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reserve on an unknown device = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateDevice(ctx, "nope", func(*store.Device) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of an unknown device = %v", err)
	}
}

func testPINAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	pid := seedPerson(t, s, 1)
	if err := s.AddDevice(ctx, device("D", pid, 0), func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := s.ReservePINAttempt(ctx, "D", 3, at(1)); err != nil || n != want {
			t.Errorf("reservation %d = %d, %v", want, n, err)
		}
	}
	if err := s.ReleasePINAttempts(ctx, "D", at(2)); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := s.ReservePINAttempt(ctx, "D", 3, at(3)); err != nil || n != want {
			t.Errorf("reservation %d after release = %d, %v", want, n, err)
		}
	}
	if _, err := s.ReservePINAttempt(ctx, "D", 3, at(4)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("fourth reservation = %v, want ErrConflict", err)
	}
	locked, err := s.LockPINIfExhausted(ctx, "D", 3, at(5))
	if err != nil || !locked {
		t.Fatalf("lock = %v, %v", locked, err)
	}
	if again, _ := s.LockPINIfExhausted(ctx, "D", 3, at(6)); again {
		t.Error("locked twice")
	}
	// A locked PIN stays locked: releasing does not reset it, reserving fails.
	if err := s.ReleasePINAttempts(ctx, "D", at(7)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReservePINAttempt(ctx, "D", 5, at(8)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reserve on a locked PIN = %v, want ErrConflict", err)
	}
	d, _ := s.DeviceByID(ctx, "D")
	if d.PINFailures != 3 || !d.PINLockedAt.Equal(at(5)) {
		t.Errorf("after lock: failures %d, locked at %v", d.PINFailures, d.PINLockedAt)
	}
	// Unlocking (a new identity proof and a new PIN) is an update.
	if _, err := s.UpdateDevice(ctx, "D", func(d *store.Device) error {
		d.PINKey, d.PINFailures, d.PINLockedAt, d.UpdatedAt = []byte{1}, 0, time.Time{}, at(9)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ReservePINAttempt(ctx, "D", 3, at(10)); err != nil || n != 1 {
		t.Errorf("after unlock: %d, %v", n, err)
	}
}

// testPINAttemptsParallel: 200 parallel reservations against a limit of 3 —
// exactly 3 succeed.
func testPINAttemptsParallel(t *testing.T, s store.Store) {
	pid := seedPerson(t, s, 1)
	if err := s.AddDevice(t.Context(), device("D", pid, 0), func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			_, err := s.ReservePINAttempt(t.Context(), "D", 3, at(1))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 3 || refused.Load() != 197 {
		t.Errorf("200 parallel reservations, limit 3: %d reserved, %d refused", ok.Load(), refused.Load())
	}
}
