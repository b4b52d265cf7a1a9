package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Binding with the health card (eGK): the card's authentication key signs a
// pairing statement over the device key, the new PIN key, the KDF, name and
// model (docs/app-protocol.md section 12); package egk checks the card's
// certificate and its revocation. Unlike the other bindings, nothing is used
// up before every check passed: the challenge is looked at first and consumed
// last, so a refused request (a wrong card, a revoked certificate, another
// person's card) leaves the challenge, the activation code and every counter
// as they were. The order of the checks:
//
//	shape (keys, KDF, name, sizes) ──▶ challenge (looked at) ──▶ device and
//	PIN signatures ──▶ statement names this challenge and content ──▶
//	certificate (egk.Verifier.Verify) ──▶ card signature ──▶ account (the
//	session's or the activation code's person, or the device's, has the
//	card's KVNR) ──▶ device limit ──▶ revocation (CRL, OCSP) ──▶ challenge
//	and code consumed ──▶ bound at level high, notice, audit, session of
//	origin egk

// CardFlows binds and unlocks phones with the health card; it keeps the
// rules, the store and the clock of the Service it comes from
// (Service.Cards).
type CardFlows struct{ s *Service }

// Cards returns the health card flows of s.
func (s *Service) Cards() CardFlows { return CardFlows{s} }

// Enabled reports whether trust anchors are configured, so that the health
// card is offered.
func (c CardFlows) Enabled() bool { return c.s.cards != nil }

// Cards checks health card certificates (package egk).
type Cards interface {
	// Verify checks a card's C.CH.AUT certificate (DER) against the trust
	// anchors: a *egk.RefusedError says why not.
	Verify(der []byte) (egk.Card, error)
	// CheckRevocation asks the CRL and the OCSP responder: a
	// *egk.RefusedError when revoked or unknown, egk.ErrRevocationUnavailable
	// when no source can say.
	CheckRevocation(ctx context.Context, c egk.Card) error
}

// Errors of the eGK flows.
var (
	// ErrEGKOff: no trust anchors are configured, so the health card is not
	// offered.
	ErrEGKOff = errors.New("device: egk binding is not configured")
	// ErrCardStatement: the card signed a statement for another challenge
	// or another device (key, PIN key, KDF, name or model).
	ErrCardStatement = errors.New("device: the card's statement names another challenge or device")
	// ErrCardSignature: the card's signature does not verify under the
	// certificate's key.
	ErrCardSignature = errors.New("device: the card's signature does not verify")
	// ErrCardNotYours: the card's KVNR is not the account's.
	ErrCardNotYours = errors.New("device: the card belongs to another insured person")
)

// CardRequest binds, or unlocks, a device with the health card.
type CardRequest struct {
	DeviceKey   []byte
	PINKey      []byte
	KDF         string
	Name, Model string
	Proof       Proof
	// Certificate is the card's C.CH.AUT certificate (DER), Statement the
	// pairing statement P, CardSignature the card's P1363 signature of it.
	Certificate   []byte
	Statement     []byte
	CardSignature []byte
	// ActivationCode names the account by a letter's code when no session
	// does (binding only).
	ActivationCode string
	ClientIP       string
	UserAgent      string
}

// CardBinding is a binding made with the card and the app session it
// starts.
type CardBinding struct {
	Binding
	Token   session.Token
	Session store.Session
}

// CardAMR are the methods (RFC 8176) a session from a card binding shows:
// the device key, the new PIN key, and the smart card.
func CardAMR() []string { return []string{"hwk", "pin", "sc"} }

// checkCardShape checks the request's form before anything is looked up.
func (c CardFlows) checkCardShape(r CardRequest) error {
	s := c.s
	if s.cards == nil {
		return ErrEGKOff
	}
	if err := s.parseKeys(r.DeviceKey, r.PINKey, r.KDF); err != nil {
		return err
	}
	if err := checkName("name", r.Name, true); err != nil {
		return err
	}
	if err := checkName("model", r.Model, false); err != nil {
		return err
	}
	switch {
	case len(r.Certificate) == 0 || len(r.Certificate) > appclient.MaxCardCertificate:
		return field.Invalid("card_certificate", "Das Zertifikat der Gesundheitskarte fehlt oder ist zu lang.")
	case len(r.Statement) == 0 || len(r.Statement) > appclient.MaxPairingStatement:
		return field.Invalid("statement", "Die Erklärung der Gesundheitskarte fehlt oder ist zu lang.")
	case len(r.CardSignature) != appclient.CardSignatureSize:
		return field.Invalid("card_signature", "Die Signatur der Gesundheitskarte hat nicht die richtige Länge.")
	}
	return nil
}

