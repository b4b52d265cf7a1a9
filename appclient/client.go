package appclient

// This file is the app's HTTP side: one method per call of the app API
// (docs/api.md), each of which fetches its own challenge, signs it with the
// device and sends the proof. Responses are read strictly: at most
// MaxResponseBytes, one JSON value, every required member present with its
// type. Unknown members are ignored, as in Challenge, so that the server can
// add some without breaking deployed apps.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBytes bounds every response body the client reads.
const MaxResponseBytes = 1 << 20

// ActionPortalLogin is the approval action of a portal login step-up: the
// person taps the number the portal shows among Approval.Choices.
const ActionPortalLogin = "portal.login"

// Client calls a Pforte server's app API. The zero value is not usable: set
// BaseURL. Methods that sign take the Device and never keep it.
type Client struct {
	// BaseURL is the server, e.g. "https://kasse.example". It must be https,
	// or http for a loopback host (localhost, 127.0.0.0/8, ::1); see
	// CheckServerURL.
	BaseURL string
	// HTTP sends the requests; nil means a client with a 30-second timeout
	// that does not follow redirects.
	HTTP *http.Client
	// UserAgent, when set, names the app to the server (the person sees
	// it in their sign-in history).
	UserAgent string
}

var defaultHTTP = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Errors of the client besides *APIError.
var (
	// ErrResponse: the server's answer is not what the API promises.
	ErrResponse = errors.New("invalid server response")
	// ErrContentHash: an approval's content_hash is not the hash of its
	// action, text and data. The app refuses to show or sign it.
	ErrContentHash = errors.New("approval content hash does not match its content")
	// ErrNotBound: the device has no id yet; bind it first.
	ErrNotBound = errors.New("device is not bound")
	// ErrServerURL: the base URL is not https (or http on loopback).
	ErrServerURL = errors.New("invalid server url")
)

