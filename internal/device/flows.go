package device

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// ActivationKind is the one-time kind of letter activation codes (package
// account puts them).
const ActivationKind = "activation"

// BindRequest binds a phone with a letter: its activation code and the
// account's password prove the person; the proof signs both keys.
type BindRequest struct {
	KVNR           string
	Password       string
	ActivationCode string
	DeviceKey      []byte
	PINKey         []byte
	KDF            string
	Name, Model    string
	Proof          Proof
	ClientIP       string
}

// Binding is a new binding.
type Binding struct {
	ID    store.DeviceID
	Level string
}

// verifyBindProof checks the challenge and both signatures over the bind
// content.
func (s *Service) verifyBindProof(ctx context.Context, deviceKey, pinKey []byte, kdf, name, model string, p Proof) error {
	nonce, err := s.consume(ctx, p.ChallengeID, PurposeBind, "", "")
	if err != nil {
		return err
	}
	content := appclient.BindContent(deviceKey, pinKey, []byte(kdf), name, model)
	hash := appclient.ContentHash(PurposeBind, "", content)
	msg := appclient.SignedMessage(PurposeBind, p.ChallengeID, nonce, hash)
	devOK, pinOK := appclient.VerifyProof(deviceKey, pinKey, msg, appclient.Proof{DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature})
	if !devOK || !pinOK {
		return ErrProof
	}
	return nil
}

// BindWithLetter binds a phone at level substantial. KVNR, password and
// activation code failures are all ErrBindRefused; the password counts against
// the account's attempt limit; the activation code is used up in the same
// update that checks it.
func (s *Service) BindWithLetter(ctx context.Context, r BindRequest) (Binding, error) {
	if err := s.parseKeys(r.DeviceKey, r.PINKey, r.KDF); err != nil {
		return Binding{}, err
	}
	if err := checkName("name", r.Name, true); err != nil {
		return Binding{}, err
	}
	if err := checkName("model", r.Model, false); err != nil {
		return Binding{}, err
	}
	if err := s.verifyBindProof(ctx, r.DeviceKey, r.PINKey, r.KDF, r.Name, r.Model, r.Proof); err != nil {
		return Binding{}, err
	}
	kvnr := strings.ToUpper(strings.TrimSpace(r.KVNR))
	if !registry.ValidKVNR(kvnr) {
		return Binding{}, ErrBindRefused
	}
	p, err := s.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) {
		return Binding{}, ErrBindRefused
	}
	if err != nil {
		return Binding{}, fmt.Errorf("device: bind: %w", err)
	}
	if err := s.passwords.CheckPassword(ctx, p.ID, r.Password, r.ClientIP); err != nil {
		if errors.Is(err, password.ErrBusy) {
			return Binding{}, err
		}
		return Binding{}, ErrBindRefused
	}
	if devs, err := s.store.PersonDevices(ctx, p.ID); err != nil {
		return Binding{}, fmt.Errorf("device: bind: %w", err)
	} else if len(devs) >= s.cfg.MaxDevices {
		return Binding{}, ErrTooManyDevices
	}
	code := strings.TrimSpace(r.ActivationCode)
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:] // the whole activation URL from the QR code
	}
	ot, err := s.store.ConsumeOneTime(ctx, ActivationKind, proofing.CodeDigest(code), s.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && ot.Subject != subject(p.ID)) {
		s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "device.bind_refused", Subject: subject(p.ID), ClientIP: r.ClientIP,
			Details: map[string]any{"reason": "activation_code"}})
		return Binding{}, ErrBindRefused
	}
	if err != nil {
		return Binding{}, fmt.Errorf("device: bind: %w", err)
	}
	return s.add(ctx, p, r.DeviceKey, r.PINKey, r.KDF, r.Name, r.Model, string(session.LevelSubstantial), "letter", r.ClientIP, nil)
}

