package store

import (
	"context"
	"time"
)

// DeviceID identifies a device binding.
type DeviceID string

// Device is a phone bound to a person: the possession factor (device key) and the
// knowledge factor (the Freigabe-PIN's public key), with the PIN's attempt
// counter.
type Device struct {
	ID          DeviceID
	PersonID    PersonID
	DeviceKey   []byte // P-256 public key, uncompressed SEC1 point
	PINKey      []byte // Ed25519 public key
	KDF         string // the PIN key's KDF parameters as JSON
	Level       string // "substantial" (letter) or "high" (eID)
	Name        string
	Model       string
	BoundAt     time.Time
	BoundIP     string
	PINFailures int       // wrong PIN proofs (and reserved attempts) in a row
	PINLockedAt time.Time // zero while the PIN is usable
	RemovedAt   time.Time // zero while bound
	UpdatedAt   time.Time
}

// Devices is the contract for device bindings.
type Devices interface {
	// AddDevice stores a new binding, holding a lock on the person: it
	// counts the person's bound devices, calls check with the count, and
	// stores d only if check returns nil. ErrConflict if the id exists.
	// The notices are queued in the same transaction when d is stored.
	AddDevice(ctx context.Context, d Device, check func(bound int) error, notices ...Notice) error
	// DeviceByID returns the binding (also a removed one), or ErrNotFound.
	DeviceByID(ctx context.Context, id DeviceID) (Device, error)
	// PersonDevices returns the person's bound (not removed) devices, oldest
	// first.
	PersonDevices(ctx context.Context, id PersonID) ([]Device, error)
	// UpdateDevice applies fn to the binding atomically (rename, new PIN
	// key, unlock, removal). ID and PersonID cannot change. fn may run more
	// than once. ErrNotFound for an unknown binding. The notices are queued
	// in the same transaction when the update is written.
	UpdateDevice(ctx context.Context, id DeviceID, fn func(d *Device) error, notices ...Notice) (Device, error)
}
