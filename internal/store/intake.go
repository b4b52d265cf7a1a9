package store

import (
	"context"
	"errors"
	"time"
)

// ErrIntakeFull reports that the intake holds its limit of requests: the
// request is not stored.
var ErrIntakeFull = errors.New("store: intake full")

// Intake is one anonymous request waiting in the intake ("Eingangsspeicher")
// for a worker to handle it: the request is answered as soon as it is stored,
// so that its answer and its time never depend on what the worker finds.
// Data is the request, sealed: it holds personal data (a KVNR, a birth date).
type Intake struct {
	ID        string
	Kind      string // what the worker does with it, e.g. "reset"
	Data      Sealed
	CreatedAt time.Time
	// LeaseUntil is when a claimed request may be claimed again (zero:
	// never claimed); Attempts counts the claims.
	LeaseUntil time.Time
	Attempts   int
}

// Intakes is the contract of the intake. A request leaves it by
// DeleteIntake, or inside the transaction of the letter it caused
// (LetterCodes.Intake): a request whose letter is stored is gone, and a
// request still there has caused no letter.
type Intakes interface {
	// AddIntake stores in unless the intake already holds limit requests
	// (ErrIntakeFull; then nothing is stored). Requests added in parallel
	// may pass the limit by at most their number. ErrConflict if the id
	// exists.
	AddIntake(ctx context.Context, in Intake, limit int) error
	// ClaimIntakes returns up to limit requests whose lease ended at now
	// (or that were never claimed), oldest first, and moves their
	// LeaseUntil to now+lease and Attempts up by one in the same atomic
	// update: a request claimed by one worker is not claimed by another
	// until its lease ends.
	ClaimIntakes(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Intake, error)
	// DeleteIntake removes the request; ErrNotFound if it is gone.
	DeleteIntake(ctx context.Context, id string) error
	// IntakeBacklog counts the requests in the intake.
	IntakeBacklog(ctx context.Context) (int, error)
}