// BindWithSession binds a phone at level high for the person of a session
// that came from a fresh eID identification (session.FreshEID: origin eid,
// identified within the last 15 minutes). A session at level high of another
// origin (a phone bound at high) is refused: ErrBindRefused.
func (s *Service) BindWithSession(ctx context.Context, sess store.Session, deviceKey, pinKey []byte, kdf, name, model string, proof Proof, clientIP string) (Binding, error) {
	if !session.FreshEID(sess, s.now()) {
		return Binding{}, ErrBindRefused
	}
	if err := s.parseKeys(deviceKey, pinKey, kdf); err != nil {
		return Binding{}, err
	}
	if err := checkName("name", name, true); err != nil {
		return Binding{}, err
	}
	if err := checkName("model", model, false); err != nil {
		return Binding{}, err
	}
	if err := s.verifyBindProof(ctx, deviceKey, pinKey, kdf, name, model, proof); err != nil {
		return Binding{}, err
	}
	p, err := s.store.PersonByID(ctx, sess.PersonID)
	if err != nil {
		return Binding{}, fmt.Errorf("device: bind: %w", err)
	}
	return s.add(ctx, p, deviceKey, pinKey, kdf, name, model, string(session.LevelHigh), sess.Origin, clientIP, nil)
}

// add binds the device with its notice and records it; via names the proof
// of identity (letter, eid, egk), extra adds to the audit event's details.
func (s *Service) add(ctx context.Context, p store.Person, deviceKey, pinKey []byte, kdf, name, model, level, via, clientIP string, extra map[string]any) (Binding, error) {
	// Staff locked the person's access: no phone is bound meanwhile that
	// would outlast the lock.
	if locked, err := s.sessions.Locked(ctx, p.ID); err != nil {
		return Binding{}, fmt.Errorf("device: bind: %w", err)
	} else if locked {
		return Binding{}, session.ErrPersonLocked
	}
	id, err := randomID("dev_", 16)
	if err != nil {
		return Binding{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	n, err := s.notices.Make(p.ID, notice.DeviceBound, notice.Details{At: now, Device: strings.TrimSpace(name)})
	if err != nil {
		return Binding{}, fmt.Errorf("device: bind: %w", err)
	}
	err = s.store.AddDevice(ctx, store.Device{ID: store.DeviceID(id), PersonID: p.ID, DeviceKey: deviceKey, PINKey: pinKey,
		KDF: kdf, Level: level, Name: strings.TrimSpace(name), Model: strings.TrimSpace(model), BoundAt: now, BoundIP: clientIP,
		UpdatedAt: now}, func(bound int) error {
		if bound >= s.cfg.MaxDevices {
			return ErrTooManyDevices
		}
		return nil
	}, n)
	if err != nil {
		return Binding{}, err
	}
	s.notices.Kick()
	details := map[string]any{"device": id, "level": level, "via": via}
	maps.Copy(details, extra)
	s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "device.bound", Subject: subject(p.ID), ClientIP: clientIP,
		Details: details})
	return Binding{ID: store.DeviceID(id), Level: level}, nil
}

