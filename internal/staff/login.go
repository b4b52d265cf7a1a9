package staff

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// errLocked: the account is locked; the login fails like any other.
var errLocked = errors.New("staff: locked")

// errReplay: the code's step was used already.
var errReplay = errors.New("staff: code used before")

// Login checks login, password and the authenticator's code together and
// starts a session. Every failure is ErrLoginFailed and takes a password
// hash's time (see the package documentation). A staff member without a
// TOTP secret (security keys only) never passes here.
func (s *Service) Login(ctx context.Context, login, password, code, clientIP, userAgent string) (Token, Member, error) {
	if len(code) > 16 {
		login = ""
	}
	m, pwOK, err := s.attempt(ctx, login, password, clientIP)
	if err != nil {
		return "", Member{}, err
	}
	now := s.now()
	var (
		stp    int64
		codeOK bool
	)
	if len(m.TOTPSecret.Ciphertext) > 0 {
		secret, err := s.sealer.OpenFor(m.TOTPSecret, place(m.Login))
		if err != nil {
			return "", Member{}, fmt.Errorf("staff: login: open secret: %w", err)
		}
		stp, codeOK = matchCode(secret, code, now, m.TOTPLastStep)
	}
	if !pwOK || !codeOK || !m.DisabledAt.IsZero() {
		why := "wrong"
		if !m.DisabledAt.IsZero() {
			why = "disabled"
		}
		s.failed(ctx, m.ID, why, clientIP)
		return "", Member{}, ErrLoginFailed
	}
	// The code's step is used up here, once: a parallel login with the
	// same code finds it used.
	_, err = s.store.UpdateStaff(ctx, m.ID, func(x *store.StaffMember) error {
		if stp <= x.TOTPLastStep {
			return errReplay
		}
		x.TOTPLastStep, x.Failures, x.UpdatedAt = stp, 0, now
		return nil
	})
	if errors.Is(err, errReplay) {
		s.failed(ctx, m.ID, "replay", clientIP)
		return "", Member{}, ErrLoginFailed
	}
	if err != nil {
		return "", Member{}, fmt.Errorf("staff: login: %w", err)
	}
	return s.startSession(ctx, m.ID, clientIP, userAgent, "totp", "")
}

// attempt is the first part of every login: it finds the staff member,
// counts the attempt (reserve) and checks the password. A missing or
// malformed login, a locked account and an error all come back as an
// error (ErrLoginFailed for the first two) after a password hash's time.
func (s *Service) attempt(ctx context.Context, login, password, clientIP string) (store.StaffMember, bool, error) {
	l, ok := normLogin(login)
	if !ok || len(password) > 256 {
		_ = s.hasher.DummyVerify(ctx, password[:min(len(password), 256)])
		return store.StaffMember{}, false, ErrLoginFailed
	}
	m, err := s.store.StaffByLogin(ctx, l)
	if errors.Is(err, store.ErrNotFound) {
		_ = s.hasher.DummyVerify(ctx, password)
		return store.StaffMember{}, false, ErrLoginFailed
	}
	if err != nil {
		return store.StaffMember{}, false, fmt.Errorf("staff: login: %w", err)
	}
	if err := s.reserve(ctx, m.ID, s.now()); err != nil {
		_ = s.hasher.DummyVerify(ctx, password)
		if errors.Is(err, errLocked) {
			s.failed(ctx, m.ID, "locked", clientIP)
			return store.StaffMember{}, false, ErrLoginFailed
		}
		return store.StaffMember{}, false, err
	}
	if m.PasswordHash == "" {
		// A staff member of the corporate provider has no password.
		_ = s.hasher.DummyVerify(ctx, password)
		return m, false, nil
	}
	ok, _, err = s.hasher.Verify(ctx, password, m.PasswordHash)
	if err != nil {
		return store.StaffMember{}, false, fmt.Errorf("staff: login: %w", err)
	}
	return m, ok, nil
}

// checkPassword is attempt for a login whose second factor comes in a
// second step: a wrong password or a disabled account is ErrLoginFailed,
// recorded.
func (s *Service) checkPassword(ctx context.Context, login, password, clientIP string) (store.StaffMember, error) {
	m, ok, err := s.attempt(ctx, login, password, clientIP)
	if err != nil {
		return store.StaffMember{}, err
	}
	if !ok || !m.DisabledAt.IsZero() {
		why := "wrong"
		if !m.DisabledAt.IsZero() {
			why = "disabled"
		}
		s.failed(ctx, m.ID, why, clientIP)
		return store.StaffMember{}, ErrLoginFailed
	}
	return m, nil
}

