package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// Staff review: a letter with codes to an address that was not verified
// recently waits (status review) until someone of the insurer's staff
// releases it to the next print batch or rejects it, which voids its codes:
//
//	review ──Release──▶ queued ──Export──▶ handed_over
//	review ──Reject───▶ rejected (codes void)
//
// Both record who decided and why in the audit trail.

// Errors of the review.
var (
	// ErrNotInReview: the letter does not wait for review (any more).
	ErrNotInReview = errors.New("dispatch: letter not in review")
	// ErrExpired: the letter's codes expired while it waited; reject it and
	// let the person order a new one.
	ErrExpired = errors.New("dispatch: letter expired in review")
	// ErrNoReason: a decision needs who made it and why.
	ErrNoReason = errors.New("dispatch: a review decision needs the staff member and a reason")
)

// Waiting is a letter waiting for review with what staff decide on.
type Waiting struct {
	Letter store.Letter
	// Person is the recipient as the register knows them now.
	Person store.Person
}

// InReview returns up to limit letters waiting for review, oldest first.
func (s *Service) InReview(ctx context.Context, limit int) ([]Waiting, error) {
	letters, err := s.store.LettersByStatus(ctx, store.LetterReview, limit)
	if err != nil {
		return nil, fmt.Errorf("dispatch: review: %w", err)
	}
	out := make([]Waiting, 0, len(letters))
	for _, l := range letters {
		p, err := s.store.PersonByID(ctx, l.PersonID)
		if err != nil {
			return nil, fmt.Errorf("dispatch: review: letter %s: %w", l.ID, err)
		}
		out = append(out, Waiting{Letter: l, Person: p})
	}
	return out, nil
}

// checkDecision requires who decides and a reason of at most 500 characters.
func checkDecision(by, reason string) error {
	if strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > 500 {
		return ErrNoReason
	}
	return nil
}

// Release sends a letter waiting for review to the next print batch (and to
// the sink, as Queue does). by names the staff member, reason says why the
// address may be trusted. ErrNotInReview, ErrExpired, ErrNoReason.
func (s *Service) Release(ctx context.Context, id, by, reason string) error {
	if err := checkDecision(by, reason); err != nil {
		return err
	}
	l, err := s.waiting(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	if !l.ExpiresAt.IsZero() && !l.ExpiresAt.After(now) {
		return ErrExpired
	}
	doc, err := s.reconstruct(ctx, l)
	if err != nil {
		return err
	}
	pdf, err := s.renderer.Render(doc)
	if err != nil {
		return fmt.Errorf("dispatch: release: %w", err)
	}
	if err := s.setStatus(ctx, id, store.LetterReview, store.LetterQueued); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: "staff:" + by, Event: "letter.released", Subject: subject(l.PersonID),
		Details: map[string]any{"letter": id, "kind": l.Kind, "reason": reason}})
	s.deliverToSink(ctx, id, pdf)
	return nil
}

// Reject refuses a letter waiting for review and voids its codes (voider),
// so that nothing it carries can be used. ErrNotInReview, ErrNoReason.
func (s *Service) Reject(ctx context.Context, id, by, reason string, voider Voider) error {
	if err := checkDecision(by, reason); err != nil {
		return err
	}
	l, err := s.waiting(ctx, id)
	if err != nil {
		return err
	}
	if err := s.setStatus(ctx, id, store.LetterReview, store.LetterRejected); err != nil {
		return err
	}
	if err := voider.VoidLetterCodes(ctx, l.PersonID); err != nil {
		return fmt.Errorf("dispatch: reject: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "staff:" + by, Event: "letter.rejected", Subject: subject(l.PersonID),
		Details: map[string]any{"letter": id, "kind": l.Kind, "reason": reason}})
	return nil
}

// waiting returns letter id if it waits for review.
func (s *Service) waiting(ctx context.Context, id string) (store.Letter, error) {
	l, err := s.store.LetterByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.Status != store.LetterReview) {
		return store.Letter{}, ErrNotInReview
	}
	if err != nil {
		return store.Letter{}, fmt.Errorf("dispatch: review: %w", err)
	}
	return l, nil
}

// setStatus moves the letter on; a parallel decision that came first makes
// it ErrNotInReview.
func (s *Service) setStatus(ctx context.Context, id string, from, to store.LetterStatus) error {
	err := s.store.SetLetterStatus(ctx, id, from, to, s.now())
	if errors.Is(err, store.ErrConflict) {
		return ErrNotInReview
	}
	if err != nil {
		return fmt.Errorf("dispatch: review: %w", err)
	}
	return nil
}