// authenticate runs the proof of the package comment for purpose and
// content: it checks both signatures of p and then has the store decide the
// proof in one transaction (store.DeviceProof): the challenge used up, the
// PIN failures reset or counted, the PIN locked with its notice at the
// limit, and, when start is set, the session start describes stored with
// its sign-in history line (failed attempts get theirs too). Nothing of the
// outcome is known before that transaction commits, so the limit holds for
// any number of parallel proofs on any number of nodes.
func (s *Service) authenticate(ctx context.Context, dev store.DeviceID, purpose string, contentHash [32]byte, p Proof, clientIP string,
	start func(d store.Device) (session.Prepared, error)) (store.Device, session.Prepared, error) {
	now := s.now()
	// A challenge that is forged, altered, expired or issued for another
	// purpose, binding or approval is refused here, with nothing written.
	ch, err := s.challenges.open(p.ChallengeID, purpose, dev, p.For, now)
	if err != nil {
		return store.Device{}, session.Prepared{}, err
	}
	proof := store.DeviceProof{Device: dev, ChallengeDigest: ch.digest, ChallengeExpires: ch.expires, Limit: s.cfg.PINLimit, Now: now}
	d, err := s.store.DeviceByID(ctx, dev)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Device{}, session.Prepared{}, fmt.Errorf("device: authenticate: %w", err)
	}
	var prep session.Prepared
	if err == nil && d.RemovedAt.IsZero() {
		msg := appclient.SignedMessage(purpose, p.ChallengeID, ch.nonce, contentHash)
		// Without the phone: refused, never a PIN attempt.
		proof.DeviceOK = appclient.VerifyDeviceSignature(d.DeviceKey, msg, p.DeviceSignature)
		proof.PINOK = proof.DeviceOK && appclient.VerifyPINSignature(d.PINKey, msg, p.PINSignature)
		proof.DeviceKey, proof.PINKey = d.DeviceKey, d.PINKey
	}
	switch {
	case proof.DeviceOK && proof.PINOK && start != nil:
		if prep, err = start(d); err != nil {
			return store.Device{}, session.Prepared{}, err
		}
		proof.Session, proof.History = &prep.Session, &prep.History
	case proof.DeviceOK && !proof.PINOK:
		if start != nil {
			// A failed attempt enters the person's history too; the
			// store sets its outcome and time.
			if prep, err = start(d); err != nil {
				return store.Device{}, session.Prepared{}, err
			}
			proof.History = &prep.History
		}
		n, err := s.notices.Make(d.PersonID, notice.PINLocked, notice.Details{At: now, Device: d.Name})
		if err != nil {
			return store.Device{}, session.Prepared{}, fmt.Errorf("device: authenticate: %w", err)
		}
		proof.LockNotices = []store.Notice{n}
	}
	res, err := s.store.DecideDeviceProof(ctx, proof)
	if err != nil {
		return store.Device{}, session.Prepared{}, fmt.Errorf("device: authenticate: %w", err)
	}
	switch res.Outcome {
	case store.ProofAccepted:
		return res.Device, prep, nil
	case store.ProofPersonLocked:
		return store.Device{}, session.Prepared{}, session.ErrPersonLocked
	case store.ProofPINLocked:
		return store.Device{}, session.Prepared{}, ErrPINLocked
	case store.ProofWrongPIN, store.ProofLockedNow:
		s.record(ctx, audit.Event{Actor: subject(d.PersonID), Event: "device.pin_wrong", Subject: subject(d.PersonID), ClientIP: clientIP,
			Details: map[string]any{"device": string(dev), "purpose": purpose, "failures": res.Failures}})
		if res.Outcome == store.ProofWrongPIN {
			return store.Device{}, session.Prepared{}, &WrongPINError{Remaining: s.cfg.PINLimit - res.Failures}
		}
		s.notices.Kick()
		s.record(ctx, audit.Event{Actor: "system", Event: "device.pin_locked", Subject: subject(d.PersonID),
			Details: map[string]any{"device": string(dev)}})
		return store.Device{}, session.Prepared{}, errLockedNow
	}
	return store.Device{}, session.Prepared{}, ErrProof
}

// errLockedNow is ErrPINLocked from an attempt that was counted (the one
// that reached the limit), as opposed to one refused by the lock.
var errLockedNow = fmt.Errorf("%w by this attempt", ErrPINLocked)

// amrMethods are the RFC 8176 values an app may report for how the person
// opened the PIN key: the PIN typed, a fingerprint or the face.
var amrMethods = map[string]bool{"pin": true, "fpt": true, "face": true}

// VerifiedAMR returns the authentication methods (RFC 8176) an app proof
// shows the server: "hwk", the device key signed, and "pin", the PIN key
// signed. Biometrics only open a stored copy of the PIN key's seed on the
// phone, so the signature is the same whether the PIN was typed or a finger
// or face was used, and the server cannot tell. What the app reports (pin,
// fpt, face) is therefore information for the audit trail, never an amr
// value of a session or token.
func VerifiedAMR() []string { return []string{"hwk", "pin"} }

