package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/store"
)

// ErrLetterRefused reports that a letter for a logged-in person was refused by
// a limit (the person is known, so saying so reveals nothing).
var ErrLetterRefused = errors.New("access: letter limit reached")

// ErrLettersToday reports that the insurer's letters with codes for today are
// used up (letters.daily_cap): the person may order again tomorrow.
var ErrLettersToday = errors.New("access: no more letters today")

// OrderActivationLetter sends a logged-in person who has a password but no
// phone an activation letter (QR code only, no new password) to the address on
// file, with the limits of password letters. requested is the language of the
// request (zero for none); the person's own choice wins over it. It returns
// whether the letter waits for staff review (address not verified).
func (a *Service) OrderActivationLetter(ctx context.Context, id store.PersonID, clientIP string, requested lang.Language) (inReview bool, err error) {
	p, err := a.store.PersonByID(ctx, id)
	if err != nil {
		return false, fmt.Errorf("access: activation letter: %w", err)
	}
	code, err := proofing.NewActivationCode()
	if err != nil {
		return false, err
	}
	now := a.now()
	expires := lang.EndOfDay(now.Add(a.accounts.InitialValidity()))
	// The new letter supersedes earlier codes, in its transaction; a chosen
	// password stays.
	q, err := a.letters.Queue(ctx, p, letter.KindActivation, requested, dispatch.Secrets{ActivationURL: proofing.ActivationURL(a.cfg.Portal, code)},
		store.LetterCodes{Subject: subject(id), Void: []string{ActivationKind}, Put: []store.OneTime{
			{Kind: ActivationKind, Digest: proofing.CodeDigest(code), Subject: subject(id), CreatedAt: now, ExpiresAt: expires}}},
		expires, time.Time{}, "")
	if errors.Is(err, dispatch.ErrDailyCap) {
		return false, ErrLettersToday
	}
	if errors.Is(err, dispatch.ErrLimit) {
		return false, ErrLetterRefused
	}
	if err != nil {
		return false, err
	}
	a.record(ctx, audit.Event{Actor: subject(id), Event: "access.activation_letter", Subject: subject(id), ClientIP: clientIP,
		Details: map[string]any{"letter": q.Letter.ID, "review": q.InReview}})
	return q.InReview, nil
}
