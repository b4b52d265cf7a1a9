package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

// ErrIntakeFull reports that too many requests wait in the intake: the
// request was not taken, whoever's KVNR it named; the client may try again
// later.
var ErrIntakeFull = errors.New("access: too many requests waiting")

// The intake ("Eingangsspeicher") lets a reset request be answered before
// anything about the person is looked up: the request stores one sealed
// row, the same write for every KVNR, and a worker on any node does the
// rest later (DrainIntake).
//
//	RequestReset ──AddIntake (sealed request)──▶ row ──▶ answered at MinTime
//	DrainIntake ──ClaimIntakes (lease)──▶ row leased to this worker
//	     │ a letter: QueueLetter deletes the row in the letter's transaction
//	     │ anything else (no match, locked, limit): DeleteIntake
//	     │ worker died: the lease ends and another worker claims the row
//	     ▼
//	audit "access.reset_requested" with the outcome
const (
	intakeReset = "reset"
	// intakeLease is how long a claimed request belongs to its worker; the
	// work (a lookup, a hash, a PDF, one transaction) takes far less.
	intakeLease = time.Minute
	// intakeBatch is how many requests a worker claims at once.
	intakeBatch = 16
	// intakeAttempts is how often a request is tried before it is dropped
	// (a request whose seal no key opens any more).
	intakeAttempts = 5
)

// intakeRequest is what the worker needs of a request; it is sealed at
// rest.
type intakeRequest struct {
	KVNR       string        `json:"kvnr"`
	PostalCode string        `json:"postal_code"`
	BirthDate  string        `json:"birth_date"`
	ClientIP   string        `json:"client_ip"`
	Language   lang.Language `json:"language"`
}

// intake is the part of Service that takes reset requests in and works
// them off (RunIntake, DrainIntake); its methods are the Service's.
type intake struct{ a *Service }

func intakeAAD(id string) []byte { return []byte("intake:" + id) }

// takeIn stores the request, whose KVNR is canonical, in the intake and
// wakes this node's worker. ErrIntakeFull when the intake holds its limit.
func (w intake) takeIn(ctx context.Context, kind, kvnr string, in Request) error {
	a := w.a
	id, err := randomToken()
	if err != nil {
		return err
	}
	plain, err := json.Marshal(intakeRequest{KVNR: kvnr, PostalCode: in.PostalCode, BirthDate: in.BirthDate,
		ClientIP: in.ClientIP, Language: in.Language})
	if err != nil {
		return fmt.Errorf("access: intake: %w", err)
	}
	sealed, err := a.sealer.SealFor(plain, intakeAAD(id))
	if err != nil {
		return fmt.Errorf("access: intake: %w", err)
	}
	err = a.store.AddIntake(ctx, store.Intake{ID: id, Kind: kind, Data: sealed, CreatedAt: a.now()}, a.cfg.IntakeLimit)
	if errors.Is(err, store.ErrIntakeFull) {
		a.logger.WarnContext(ctx, "intake full", slog.Int("limit", a.cfg.IntakeLimit))
		return ErrIntakeFull
	}
	if err != nil {
		return fmt.Errorf("access: intake: %w", err)
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
	return nil
}

// RunIntake drains the intake every interval and whenever a request on this
// node was taken in, until ctx ends. Every node runs it.
func (w intake) RunIntake(ctx context.Context, interval time.Duration) {
	a := w.a
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.DrainIntake(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("intake drain", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.kick:
		}
	}
}

// DrainIntake handles the requests in the intake that no other worker holds,
// until none is left, and returns how many it handled. A request whose
// handling failed stays and is tried again after its lease.
func (w intake) DrainIntake(ctx context.Context) (int, error) {
	a := w.a
	handled := 0
	for {
		batch, err := a.store.ClaimIntakes(ctx, a.now(), intakeLease, intakeBatch)
		if err != nil {
			return handled, fmt.Errorf("access: intake: %w", err)
		}
		for _, in := range batch {
			if err := a.handleIntake(ctx, in); err != nil {
				if ctx.Err() != nil {
					return handled, ctx.Err()
				}
				a.logger.ErrorContext(ctx, "intake request failed", slog.String("intake", in.ID),
					slog.Int("attempts", in.Attempts), slog.Any("error", err))
				continue
			}
			handled++
		}
		if len(batch) < intakeBatch {
			return handled, nil
		}
	}
}

// errIntakeGone reports that another worker's letter took the request.
var errIntakeGone = errors.New("access: intake request handled elsewhere")

// handleIntake does what the request asked for and removes it from the
// intake: with the letter, or by itself for every other outcome.
func (w intake) handleIntake(ctx context.Context, in store.Intake) error {
	a := w.a
	plain, err := a.sealer.OpenFor(in.Data, intakeAAD(in.ID))
	var req intakeRequest
	if err == nil {
		err = json.Unmarshal(plain, &req)
	}
	if err == nil && in.Kind != intakeReset {
		err = fmt.Errorf("unknown kind %q", in.Kind)
	}
	if err != nil {
		if in.Attempts < intakeAttempts {
			return fmt.Errorf("access: intake: %w", err)
		}
		// Nothing can be done with it: drop it, and say so.
		if derr := a.store.DeleteIntake(ctx, in.ID); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return fmt.Errorf("access: intake: %w", derr)
		}
		a.record(ctx, audit.Event{Actor: "system", Event: "access.intake_dropped", Subject: "intake",
			Details: map[string]any{"kind": in.Kind, "attempts": in.Attempts}})
		return nil
	}
	outcome, err := a.requestReset(ctx, req.KVNR, Request(req), in.ID)
	if errors.Is(err, errIntakeGone) {
		return nil
	}
	if err != nil {
		return err
	}
	if !outcome.lettered {
		if err := a.store.DeleteIntake(ctx, in.ID); errors.Is(err, store.ErrNotFound) {
			return nil // another worker handled it and recorded it
		} else if err != nil {
			return fmt.Errorf("access: intake: %w", err)
		}
	}
	a.record(ctx, audit.Event{Actor: "anonymous", Event: "access.reset_requested", ClientIP: req.ClientIP,
		Subject: outcome.subject, Details: map[string]any{"outcome": outcome.name}})
	return nil
}