// Login answers a login challenge with both keys and starts an app session at
// the binding's level, amr VerifiedAMR. method, what the app reports, is
// recorded as reported_method in the audit event and nowhere else.
func (s *Service) Login(ctx context.Context, dev store.DeviceID, p Proof, method, clientIP, userAgent string) (session.Token, store.Session, error) {
	if !amrMethods[method] {
		method = "pin"
	}
	start := func(d store.Device) (session.Prepared, error) {
		return s.sessions.Prepare(session.New{PersonID: d.PersonID, Kind: session.KindApp, Level: session.Level(d.Level),
			AMR: VerifiedAMR(), Origin: session.OriginDevice, ClientIP: clientIP, UserAgent: userAgent, DeviceName: d.Name})
	}
	d, prep, err := s.authenticate(ctx, dev, PurposeLogin, appclient.ContentHash(PurposeLogin, "", nil), p, clientIP, start)
	if err != nil {
		return "", store.Session{}, err
	}
	s.record(ctx, audit.Event{Actor: subject(d.PersonID), Event: "device.login", Subject: subject(d.PersonID), ClientIP: clientIP,
		Details: map[string]any{"device": string(dev), "level": d.Level, "reported_method": method}})
	return prep.Token, prep.Session, nil
}

// ChangePIN replaces the PIN key after a proof with the old PIN. The proof
// signs the new key and KDF parameters.
func (s *Service) ChangePIN(ctx context.Context, dev store.DeviceID, newPINKey []byte, kdf string, p Proof, clientIP string) error {
	if err := s.checkPINKey(newPINKey, kdf); err != nil {
		return err
	}
	hash := appclient.ContentHash(PurposePINChange, "", appclient.PINChangeContent(newPINKey, []byte(kdf)))
	d, _, err := s.authenticate(ctx, dev, PurposePINChange, hash, p, clientIP, nil)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if _, err := s.store.UpdateDevice(ctx, dev, func(x *store.Device) error {
		x.PINKey, x.KDF, x.PINFailures, x.UpdatedAt = newPINKey, kdf, 0, now
		return nil
	}); err != nil {
		return fmt.Errorf("device: change pin: %w", err)
	}
	s.record(ctx, audit.Event{Actor: subject(d.PersonID), Event: "device.pin_changed", Subject: subject(d.PersonID), ClientIP: clientIP,
		Details: map[string]any{"device": string(dev)}})
	return nil
}

// Unbind removes the binding after a proof with the device and its PIN.
func (s *Service) Unbind(ctx context.Context, dev store.DeviceID, p Proof, clientIP string) error {
	d, _, err := s.authenticate(ctx, dev, PurposeUnbind, appclient.ContentHash(PurposeUnbind, "", nil), p, clientIP, nil)
	if err != nil {
		return err
	}
	return s.remove(ctx, d, "device", clientIP)
}

func (s *Service) remove(ctx context.Context, d store.Device, by, clientIP string) error {
	if err := removeDevice(ctx, s.store, s.notices, d, s.now()); err != nil {
		return err
	}
	s.notices.Kick()
	s.record(ctx, audit.Event{Actor: subject(d.PersonID), Event: "device.removed", Subject: subject(d.PersonID), ClientIP: clientIP,
		Details: map[string]any{"device": string(d.ID), "by": by}})
	return nil
}

// removeDevice marks d removed and queues the notice, in one transaction.
// ErrNotFound when it is already removed.
func removeDevice(ctx context.Context, st Store, notices Notices, d store.Device, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	n, err := notices.Make(d.PersonID, notice.DeviceRemoved, notice.Details{At: now, Device: d.Name})
	if err != nil {
		return fmt.Errorf("device: remove: %w", err)
	}
	_, err = st.UpdateDevice(ctx, d.ID, func(x *store.Device) error {
		if !x.RemovedAt.IsZero() {
			return ErrNotFound
		}
		x.RemovedAt, x.UpdatedAt = now, now
		return nil
	}, n)
	return err
}

// List returns the person's bound devices.
func (s *Service) List(ctx context.Context, id store.PersonID) ([]store.Device, error) {
	return s.store.PersonDevices(ctx, id)
}

// Rename renames one of the person's devices.
func (s *Service) Rename(ctx context.Context, id store.PersonID, dev store.DeviceID, name string) error {
	if err := checkName("name", name, true); err != nil {
		return err
	}
	_, err := s.store.UpdateDevice(ctx, dev, func(x *store.Device) error {
		if x.PersonID != id || !x.RemovedAt.IsZero() {
			return ErrNotFound
		}
		x.Name, x.UpdatedAt = strings.TrimSpace(name), s.now().UTC().Truncate(time.Microsecond)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}
