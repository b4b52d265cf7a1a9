package storetest

import (
	"errors"
	"fmt"
	"testing"

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
	if _, err := s.UpdateDevice(ctx, "nope", func(*store.Device) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of an unknown device = %v", err)
	}
}