// checkCard runs the checks of the card flows up to the account: the
// challenge (looked at, not consumed), the device and PIN signatures, the
// statement, the certificate and the card's signature. It returns the card.
func (c CardFlows) checkCard(ctx context.Context, r CardRequest) (egk.Card, error) {
	s := c.s
	id := r.Proof.ChallengeID
	ch, err := s.challenges.open(id, PurposeBindEGK, "", "", s.now())
	if err != nil {
		return egk.Card{}, err
	}
	if used, err := s.store.ChallengeUsed(ctx, ch.digest); err != nil {
		return egk.Card{}, fmt.Errorf("device: card: %w", err)
	} else if used {
		return egk.Card{}, ErrProof
	}
	h := appclient.PairingContentHash(r.DeviceKey, r.PINKey, []byte(r.KDF), r.Name, r.Model)
	msg := appclient.SignedMessage(PurposeBindEGK, id, ch.nonce, h)
	if dev, pin := appclient.VerifyProof(r.DeviceKey, r.PINKey, msg, appclient.Proof{DeviceSignature: r.Proof.DeviceSignature,
		PINSignature: r.Proof.PINSignature}); !dev || !pin {
		return egk.Card{}, ErrProof
	}
	st, err := appclient.ParsePairingStatement(r.Statement)
	if err != nil {
		return egk.Card{}, field.Invalid("statement", "Die Erklärung der Gesundheitskarte hat nicht die richtige Form.")
	}
	if st.ChallengeID != id || !bytes.Equal(st.Nonce, ch.nonce) || st.ContentHash != h {
		return egk.Card{}, ErrCardStatement
	}
	card, err := s.cards.Verify(r.Certificate)
	var refused *egk.RefusedError
	if errors.As(err, &refused) && refused.Reason == egk.ReasonMalformed {
		return egk.Card{}, field.Invalid("card_certificate", "Das Zertifikat der Gesundheitskarte ist kein gültiges X.509-Zertifikat.")
	}
	if err != nil {
		return egk.Card{}, err
	}
	if !appclient.VerifyCardSignature(card.PublicKey, r.Statement, r.CardSignature) {
		return egk.Card{}, ErrCardSignature
	}
	return card, nil
}

