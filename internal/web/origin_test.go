package web_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// currentSession reads the session of the browser's session cookie.
func (p *portal) currentSession(t *testing.T) store.Session {
	t.Helper()
	tok := p.cookie(t, "__Host-pforte_session")
	s, err := p.st.SessionByHash(t.Context(), session.Token(tok).Hash(), time.Now())
	if err != nil {
		t.Fatalf("session of the cookie: %v", err)
	}
	return s
}

// bindWithSession binds a new phone with the session (the eID way).
func (p *portal) bindWithSession(t *testing.T, s store.Session) (*appclient.Device, error) {
	t.Helper()
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	c, err := p.devices.NewChallenge(t.Context(), device.PurposeBind, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := phone.SignBind(pin, "iPhone von Jürgen", "iPhone 15", challengeOf(c))
	if err != nil {
		t.Fatal(err)
	}
	bound, err := p.devices.BindWithSession(t.Context(), s, b.DevicePublicKey, b.PINPublicKey, string(b.KDF), b.Name, b.Model,
		device.Proof{ChallengeID: c.ID, DeviceSignature: b.Proof.DeviceSignature, PINSignature: b.Proof.PINSignature}, "")
	phone.ID = string(bound.ID)
	return phone, err
}

// TestRaisedPortalSessionIsNoEIDSession: a portal login confirmed by a phone
// bound at level high is a session at level high, but its origin is the
// phone: it neither binds another phone at high nor unlocks a PIN. The
// account page names each session's origin.
func TestRaisedPortalSessionIsNoEIDSession(t *testing.T) {
	p := newPortal(t, options{tls: true})
	partner(t, p, startEID(t, p, "/zugang"), sim.Choice{Identity: identityMatch})
	done := p.post(t, "/passwort-festlegen", url.Values{"new_password": {strong}, "new_password_repeat": {strong}})
	if done.path != "/konto" || !strings.Contains(done.body, "<td>Online-Ausweis</td>") {
		t.Fatalf("after the eID at %s, the session list does not say Online-Ausweis:\n%s", done.path, done.body)
	}
	eidSession := p.currentSession(t)
	if eidSession.Origin != "eid" || eidSession.Level != "high" {
		t.Fatalf("eID session: origin %q level %q", eidSession.Origin, eidSession.Level)
	}
	phone, err := p.bindWithSession(t, eidSession)
	if err != nil {
		t.Fatalf("bind with the eID session: %v", err)
	}

	// A password login that the phone bound at high confirms.
	a := p.login(t)
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, a.body)); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, "/anmelden/freigabe"); a.path != "/konto" || !strings.Contains(a.body, "<strong>hoch</strong>") ||
		!strings.Contains(a.body, "<td>Smartphone (Service-App)</td>") {
		t.Fatalf("after the confirmation at %s:\n%s", a.path, a.body)
	}
	raised := p.currentSession(t)
	if raised.Level != "high" || raised.Origin != "device" {
		t.Fatalf("raised session: level %q origin %q, want high from device", raised.Level, raised.Origin)
	}
	if _, err := p.bindWithSession(t, raised); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("bind with the raised portal session = %v, want ErrBindRefused", err)
	}

	// Lock the phone's PIN, then try to unlock it with the raised session.
	for range 3 {
		c, err := p.devices.NewChallenge(t.Context(), device.PurposeLogin, store.DeviceID(phone.ID))
		if err != nil {
			t.Fatal(err)
		}
		proof, err := phone.Sign("000000", challengeOf(c), appclient.ContentHash(device.PurposeLogin, "", nil))
		if err != nil {
			t.Fatal(err)
		}
		p.devices.Login(t.Context(), store.DeviceID(phone.ID), device.Proof{ChallengeID: c.ID, DeviceSignature: proof.DeviceSignature,
			PINSignature: proof.PINSignature}, "pin", "", "")
	}
	c, err := p.devices.NewChallenge(t.Context(), device.PurposeBind, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := phone.SignBind("604817", "iPhone von Jürgen", "iPhone 15", challengeOf(c))
	if err != nil {
		t.Fatal(err)
	}
	unlock := func(s store.Session) error {
		return p.devices.UnlockWithSession(t.Context(), store.DeviceID(phone.ID), s, b.DevicePublicKey, b.PINPublicKey,
			string(b.KDF), b.Name, b.Model, device.Proof{ChallengeID: c.ID, DeviceSignature: b.Proof.DeviceSignature,
				PINSignature: b.Proof.PINSignature}, "")
	}
	if err := unlock(raised); !errors.Is(err, device.ErrBindRefused) {
		t.Errorf("unlock with the raised portal session = %v, want ErrBindRefused", err)
	}
}
