package staff

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// Errors of staff acts.
var (
	// ErrNoReason: a sensitive act needs a reason of at most 500
	// characters, and the reason may not hold a KVNR (it is kept in the
	// audit trail).
	ErrNoReason = errors.New("staff: a reason is required")
	// ErrOwnRequest: a four-eyes request is decided by another staff
	// member than the one who asked.
	ErrOwnRequest = errors.New("staff: the same staff member cannot confirm their own request")
	// ErrDecided: the request was decided already (or does not exist).
	ErrDecided = errors.New("staff: request decided already")
)

// MaxReason is the longest reason, in characters.
const MaxReason = 500

// CheckReason returns the trimmed reason, or ErrNoReason.
func CheckReason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	if r == "" || !utf8.ValidString(r) || utf8.RuneCountInString(r) > MaxReason || containsKVNR(r) {
		return "", ErrNoReason
	}
	return r, nil
}

// containsKVNR reports a word shaped like a KVNR: a letter and nine digits.
func containsKVNR(s string) bool {
	for i := 0; i+10 <= len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		j := i + 1
		for j < i+10 && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i+10 && (j == len(s) || !isAlnum(s[j])) {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Act records one staff act in the audit trail: the staff member as actor,
// the person as subject, the details (never a secret or personal datum).
// Event is "staff." followed by the act's name.
func (s *Service) Act(ctx context.Context, m Member, act string, person store.PersonID, clientIP string, details map[string]any) error {
	subject := ""
	if person != 0 {
		subject = person.Ref()
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), audit.Event{Actor: m.ID.Ref(), Event: "staff." + act, Subject: subject,
		ClientIP: clientIP, Details: details}); err != nil {
		return fmt.Errorf("staff: record %s: %w", act, err)
	}
	return nil
}

// Request is an act waiting for a second staff member.
type Request = store.StaffRequest

// Ask stores a four-eyes request of m: kind names the act, target what it
// is done to; reason is required (ErrNoReason). It is recorded as
// staff.fouryes_asked.
func (s *Service) Ask(ctx context.Context, m Member, kind string, person store.PersonID, target, reason, method, clientIP string) (Request, error) {
	reason, err := CheckReason(reason)
	if err != nil {
		return Request{}, err
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Request{}, fmt.Errorf("staff: random: %w", err)
	}
	r := Request{ID: "vr-" + base64.RawURLEncoding.EncodeToString(b[:]), Kind: kind, PersonID: person, Target: target,
		Reason: reason, Method: method, Status: store.StaffRequestPending, RequestedBy: m.ID, CreatedAt: s.now().UTC()}
	if err := s.store.AddStaffRequest(ctx, r); err != nil {
		return Request{}, fmt.Errorf("staff: ask: %w", err)
	}
	if err := s.Act(ctx, m, "fouryes_asked", person, clientIP, map[string]any{"request": r.ID, "kind": kind, "target": target,
		"reason": reason, "method": method}); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Decide confirms or declines a pending request as m, who must not be the
// one who asked (ErrOwnRequest). Of parallel decisions exactly one wins;
// the others get ErrDecided. The caller carries out a confirmed request's
// act after Decide returns.
func (s *Service) Decide(ctx context.Context, m Member, id string, confirm bool, clientIP string) (Request, error) {
	status := store.StaffRequestDeclined
	if confirm {
		status = store.StaffRequestConfirmed
	}
	r, err := s.store.DecideStaffRequest(ctx, id, status, m.ID, s.now(), func(r store.StaffRequest) error {
		if r.RequestedBy == m.ID {
			return ErrOwnRequest
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return Request{}, ErrDecided
	case err != nil:
		return Request{}, err
	}
	if err := s.Act(ctx, m, "fouryes_"+string(status), r.PersonID, clientIP, map[string]any{"request": r.ID, "kind": r.Kind,
		"asked_by": r.RequestedBy.Ref()}); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Fail records that the act of a confirmed request could not be carried
// out (the PIN lock was reset meanwhile, the letter limit reached): the
// request moves to failed with outcome, a short code, and m's
// staff.fouryes_failed entry names it. ErrDecided if the request is not
// confirmed.
func (s *Service) Fail(ctx context.Context, m Member, r Request, outcome, clientIP string) (Request, error) {
	// The act failed already; its record must not fail with the request.
	ctx = context.WithoutCancel(ctx)
	failed, err := s.store.FailStaffRequest(ctx, r.ID, outcome)
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return Request{}, ErrDecided
	case err != nil:
		return Request{}, fmt.Errorf("staff: fail request: %w", err)
	}
	if err := s.Act(ctx, m, "fouryes_failed", r.PersonID, clientIP, map[string]any{"request": r.ID, "kind": r.Kind,
		"asked_by": r.RequestedBy.Ref(), "outcome": outcome}); err != nil {
		return Request{}, err
	}
	return failed, nil
}

// Pending lists pending requests of the person (0: everyone's), oldest
// first.
func (s *Service) Pending(ctx context.Context, person store.PersonID) ([]Request, error) {
	return s.store.PendingStaffRequests(ctx, person, 200)
}

// RequestByID returns a request; ErrDecided when there is none.
func (s *Service) RequestByID(ctx context.Context, id string) (Request, error) {
	r, err := s.store.StaffRequestByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Request{}, ErrDecided
	}
	return r, err
}
