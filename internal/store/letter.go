package store

import (
	"context"
	"time"
)

// LetterStatus is where a letter is on its way to the person.
//
//	review ──(staff approves)──▶ queued ──▶ handed_over ──▶ returned
//	   │                           │
//	   └──────────▶ superseded ◀───┘   (a newer letter of the same kind)
type LetterStatus string

// The letter states.
const (
	LetterReview     LetterStatus = "review"      // address unverified: waits for staff
	LetterQueued     LetterStatus = "queued"      // waiting for the next print batch
	LetterHandedOver LetterStatus = "handed_over" // in a batch given to the print service
	LetterReturned   LetterStatus = "returned"    // came back undeliverable; codes void
	LetterSuperseded LetterStatus = "superseded"  // a newer letter replaced it; codes void
	LetterRejected   LetterStatus = "rejected"    // staff refused the letter in review; codes void
)

// Letter is one letter Pforte sends. The secrets it prints (an initial password,
// an activation code) are kept sealed only until the letter is handed over to the
// print service, then wiped.
type Letter struct {
	ID       string
	PersonID PersonID
	Kind     string // the letter kind, see package letter
	Status   LetterStatus
	Address  string // the address lines printed, separated by "\n"
	// Language is the language the letter is printed in ("de", "en"),
	// decided when it was queued; empty means German.
	Language  string
	Secrets   Sealed // sealed letter values; zero after hand-over
	BatchID   string
	CreatedAt time.Time
	ExpiresAt time.Time // when its codes expire; zero for notices
	UpdatedAt time.Time
}

// LetterCounts are what QueueLetter tells its check function.
type LetterCounts struct {
	PersonSince int64 // letters of this person (any kind counted) since the window start
	Day         int64 // letters created on the day (global cap), before this one
}

// LetterCodes are the writes a letter's codes need, made by QueueLetter in
// the letter's transaction, in this order, after check allowed the letter.
// The zero value writes nothing (a notice carries no codes).
type LetterCodes struct {
	// Void: every unused one-time value of these kinds whose subject is
	// Subject is voided (used at the letter's CreatedAt), as VoidOneTimes
	// does: the earlier letters' codes.
	Subject string
	Void    []string
	// Put are the new letter's codes (PutOneTime; ErrConflict if one of
	// them exists, and then nothing is written).
	Put []OneTime
	// Account, when set, is applied to the letter's person's account as
	// UpdateAccount applies its fn (under the person's lock; fn may run
	// more than once); the account is written, or created, only when fn
	// changed it. An error from fn is QueueLetter's, and nothing is written.
	Account func(a *Account, exists bool) error
	// Intake, when set, is the id of the intake request that caused the
	// letter: it is deleted in the letter's transaction, and if it is gone
	// (another worker's letter took it) QueueLetter returns ErrNotFound
	// and nothing is written.
	Intake string
}

// Letters is the contract for letters.
type Letters interface {
	// QueueLetter stores l atomically with its limits: holding a lock on the
	// person (and the day's counter), it counts the person's letters of the
	// given kinds created since since and the letters of day, calls check
	// with the counts, and if check returns nil stores l, counts it for the
	// day, and marks the person's earlier letters of l.Kind that are still
	// queued, in review or handed over as superseded (their secrets wiped).
	// It returns the ids of the superseded letters. If check returns an
	// error nothing is written. With no kinds (a notice: each one is owed)
	// the person count is 0 and nothing is superseded. day names the day's
	// counter: letters of different budgets count under different days
	// (e.g. "2026-12-04" and "notices:2026-12-04"). ErrConflict if l.ID
	// exists. The writes codes names commit in the same transaction: the
	// letter, the superseding and every write of its codes all commit, or
	// none does (an error from codes leaves nothing of the letter).
	QueueLetter(ctx context.Context, l Letter, kinds []string, since time.Time, day string,
		check func(LetterCounts) error, codes LetterCodes) (superseded []string, err error)
	// LetterByID returns the letter, or ErrNotFound.
	LetterByID(ctx context.Context, id string) (Letter, error)
	// LettersByStatus returns up to limit letters in status, oldest first.
	LettersByStatus(ctx context.Context, status LetterStatus, limit int) ([]Letter, error)
	// PersonLetters returns the person's letters, newest first.
	PersonLetters(ctx context.Context, id PersonID) ([]Letter, error)
	// MarkHandedOver moves the letters (which must all be queued) to
	// handed_over with the batch id and wipes their secrets, in one
	// transaction. ErrConflict if any of them is not queued.
	MarkHandedOver(ctx context.Context, ids []string, batchID string, now time.Time) error
	// SetLetterStatus moves a letter from one status to another (e.g.
	// handed_over to returned); ErrConflict if it is not in from.
	SetLetterStatus(ctx context.Context, id string, from, to LetterStatus, now time.Time) error
}
