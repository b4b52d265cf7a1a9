// Package store owns the persisted types of Pforte and the contract every storage
// backend keeps. It knows nothing about HTTP, cryptography or business rules: domain
// packages compute hashes, ciphertexts and decisions; the store keeps them and makes
// the guarantees listed on each method.
//
// The contract's central guarantees, which later packages depend on:
//
//   - Updaters (UpdateCounter, UpdatePerson) apply their function atomically: no
//     concurrent update on any node can interleave, so every increment is kept.
//   - A one-time value (ConsumeOneTime) is consumed exactly once, however many
//     consumers race for it, and never after it expired.
//   - Audit appends see the chain head under a lock, so appends from many goroutines
//     and many processes form one unbroken chain.
//
// Every method is covered by the conformance suite in package storetest, which runs
// against SQLite always and against PostgreSQL when PFORTE_TEST_POSTGRES names one.
// The only implementation lives in package sqlstore.
package store

import (
	"context"
	"errors"
)

// ErrNotFound reports that the requested record does not exist (or, for one-time
// values, is no longer usable).
var ErrNotFound = errors.New("store: not found")

// ErrConflict reports that a write collided with an existing record, for example a
// duplicate key.
var ErrConflict = errors.New("store: conflict")

// Store is the full storage contract. Domain packages do not take a Store: each
// declares the few methods it needs as its own small interface.
type Store interface {
	Persons
	Accounts
	Sessions
	Letters
	Identifications
	Devices
	DeviceProofs
	UsedChallenges
	Approvals
	Notices
	Counters
	OneTimes
	AuditChain
	SigningKeys
	OIDC
	Upgrades
	LoginEvents
	StaffAccounts
	StaffSessions
	StaffRequests
	StaffKeys
	PersonLocks
	PersonSearch
	AuditSearch
	Mailbox
	AssistantConversations
	Emails
	Representations
	PasswordLogins
	Intakes
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database connections.
	Close() error
}
