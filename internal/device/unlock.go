package device

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// A locked PIN is unlocked only by a new identity proof and a new PIN: the app
// answers a bind challenge for the SAME device key with a NEW PIN key (the bind
// content covers both keys), together with either a letter (password and a
// fresh activation code) or a fresh eID session.

// UnlockWithLetter sets a new PIN key on a bound device after a proof with the
// letter. Every identity failure is ErrBindRefused.
func (s *Service) UnlockWithLetter(ctx context.Context, dev store.DeviceID, r BindRequest) error {
	d, err := s.unlockTarget(ctx, dev, r.DeviceKey, r.PINKey, r.KDF, r.Name, r.Model, r.Proof)
	if err != nil {
		return err
	}
	p, err := s.store.PersonByID(ctx, d.PersonID)
	if err != nil {
		return fmt.Errorf("device: unlock: %w", err)
	}
	if kvnr := strings.ToUpper(strings.TrimSpace(r.KVNR)); !registry.ValidKVNR(kvnr) || kvnr != p.KVNR {
		return ErrBindRefused
	}
	if err := s.passwords.CheckPassword(ctx, p.ID, r.Password, r.ClientIP); err != nil {
		if errors.Is(err, password.ErrBusy) {
			return err
		}
		return ErrBindRefused
	}
	code := strings.TrimSpace(r.ActivationCode)
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	ot, err := s.store.ConsumeOneTime(ctx, ActivationKind, proofing.CodeDigest(code), s.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && ot.Subject != subject(p.ID)) {
		return ErrBindRefused
	}
	if err != nil {
		return fmt.Errorf("device: unlock: %w", err)
	}
	return s.setNewPIN(ctx, d, r.PINKey, r.KDF, "letter", r.ClientIP)
}

// UnlockWithSession sets a new PIN key after a fresh eID identification: the
// session must come from one (session.FreshEID: origin eid, identified within
// the last 15 minutes). A session at level high of another origin is refused:
// ErrBindRefused.
func (s *Service) UnlockWithSession(ctx context.Context, dev store.DeviceID, sess store.Session, deviceKey, pinKey []byte, kdf, name, model string, proof Proof, clientIP string) error {
	if !session.FreshEID(sess, s.now()) {
		return ErrBindRefused
	}
	d, err := s.unlockTarget(ctx, dev, deviceKey, pinKey, kdf, name, model, proof)
	if err != nil {
		return err
	}
	if d.PersonID != sess.PersonID {
		return ErrBindRefused
	}
	return s.setNewPIN(ctx, d, pinKey, kdf, sess.Origin, clientIP)
}

// unlockTarget checks the proof: the device key must be the bound one, and both
// keys (the new PIN key) sign the bind content.
func (s *Service) unlockTarget(ctx context.Context, dev store.DeviceID, deviceKey, pinKey []byte, kdf, name, model string, proof Proof) (store.Device, error) {
	if err := s.parseKeys(deviceKey, pinKey, kdf); err != nil {
		return store.Device{}, err
	}
	d, err := s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!d.RemovedAt.IsZero() || string(d.DeviceKey) != string(deviceKey))) {
		return store.Device{}, ErrProof
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("device: unlock: %w", err)
	}
	if err := s.verifyBindProof(ctx, deviceKey, pinKey, kdf, name, model, proof); err != nil {
		return store.Device{}, err
	}
	return d, nil
}

func (s *Service) setNewPIN(ctx context.Context, d store.Device, pinKey []byte, kdf, via, clientIP string) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	if _, err := s.store.UpdateDevice(ctx, d.ID, func(x *store.Device) error {
		x.PINKey, x.KDF, x.PINFailures, x.PINLockedAt, x.UpdatedAt = pinKey, kdf, 0, time.Time{}, now
		return nil
	}); err != nil {
		return fmt.Errorf("device: unlock: %w", err)
	}
	s.record(ctx, audit.Event{Actor: subject(d.PersonID), Event: "device.pin_reset", Subject: subject(d.PersonID), ClientIP: clientIP,
		Details: map[string]any{"device": string(d.ID), "via": via}})
	return nil
}