// BindWithCard binds a phone at level high with the health card. The
// account is named by sess, a session of the person (any but one that must
// first replace its initial password), or, when sess is nil, by the letter's
// activation code in r; the card's KVNR must be that person's. On success
// the challenge (and the code) are used up, the device is bound, a notice
// goes out, the audit trail records the method egk and the card's serial,
// and an app session of origin egk at level high starts.
func (c CardFlows) BindWithCard(ctx context.Context, sess *store.Session, r CardRequest) (CardBinding, error) {
	s := c.s
	if err := c.checkCardShape(r); err != nil {
		return CardBinding{}, err
	}
	code := strings.TrimSpace(r.ActivationCode)
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if (sess == nil) == (code == "") || len(code) > 256 || (sess != nil && sess.MustChangePassword) {
		return CardBinding{}, ErrBindRefused
	}
	card, err := c.checkCard(ctx, r)
	if err != nil {
		return CardBinding{}, err
	}
	now := s.now()
	var pid store.PersonID
	if sess != nil {
		pid = sess.PersonID
	} else {
		ot, err := s.store.OneTimeByDigest(ctx, ActivationKind, proofing.CodeDigest(code), now)
		if errors.Is(err, store.ErrNotFound) {
			return CardBinding{}, ErrBindRefused
		}
		if err != nil {
			return CardBinding{}, fmt.Errorf("device: card: %w", err)
		}
		if pid, err = store.ParsePersonRef(ot.Subject); err != nil {
			return CardBinding{}, ErrBindRefused
		}
	}
	p, err := s.store.PersonByID(ctx, pid)
	if err != nil {
		return CardBinding{}, fmt.Errorf("device: card: %w", err)
	}
	if card.KVNR != p.KVNR {
		s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "device.bind_refused", Subject: subject(p.ID), ClientIP: r.ClientIP,
			Details: map[string]any{"reason": "egk_kvnr", "card_serial": card.Serial.Text(16)}})
		return CardBinding{}, ErrCardNotYours
	}
	if devs, err := s.store.PersonDevices(ctx, p.ID); err != nil {
		return CardBinding{}, fmt.Errorf("device: card: %w", err)
	} else if len(devs) >= s.cfg.MaxDevices {
		return CardBinding{}, ErrTooManyDevices
	}
	if err := c.checkRevocation(ctx, p, card, r.ClientIP); err != nil {
		return CardBinding{}, err
	}
	if _, err := s.consume(ctx, r.Proof.ChallengeID, PurposeBindEGK, "", ""); err != nil {
		return CardBinding{}, err // used meanwhile by another request
	}
	if sess == nil {
		ot, err := s.store.ConsumeOneTime(ctx, ActivationKind, proofing.CodeDigest(code), s.now())
		if errors.Is(err, store.ErrNotFound) || (err == nil && ot.Subject != subject(p.ID)) {
			return CardBinding{}, ErrBindRefused
		}
		if err != nil {
			return CardBinding{}, fmt.Errorf("device: card: %w", err)
		}
	}
	b, err := s.add(ctx, p, r.DeviceKey, r.PINKey, r.KDF, r.Name, r.Model, string(session.LevelHigh), string(session.OriginEGK),
		r.ClientIP, map[string]any{"card_serial": card.Serial.Text(16)})
	if err != nil {
		return CardBinding{}, err
	}
	tok, created, err := s.sessions.Create(ctx, session.New{PersonID: p.ID, Kind: session.KindApp, Level: session.LevelHigh,
		AMR: CardAMR(), Origin: session.OriginEGK, OriginAt: now, ClientIP: r.ClientIP, UserAgent: r.UserAgent})
	if err != nil {
		return CardBinding{}, err
	}
	return CardBinding{Binding: b, Token: tok, Session: created}, nil
}

// UnlockWithCard sets a new PIN key on the bound device dev after a proof
// with the health card of the device's person: the device key must be the
// bound one, and the card signs the pairing statement over it and the new
// PIN key. No session or code is needed.
func (c CardFlows) UnlockWithCard(ctx context.Context, dev store.DeviceID, r CardRequest) error {
	s := c.s
	if err := c.checkCardShape(r); err != nil {
		return err
	}
	d, err := s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!d.RemovedAt.IsZero() || !bytes.Equal(d.DeviceKey, r.DeviceKey))) {
		return ErrProof
	}
	if err != nil {
		return fmt.Errorf("device: unlock: %w", err)
	}
	card, err := c.checkCard(ctx, r)
	if err != nil {
		return err
	}
	p, err := s.store.PersonByID(ctx, d.PersonID)
	if err != nil {
		return fmt.Errorf("device: unlock: %w", err)
	}
	if card.KVNR != p.KVNR {
		return ErrCardNotYours
	}
	if err := c.checkRevocation(ctx, p, card, r.ClientIP); err != nil {
		return err
	}
	if _, err := s.consume(ctx, r.Proof.ChallengeID, PurposeBindEGK, "", ""); err != nil {
		return err
	}
	return s.setNewPIN(ctx, d, r.PINKey, r.KDF, string(session.OriginEGK), r.ClientIP)
}

// checkRevocation asks the card's revocation sources; a revoked card is
// recorded in the audit trail.
func (c CardFlows) checkRevocation(ctx context.Context, p store.Person, card egk.Card, clientIP string) error {
	s := c.s
	err := s.cards.CheckRevocation(ctx, card)
	var refused *egk.RefusedError
	if errors.As(err, &refused) {
		s.record(ctx, audit.Event{Actor: subject(p.ID), Event: "device.bind_refused", Subject: subject(p.ID), ClientIP: clientIP,
			Details: map[string]any{"reason": "egk_" + string(refused.Reason), "card_serial": card.Serial.Text(16)}})
	}
	return err
}