// startSession ends the run of failures of a staff member who passed
// both factors (with method, "totp" or "key", and the key's reference)
// and starts their session.
func (s *Service) startSession(ctx context.Context, id store.StaffID, clientIP, userAgent, method, key string) (Token, Member, error) {
	now := s.now()
	m, err := s.store.UpdateStaff(ctx, id, func(x *store.StaffMember) error {
		x.Failures, x.UpdatedAt = 0, now
		return nil
	})
	if err != nil {
		return "", Member{}, fmt.Errorf("staff: login: %w", err)
	}
	tok, err := newToken()
	if err != nil {
		return "", Member{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	if err := s.store.CreateStaffSession(ctx, store.StaffSession{TokenHash: tok.Hash(), StaffID: m.ID, ClientIP: clientIP,
		UserAgent: truncate(userAgent, 256), CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(s.cfg.Idle),
		ExpiresAt: now.Add(s.cfg.Absolute)}); err != nil {
		return "", Member{}, fmt.Errorf("staff: login: %w", err)
	}
	details := map[string]any{"method": method}
	if key != "" {
		details["key"] = key
	}
	s.record(ctx, audit.Event{Actor: m.ID.Ref(), Event: "staff.login", Subject: m.ID.Ref(), ClientIP: clientIP, Details: details})
	return tok, member(m), nil
}

// reserve counts one attempt before it is checked; errLocked while the
// account is locked. The MaxFailures-th failure in a row locks it for Lock.
func (s *Service) reserve(ctx context.Context, id store.StaffID, now time.Time) error {
	_, err := s.store.UpdateStaff(ctx, id, func(x *store.StaffMember) error {
		if x.LockedUntil.After(now) {
			return errLocked
		}
		x.Failures++
		if x.Failures >= s.cfg.MaxFailures {
			x.Failures, x.LockedUntil = 0, now.Add(s.cfg.Lock)
		}
		x.UpdatedAt = now
		return nil
	})
	if err != nil && !errors.Is(err, errLocked) {
		return fmt.Errorf("staff: login: %w", err)
	}
	return err
}

func (s *Service) failed(ctx context.Context, id store.StaffID, why, clientIP string) {
	s.record(ctx, audit.Event{Actor: id.Ref(), Event: "staff.login_failed", Subject: id.Ref(), ClientIP: clientIP,
		Details: map[string]any{"reason": why}})
}

func newToken() (Token, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("staff: random: %w", err)
	}
	return Token(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	return strings.ToValidUTF8(s, "")
}

// Authenticate returns the staff member of a live session and moves its
// idle expiry on; ErrNoSession for a missing, expired or ended session or a
// disabled staff member.
func (s *Service) Authenticate(ctx context.Context, tok Token) (Member, error) {
	if tok == "" || len(tok) > 128 {
		return Member{}, ErrNoSession
	}
	now := s.now()
	ss, err := s.store.StaffSessionByHash(ctx, tok.Hash(), now)
	if errors.Is(err, store.ErrNotFound) {
		return Member{}, ErrNoSession
	}
	if err != nil {
		return Member{}, fmt.Errorf("staff: session: %w", err)
	}
	m, err := s.store.StaffByID(ctx, ss.StaffID)
	if err != nil {
		return Member{}, fmt.Errorf("staff: session: %w", err)
	}
	if !m.DisabledAt.IsZero() {
		return Member{}, ErrNoSession
	}
	if err := s.store.TouchStaffSession(ctx, ss.TokenHash, now, now.Add(s.cfg.Idle)); errors.Is(err, store.ErrNotFound) {
		return Member{}, ErrNoSession
	} else if err != nil {
		return Member{}, fmt.Errorf("staff: session: %w", err)
	}
	mm := member(m)
	mm.SignedInAt = ss.CreatedAt
	return mm, nil
}

// Logout ends the session of tok.
func (s *Service) Logout(ctx context.Context, tok Token, m Member, clientIP string) error {
	if err := s.store.DeleteStaffSession(ctx, tok.Hash()); err != nil {
		return fmt.Errorf("staff: logout: %w", err)
	}
	s.record(ctx, audit.Event{Actor: m.ID.Ref(), Event: "staff.logout", Subject: m.ID.Ref(), ClientIP: clientIP})
	return nil
}

var _ slog.LogValuer = Token("")
