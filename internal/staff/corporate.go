package staff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// A staff member may also sign in through the insurer's corporate OpenID
// provider (package backoffice runs the flow and checks the ID token). The
// provider's issuer and subject are the staff member's external id; the
// first sign-in creates the staff member (login "firma." and a hash of the
// external id, no password, no code), and every sign-in sets the role from
// the provider's groups. A disabled staff member stays refused.

// Errors of corporate sign-ins.
var (
	// ErrDisabled: the staff member is disabled.
	ErrDisabled = errors.New("staff: disabled")
	// ErrCorporate: the staff member signs in through the corporate
	// provider; there is no password or code to reset.
	ErrCorporate = errors.New("staff: signs in through the corporate provider")
)

// corporateLogin is the login of a corporate staff member: stable, unique,
// of the login alphabet.
func corporateLogin(external string) string {
	h := sha256.Sum256([]byte(external))
	return "firma." + hex.EncodeToString(h[:6])
}

// Corporate starts a session for the person the corporate provider issuer
// vouched for as subject, with name and the role their groups map to.
// ErrDisabled, ErrInvalid (an empty subject or an invalid role).
func (s *Service) Corporate(ctx context.Context, issuer, subject, name string, role Role, clientIP, userAgent string) (Token, Member, error) {
	if issuer == "" || subject == "" || len(subject) > 255 || !role.Valid() {
		return "", Member{}, ErrInvalid
	}
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	if name == "" || utf8.RuneCountInString(name) > 100 {
		name = "Firmenkonto " + subject[:min(len(subject), 20)]
	}
	ext := issuer + " " + subject
	m, err := s.store.StaffByExternalID(ctx, ext)
	if errors.Is(err, store.ErrNotFound) {
		m, err = s.addCorporate(ctx, ext, name, role, clientIP)
	}
	if err != nil {
		return "", Member{}, err
	}
	if !m.DisabledAt.IsZero() {
		s.failed(ctx, m.ID, "disabled", clientIP)
		return "", Member{}, ErrDisabled
	}
	if m.Role != string(role) || m.Name != name {
		now := s.now()
		if _, err := s.store.UpdateStaff(ctx, m.ID, func(x *store.StaffMember) error {
			x.Role, x.Name, x.UpdatedAt = string(role), name, now
			return nil
		}); err != nil {
			return "", Member{}, fmt.Errorf("staff: corporate: %w", err)
		}
		if m.Role != string(role) {
			s.record(ctx, audit.Event{Actor: "corporate", Event: "staff.role_changed", Subject: m.ID.Ref(), ClientIP: clientIP,
				Details: map[string]any{"from": m.Role, "role": string(role)}})
		}
	}
	return s.startSession(ctx, m.ID, clientIP, userAgent, "corporate", "")
}

func (s *Service) addCorporate(ctx context.Context, ext, name string, role Role, clientIP string) (store.StaffMember, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	id, err := s.store.AddStaff(ctx, store.StaffMember{Login: corporateLogin(ext), Name: name, Role: string(role), ExternalID: ext,
		CreatedAt: now, UpdatedAt: now})
	if errors.Is(err, store.ErrConflict) {
		// A parallel first sign-in created them.
		m, err := s.store.StaffByExternalID(ctx, ext)
		if err != nil {
			return store.StaffMember{}, fmt.Errorf("staff: corporate: %w", err)
		}
		return m, nil
	}
	if err != nil {
		return store.StaffMember{}, fmt.Errorf("staff: corporate: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "corporate", Event: "staff.added", Subject: id.Ref(), ClientIP: clientIP,
		Details: map[string]any{"role": string(role), "via": "corporate"}})
	m, err := s.store.StaffByID(ctx, id)
	if err != nil {
		return store.StaffMember{}, fmt.Errorf("staff: corporate: %w", err)
	}
	return m, nil
}
