package store

import (
	"context"
	"time"
)

// DeviceProof is an app's answer to a challenge (package device), to be
// decided in one write transaction. The caller checks the challenge and
// both signatures before it (they are the slow part and need no lock),
// against the keys it read and the challenge's nonce; the store then
// decides what they count.
type DeviceProof struct {
	Device DeviceID
	// ChallengeDigest names the challenge the proof answers. Challenges
	// are self-contained (package device checks their MAC, purpose,
	// binding and expiry before); the store only records their single use
	// (UsedChallenges) until ChallengeExpires. The challenge is used up
	// whatever the outcome, and the proof counts only when it was unused.
	ChallengeDigest  []byte
	ChallengeExpires time.Time
	// DeviceKey and PINKey are the keys the signatures were checked with:
	// the proof counts only while the binding still has both (a PIN change
	// in between voids it). DeviceOK and PINOK are the two verdicts.
	DeviceKey, PINKey []byte
	DeviceOK, PINOK   bool
	// Limit is the number of wrong PIN proofs in a row that locks the PIN.
	Limit int
	Now   time.Time
	// Session, when set, is stored with a good PIN proof, unless staff
	// locked the person's access (PersonLocks): the lock is read in the
	// same transaction, which LockPerson cannot pass, so no session is
	// stored after a lock.
	Session *Session
	// History, when set, is the person's sign-in history line, stored with
	// Outcome "ok" with the session, "failed" with a counted wrong PIN and
	// "locked" with the wrong PIN that locked it (nothing otherwise). The
	// store sets Outcome; At is the session's CreatedAt or Now.
	History *LoginEvent
	// LockNotices are queued when, and only when, this proof locks the PIN.
	LockNotices []Notice
}

// ProofOutcome is what DecideDeviceProof decided.
type ProofOutcome int

// The outcomes. Only ProofWrongPIN and ProofLockedNow count an attempt.
const (
	// ProofRefused: the challenge (used before), the binding (unknown, removed, keys changed) or the
	// device signature did not fit. Nothing counted.
	ProofRefused ProofOutcome = iota
	// ProofPINLocked: the binding's PIN was locked already. Nothing counted.
	ProofPINLocked
	// ProofAccepted: the PIN proof was good; the failures are reset and the
	// session, if any, is stored with its history line.
	ProofAccepted
	// ProofPersonLocked: the PIN proof was good and the failures are reset,
	// but staff locked the person's access: no session is stored.
	ProofPersonLocked
	// ProofWrongPIN: a wrong PIN proof, counted (ProofResult.Failures).
	ProofWrongPIN
	// ProofLockedNow: a wrong PIN proof that reached the limit: the PIN is
	// locked and LockNotices are queued.
	ProofLockedNow
)

// ProofResult is the decision and the binding as the transaction left it
// (zero for ProofRefused).
type ProofResult struct {
	Outcome  ProofOutcome
	Device   Device
	Failures int // wrong PIN proofs in a row now counted
}

// DeviceProofs is the contract for deciding app authentications.
type DeviceProofs interface {
	// DecideDeviceProof uses up the challenge and decides p in one write
	// transaction, holding the binding's lock: of any number of parallel
	// proofs on any number of nodes, at most Limit wrong PIN proofs in a row
	// are counted and answered as such before the PIN is locked, and a good
	// one resets the count. Nothing of the decision is visible before the
	// transaction commits. Errors are failures of the store only.
	DecideDeviceProof(ctx context.Context, p DeviceProof) (ProofResult, error)
}

// UsedChallenges records the single use of the app's challenges. A challenge
// is self-contained (package device authenticates it with a MAC) and stored
// nowhere while it is open; only the digest of one that was answered is kept,
// until it expires. DeleteOneTimesBefore removes the expired ones.
type UsedChallenges interface {
	// UseChallenge records the challenge with digest as used until
	// expiresAt. ErrConflict when it was used already: of any number of
	// concurrent callers on any number of processes exactly one succeeds.
	UseChallenge(ctx context.Context, digest []byte, expiresAt time.Time) error
	// ChallengeUsed reports whether the challenge with digest was used.
	ChallengeUsed(ctx context.Context, digest []byte) (bool, error)
}
