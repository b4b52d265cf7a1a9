package appclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// cardRequest is the body of an eGK binding or unlock (docs/api.md).
type cardRequest struct {
	DeviceKey       string `json:"device_key"`
	PINKey          string `json:"pin_key"`
	KDF             string `json:"kdf"`
	Name            string `json:"name"`
	Model           string `json:"model"`
	ChallengeID     string `json:"challenge_id"`
	DeviceSignature string `json:"device_signature"`
	PINSignature    string `json:"pin_signature"`
	CardCertificate string `json:"card_certificate"`
	Statement       string `json:"statement"`
	CardSignature   string `json:"card_signature"`
	ActivationCode  string `json:"activation_code,omitempty"`
}

func newCardRequest(p CardPairing, ch Challenge, activationCode string) cardRequest {
	return cardRequest{B64(p.DevicePublicKey), B64(p.PINPublicKey), string(p.KDF), p.Name, p.Model, ch.ID,
		B64(p.Proof.DeviceSignature), B64(p.Proof.PINSignature), B64(p.CardCertificate), B64(p.Statement),
		B64(p.CardSignature), activationCode}
}

// pairing fetches a bind-egk challenge and signs it with d, the new PIN and
// the card.
func (c *Client) pairing(ctx context.Context, d *Device, card Card, pin, name, model string) (Challenge, CardPairing, error) {
	if err := CheckNewPIN(pin); err != nil {
		return Challenge{}, CardPairing{}, err
	}
	ch, err := c.Challenge(ctx, PurposeBindEGK, "")
	if err != nil {
		return Challenge{}, CardPairing{}, err
	}
	p, err := d.SignPairing(pin, name, model, ch, card)
	if err != nil {
		return Challenge{}, CardPairing{}, err
	}
	return ch, p, nil
}

// BindWithCard binds d with the health card at level high: the card signs a
// pairing statement over d's keys (SignPairing), and the account is named
// either by the app or portal session sessionToken of a person who logged in
// with a password, or by a letter's activationCode (the code, or the whole
// activation URL); exactly one of the two. The card's KVNR must be the
// account's. pin becomes the Freigabe-PIN. On success d.ID and d.Server are
// set (the caller saves the state) and the answer carries an app session
// whose origin is the card.
func (c *Client) BindWithCard(ctx context.Context, d *Device, card Card, pin, name, model, sessionToken, activationCode string) (deviceID, level string, s Session, err error) {
	if d.ID != "" {
		return "", "", Session{}, errors.New("bind with card: device is already bound")
	}
	if (sessionToken == "") == (activationCode == "") {
		return "", "", Session{}, errors.New("bind with card: give a session token or an activation code, not both")
	}
	ch, p, err := c.pairing(ctx, d, card, pin, name, model)
	if err != nil {
		return "", "", Session{}, fmt.Errorf("bind with card: %w", err)
	}
	var resp struct {
		DeviceID *string   `json:"device_id"`
		Level    *string   `json:"level"`
		Token    *string   `json:"session_token"`
		AMR      *[]string `json:"amr"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/devices/egk", sessionToken, newCardRequest(p, ch, activationCode),
		http.StatusCreated, &resp); err != nil {
		return "", "", Session{}, fmt.Errorf("bind with card: %w", err)
	}
	if *resp.DeviceID == "" || *resp.Level == "" || *resp.Token == "" {
		return "", "", Session{}, fmt.Errorf("bind with card: %w: empty device_id, level or session_token", ErrResponse)
	}
	d.ID, d.Server = *resp.DeviceID, c.BaseURL
	return d.ID, *resp.Level, Session{Token: *resp.Token, Level: *resp.Level, AMR: *resp.AMR}, nil
}

// UnlockWithCard replaces the locked PIN of the bound device d with newPIN:
// the card of the device's person signs a pairing statement over d's device
// key and the new PIN key. name and model are signed as in a binding.
func (c *Client) UnlockWithCard(ctx context.Context, d *Device, card Card, newPIN, name, model string) error {
	if d.ID == "" {
		return fmt.Errorf("unlock with card: %w", ErrNotBound)
	}
	ch, p, err := c.pairing(ctx, d, card, newPIN, name, model)
	if err != nil {
		return fmt.Errorf("unlock with card: %w", err)
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/devices/"+url.PathEscape(d.ID)+"/unlock/egk", "", newCardRequest(p, ch, ""),
		http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("unlock with card: %w", err)
	}
	return nil
}

// PasswordLogin logs in with the KVNR and the account's password and returns
// the session token, which names the account for BindWithCard. A session
// that must first replace the letter's initial password does not.
func (c *Client) PasswordLogin(ctx context.Context, kvnr, password string) (string, error) {
	req := struct {
		KVNR     string `json:"kvnr"`
		Password string `json:"password"`
	}{kvnr, password}
	var resp struct {
		Token      *string `json:"session_token"`
		MustChange *bool   `json:"must_change_password"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/sessions", "", req, http.StatusCreated, &resp); err != nil {
		return "", fmt.Errorf("password login: %w", err)
	}
	if *resp.Token == "" {
		return "", fmt.Errorf("password login: %w: empty session_token", ErrResponse)
	}
	if *resp.MustChange {
		return "", errors.New("password login: the initial password must be replaced first (portal or service app)")
	}
	return *resp.Token, nil
}