// APIError is an answer of the server other than the expected success:
// {"error": code, "message": German text}, plus remaining_attempts for a wrong
// PIN. Message is written for the person and may be shown as is.
type APIError struct {
	Status            int    // HTTP status
	Code              string // the "error" member; empty if the body had none
	Message           string // German text for the person
	RemainingAttempts *int   // set only for a wrong PIN
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("server answered %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IsWrongPIN reports whether err is the server's answer to a wrong PIN, and
// how many attempts remain before the PIN is locked.
func IsWrongPIN(err error) (remaining int, ok bool) {
	var e *APIError
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized && e.Code == "authentication_failed" && e.RemainingAttempts != nil {
		return *e.RemainingAttempts, true
	}
	return 0, false
}

// IsPINLocked reports whether err says the binding's PIN is locked.
func IsPINLocked(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == "pin_locked"
}

// IsDeclinedOrExpired reports whether err says the approval is no longer
// pending (answered, declined, used) or has expired.
func IsDeclinedOrExpired(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == "not_pending" || e.Code == "expired")
}

// CheckServerURL reports whether raw may be a server's base URL: an absolute
// https URL with a host, or http for a loopback host, without user info, query
// or fragment.
func CheckServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrServerURL, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%w: want scheme://host[:port][/path] without user, query or fragment", ErrServerURL)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: http is allowed only for a loopback host, use https", ErrServerURL)
	}
	return fmt.Errorf("%w: scheme %q, want https", ErrServerURL, u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Session is an app session: its bearer token, level and amr values.
type Session struct {
	Token string
	Level string
	AMR   []string
}

// String prints level and amr, never the token.
func (s Session) String() string {
	return fmt.Sprintf("appclient.Session{level=%s amr=%v}", s.Level, s.AMR)
}

// GoString is String, so %#v prints no token either.
func (s Session) GoString() string { return s.String() }

// DeviceInfo is one bound device as the server lists it.
type DeviceInfo struct {
	ID        string
	Name      string
	Model     string
	Level     string
	BoundAt   time.Time
	PINLocked bool
}

// Approval is a pending approval request as the app shows it. ContentHash has
// been checked against Action, Text and Data; Approve signs a hash it computes
// again from them.
type Approval struct {
	ID          string
	Action      string // e.g. "portal.login", "address.change"
	Text        string // German display text, shown exactly as sent
	Data        []byte // the exact data bytes
	ContentHash [ContentHashSize]byte
	Choices     []int // number choices; only for ActionPortalLogin
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Challenge asks the server for a challenge of purpose, for the bound device
// deviceID (empty for a bind).
func (c *Client) Challenge(ctx context.Context, purpose, deviceID string) (Challenge, error) {
	return c.ChallengeFor(ctx, purpose, deviceID, "")
}

// ChallengeFor asks for a challenge that is also bound to one approval request:
// approve and decline challenges name their request (approvalID), other
// purposes none.
func (c *Client) ChallengeFor(ctx context.Context, purpose, deviceID, approvalID string) (Challenge, error) {
	if !KnownPurpose(purpose) {
		return Challenge{}, fmt.Errorf("challenge: unknown purpose %q", purpose)
	}
	req := struct {
		Purpose    string `json:"purpose"`
		DeviceID   string `json:"device_id,omitempty"`
		ApprovalID string `json:"approval_id,omitempty"`
	}{purpose, deviceID, approvalID}
	var ch Challenge
	if err := c.call(ctx, http.MethodPost, "/api/v1/app/challenges", "", req, http.StatusCreated, &ch); err != nil {
		return Challenge{}, fmt.Errorf("challenge: %w", err)
	}
	if ch.Purpose != purpose {
		return Challenge{}, fmt.Errorf("challenge: %w: purpose %q, asked for %q", ErrResponse, ch.Purpose, purpose)
	}
	return ch, nil
}

// Bind binds d with a letter: kvnr, the account's password and the activation
// code (the code or the whole activation URL from the letter's QR code) prove
// the person; pin becomes the Freigabe-PIN (CheckNewPIN). On success d.ID and
// d.Server are set; the caller saves the state.
func (c *Client) Bind(ctx context.Context, d *Device, kvnr, password, activationCode, pin, name, model string) (deviceID, level string, err error) {
	if d.ID != "" {
		return "", "", errors.New("bind: device is already bound")
	}
	if err := CheckNewPIN(pin); err != nil {
		return "", "", fmt.Errorf("bind: %w", err)
	}
	ch, err := c.Challenge(ctx, PurposeBind, "")
	if err != nil {
		return "", "", fmt.Errorf("bind: %w", err)
	}
	b, err := d.SignBind(pin, name, model, ch)
	if err != nil {
		return "", "", err
	}
	req := struct {
		KVNR            string `json:"kvnr"`
		Password        string `json:"password"`
		ActivationCode  string `json:"activation_code"`
		DeviceKey       string `json:"device_key"`
		PINKey          string `json:"pin_key"`
		KDF             string `json:"kdf"`
		Name            string `json:"name"`
		Model           string `json:"model"`
		ChallengeID     string `json:"challenge_id"`
		DeviceSignature string `json:"device_signature"`
		PINSignature    string `json:"pin_signature"`
	}{kvnr, password, activationCode, B64(b.DevicePublicKey), B64(b.PINPublicKey), string(b.KDF), b.Name, b.Model,
		ch.ID, B64(b.Proof.DeviceSignature), B64(b.Proof.PINSignature)}
	var resp struct {
		DeviceID *string `json:"device_id"`
		Level    *string `json:"level"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/devices", "", req, http.StatusCreated, &resp); err != nil {
		return "", "", fmt.Errorf("bind: %w", err)
	}
	if *resp.DeviceID == "" || *resp.Level == "" {
		return "", "", fmt.Errorf("bind: %w: empty device_id or level", ErrResponse)
	}
	d.ID, d.Server = *resp.DeviceID, c.BaseURL
	return d.ID, *resp.Level, nil
}

// UnlockWithLetter replaces the locked PIN of the bound device d with
// newPIN: kvnr, the account's password and the activation code of a new
// letter (the code or the whole activation URL) prove the person again, and
// d's device key and the new PIN key sign the bind content. name and model
// are signed as in a binding.
func (c *Client) UnlockWithLetter(ctx context.Context, d *Device, kvnr, password, activationCode, newPIN, name, model string) error {
	if d.ID == "" {
		return fmt.Errorf("unlock: %w", ErrNotBound)
	}
	if err := CheckNewPIN(newPIN); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	ch, err := c.Challenge(ctx, PurposeBind, "")
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	b, err := d.SignBind(newPIN, name, model, ch)
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	req := struct {
		KVNR            string `json:"kvnr"`
		Password        string `json:"password"`
		ActivationCode  string `json:"activation_code"`
		DeviceKey       string `json:"device_key"`
		PINKey          string `json:"pin_key"`
		KDF             string `json:"kdf"`
		Name            string `json:"name"`
		Model           string `json:"model"`
		ChallengeID     string `json:"challenge_id"`
		DeviceSignature string `json:"device_signature"`
		PINSignature    string `json:"pin_signature"`
	}{kvnr, password, activationCode, B64(b.DevicePublicKey), B64(b.PINPublicKey), string(b.KDF), b.Name, b.Model,
		ch.ID, B64(b.Proof.DeviceSignature), B64(b.Proof.PINSignature)}
	if err := c.call(ctx, http.MethodPost, "/api/v1/devices/"+url.PathEscape(d.ID)+"/unlock", "", req, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// proofJSON is the proof as every signed request carries it.
type proofJSON struct {
	DeviceID        string `json:"device_id,omitempty"`
	ChallengeID     string `json:"challenge_id"`
	DeviceSignature string `json:"device_signature"`
	PINSignature    string `json:"pin_signature,omitempty"`
}

func newProofJSON(deviceID string, ch Challenge, p Proof) proofJSON {
	j := proofJSON{DeviceID: deviceID, ChallengeID: ch.ID, DeviceSignature: B64(p.DeviceSignature)}
	if p.PINSignature != nil {
		j.PINSignature = B64(p.PINSignature)
	}
	return j
}

// answer fetches a challenge of purpose for d and signs contentHash with both
// keys.
func (c *Client) answer(ctx context.Context, d *Device, pin, purpose, approvalID string, contentHash [ContentHashSize]byte) (Challenge, Proof, error) {
	if d.ID == "" {
		return Challenge{}, Proof{}, ErrNotBound
	}
	if err := CheckPINFormat(pin); err != nil {
		return Challenge{}, Proof{}, err
	}
	ch, err := c.ChallengeFor(ctx, purpose, d.ID, approvalID)
	if err != nil {
		return Challenge{}, Proof{}, err
	}
	p, err := d.Sign(pin, ch, contentHash)
	if err != nil {
		return Challenge{}, Proof{}, err
	}
	return ch, p, nil
}

// checkMethod returns method, "pin" when empty, or an error for another value.
func checkMethod(method string) (string, error) {
	switch method {
	case "":
		return AMRPIN, nil
	case AMRPIN, AMRFingerprint, AMRFace:
		return method, nil
	}
	return "", fmt.Errorf("unknown method %q, want %s, %s or %s", method, AMRPIN, AMRFingerprint, AMRFace)
}

// Login answers a login challenge with the device key and the PIN key of pin
// and returns the app session. method is what unlocked the PIN key: "pin"
// (also for ""), "fpt" or "face"; the server records it for information
// only; the session's AMR is what it verified, ["hwk", "pin"].
func (c *Client) Login(ctx context.Context, d *Device, pin, method string) (Session, error) {
	method, err := checkMethod(method)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	ch, p, err := c.answer(ctx, d, pin, PurposeLogin, "", ContentHash(PurposeLogin, "", nil))
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	req := struct {
		proofJSON
		Method string `json:"method"`
	}{newProofJSON(d.ID, ch, p), method}
	var resp struct {
		Token *string   `json:"session_token"`
		Level *string   `json:"level"`
		AMR   *[]string `json:"amr"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/app/sessions", "", req, http.StatusCreated, &resp); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if *resp.Token == "" {
		return Session{}, fmt.Errorf("login: %w: empty session_token", ErrResponse)
	}
	return Session{Token: *resp.Token, Level: *resp.Level, AMR: *resp.AMR}, nil
}

// Devices lists the person's bound devices with an app or portal session
// token.
func (c *Client) Devices(ctx context.Context, token string) ([]DeviceInfo, error) {
	var resp []struct {
		ID        *string    `json:"device_id"`
		Name      *string    `json:"name"`
		Model     *string    `json:"model"`
		Level     *string    `json:"level"`
		BoundAt   *time.Time `json:"bound_at"`
		PINLocked *bool      `json:"pin_locked"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/devices", token, nil, http.StatusOK, &resp); err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	out := make([]DeviceInfo, len(resp))
	for i, r := range resp {
		out[i] = DeviceInfo{ID: *r.ID, Name: *r.Name, Model: *r.Model, Level: *r.Level, BoundAt: *r.BoundAt, PINLocked: *r.PINLocked}
	}
	return out, nil
}

// ChangePIN replaces the Freigabe-PIN: the device key and the key of oldPIN
// sign the key of newPIN (CheckNewPIN), derived with the same KDF parameters.
// d.KDF is updated once the server agrees; the caller saves the state.
func (c *Client) ChangePIN(ctx context.Context, d *Device, oldPIN, newPIN string) error {
	if d.ID == "" {
		return fmt.Errorf("change pin: %w", ErrNotBound)
	}
	if err := CheckPINFormat(oldPIN); err != nil {
		return fmt.Errorf("change pin: old %w", err)
	}
	if err := CheckNewPIN(newPIN); err != nil {
		return fmt.Errorf("change pin: new %w", err)
	}
	ch, err := c.Challenge(ctx, PurposePINChange, d.ID)
	if err != nil {
		return fmt.Errorf("change pin: %w", err)
	}
	pc, err := d.SignPINChange(oldPIN, newPIN, d.KDF, ch)
	if err != nil {
		return err
	}
	p := newProofJSON("", ch, pc.Proof)
	req := struct {
		PINKey string `json:"pin_key"`
		KDF    string `json:"kdf"`
		proofJSON
	}{B64(pc.PINPublicKey), string(pc.KDF), p}
	if err := c.call(ctx, http.MethodPost, "/api/v1/devices/"+url.PathEscape(d.ID)+"/pin", "", req, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("change pin: %w", err)
	}
	d.KDF = pc.NewKDF
	return nil
}

// Unbind removes d's binding with the device key and the PIN key of pin. On
// success d.ID is cleared; the caller saves or deletes the state.
func (c *Client) Unbind(ctx context.Context, d *Device, pin string) error {
	ch, p, err := c.answer(ctx, d, pin, PurposeUnbind, "", ContentHash(PurposeUnbind, "", nil))
	if err != nil {
		return fmt.Errorf("unbind: %w", err)
	}
	if err := c.call(ctx, http.MethodDelete, "/api/v1/devices/"+url.PathEscape(d.ID), "", newProofJSON("", ch, p), http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("unbind: %w", err)
	}
	d.ID = ""
	return nil
}

// Approvals lists the pending approvals for the person of the app session
// token. It checks every content_hash against ContentHash(action, text, data)
// and refuses the whole answer (ErrContentHash) if one does not match: a
// server that sends such a hash is broken or not to be trusted.
func (c *Client) Approvals(ctx context.Context, token string) ([]Approval, error) {
	var resp []struct {
		ID          *string    `json:"approval_id"`
		Action      *string    `json:"action"`
		Text        *string    `json:"text"`
		Data        *string    `json:"data"`
		ContentHash *string    `json:"content_hash"`
		CreatedAt   *time.Time `json:"created_at"`
		ExpiresAt   *time.Time `json:"expires_at"`
		Choices     *[]int     `json:"number_choices,omitempty"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/app/approvals", token, nil, http.StatusOK, &resp); err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	out := make([]Approval, len(resp))
	for i, r := range resp {
		a := Approval{ID: *r.ID, Action: *r.Action, Text: *r.Text, CreatedAt: *r.CreatedAt, ExpiresAt: *r.ExpiresAt}
		if a.ID == "" || a.Action == "" {
			return nil, fmt.Errorf("approvals: %w: empty approval_id or action", ErrResponse)
		}
		data, err := UnB64(*r.Data)
		if err != nil {
			return nil, fmt.Errorf("approvals: %w: %s: data: %v", ErrResponse, a.ID, err)
		}
		a.Data = data
		h, err := UnB64(*r.ContentHash)
		if err != nil || len(h) != ContentHashSize {
			return nil, fmt.Errorf("approvals: %w: %s: content_hash is not 32 bytes of base64url", ErrResponse, a.ID)
		}
		if ContentHash(a.Action, a.Text, a.Data) != [ContentHashSize]byte(h) {
			return nil, fmt.Errorf("approvals: %s: %w", a.ID, ErrContentHash)
		}
		a.ContentHash = [ContentHashSize]byte(h)
		if r.Choices != nil {
			a.Choices = *r.Choices
		}
		if (a.Action == ActionPortalLogin) != (len(a.Choices) > 0) {
			return nil, fmt.Errorf("approvals: %w: %s: number_choices belong to %s approvals only", ErrResponse, a.ID, ActionPortalLogin)
		}
		out[i] = a
	}
	return out, nil
}

// Approve approves a with the device key and the PIN key of pin, signing an
// "approve" challenge over ContentHash(a.Action, a.Text, a.Data), computed
// here and never taken from the server. number is the number the person
// tapped for a portal.login approval (one of a.Choices) and must be 0
// otherwise.
func (c *Client) Approve(ctx context.Context, d *Device, a Approval, pin, method string, number int) error {
	method, err := checkMethod(method)
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	if a.ID == "" || a.Action == "" {
		return errors.New("approve: approval without id or action")
	}
	var num *int
	switch {
	case a.Action == ActionPortalLogin && !slices.Contains(a.Choices, number):
		return fmt.Errorf("approve: number %d is not one of %v", number, a.Choices)
	case a.Action == ActionPortalLogin:
		num = &number
	case number != 0:
		return fmt.Errorf("approve: a %s approval takes no number", a.Action)
	}
	ch, p, err := c.answer(ctx, d, pin, PurposeApprove, a.ID, ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	req := struct {
		proofJSON
		Method string `json:"method"`
		Number *int   `json:"number,omitempty"`
	}{newProofJSON(d.ID, ch, p), method, num}
	if err := c.call(ctx, http.MethodPost, "/api/v1/approvals/"+url.PathEscape(a.ID)+"/approve", "", req, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	return nil
}

// Decline declines a with the device key alone, signing a "decline"
// challenge issued for a over a's own content hash, as docs/app-protocol.md
// has it. notMe marks the request as not started by the person, for staff.
func (c *Client) Decline(ctx context.Context, d *Device, a Approval, notMe bool) error {
	if d.ID == "" {
		return fmt.Errorf("decline: %w", ErrNotBound)
	}
	if a.ID == "" {
		return errors.New("decline: approval without id")
	}
	ch, err := c.ChallengeFor(ctx, PurposeDecline, d.ID, a.ID)
	if err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	// The decline covers what was shown, like an approval.
	p, err := d.SignDevice(ch, ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	req := struct {
		proofJSON
		NotMe bool `json:"not_me"`
	}{newProofJSON(d.ID, ch, p), notMe}
	if err := c.call(ctx, http.MethodPost, "/api/v1/approvals/"+url.PathEscape(a.ID)+"/decline", "", req, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	return nil
}

// call sends body as JSON (none when nil) with the bearer token (none when
// empty), expects status want and decodes the answer into out (ignored when
// nil). Any other status is an *APIError.
func (c *Client) call(ctx context.Context, method, path, token string, body any, want int, out any) error {
	if err := CheckServerURL(c.BaseURL); err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if len(b) > MaxResponseBytes {
		return fmt.Errorf("%w: body larger than %d bytes", ErrResponse, MaxResponseBytes)
	}
	if resp.StatusCode != want {
		return parseAPIError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := decodeStrict(b, out); err != nil {
		return fmt.Errorf("%w: %v", ErrResponse, err)
	}
	return nil
}

// parseAPIError reads an error answer. A body that is not the API's error
// object (a proxy's HTML page) still gives an *APIError with the status.
func parseAPIError(status int, b []byte) *APIError {
	e := &APIError{Status: status}
	var raw struct {
		Error     *string `json:"error"`
		Message   *string `json:"message"`
		Remaining *int    `json:"remaining_attempts"`
	}
	if json.Unmarshal(b, &raw) != nil {
		e.Message = http.StatusText(status)
		return e
	}
	if raw.Error != nil {
		e.Code = *raw.Error
	}
	if raw.Message != nil {
		e.Message = *raw.Message
	}
	if raw.Remaining != nil && *raw.Remaining >= 0 {
		e.RemainingAttempts = raw.Remaining
	}
	return e
}

// decodeStrict decodes exactly one JSON value from b into out and checks that
// every pointer member of the structs in it is present, unless its tag says
// omitempty.
func decodeStrict(b []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return checkRequired(reflect.ValueOf(out))
}

func checkRequired(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return checkRequired(v.Elem())
	case reflect.Slice:
		for i := range v.Len() {
			if err := checkRequired(v.Index(i)); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Type.Kind() != reflect.Pointer {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if v.Field(i).IsNil() && !strings.Contains(opts, "omitempty") {
				return fmt.Errorf("member %s missing or null", strconv.Quote(name))
			}
		}
	}
	return nil
}
