package appapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Devices runs device bindings and app logins (package device).
type Devices interface {
	NewChallengeFor(ctx context.Context, purpose string, dev store.DeviceID, forID string) (device.Challenge, error)
	BindWithLetter(ctx context.Context, r device.BindRequest) (device.Binding, error)
	BindWithSession(ctx context.Context, sess store.Session, deviceKey, pinKey []byte, kdf, name, model string, proof device.Proof, clientIP string) (device.Binding, error)
	Login(ctx context.Context, dev store.DeviceID, p device.Proof, method, clientIP, userAgent string) (session.Token, store.Session, error)
	ChangePIN(ctx context.Context, dev store.DeviceID, newPINKey []byte, kdf string, p device.Proof, clientIP string) error
	Unbind(ctx context.Context, dev store.DeviceID, p device.Proof, clientIP string) error
	UnlockWithLetter(ctx context.Context, dev store.DeviceID, r device.BindRequest) error
	UnlockWithSession(ctx context.Context, dev store.DeviceID, sess store.Session, deviceKey, pinKey []byte, kdf, name, model string, proof device.Proof, clientIP string) error
	List(ctx context.Context, id store.PersonID) ([]store.Device, error)
	Rename(ctx context.Context, id store.PersonID, dev store.DeviceID, name string) error
}

// Remover removes the person's devices from a session (package device): at
// once after a fresh eID identification, otherwise through an approval on a
// bound phone, which carries the removal out.
type Remover interface {
	Request(ctx context.Context, sess store.Session, dev store.DeviceID, client, clientIP string) (device.Removal, error)
}

// EnableDevices adds the device endpoints.
func (a *API) EnableDevices(d Devices) { a.devices = d }

// b64 is a base64url (no padding) byte string in JSON.
type b64 []byte

func (b *b64) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return &errBadRequest{"Ein Schlüssel oder eine Signatur ist kein base64url-Text."}
	}
	v, err := base64.RawURLEncoding.Strict().DecodeString(string(data[1 : len(data)-1]))
	if err != nil || len(v) > 1024 {
		return &errBadRequest{"Ein Schlüssel oder eine Signatur ist kein gültiger base64url-Text."}
	}
	*b = v
	return nil
}

func (b b64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + base64.RawURLEncoding.EncodeToString(b) + `"`), nil
}

type challengeRequest struct {
	Purpose    *string `json:"purpose"`
	DeviceID   string  `json:"device_id"`
	ApprovalID string  `json:"approval_id"`
}

type challengeResponse struct {
	ChallengeID string    `json:"challenge_id"`
	Nonce       b64       `json:"nonce"`
	Purpose     string    `json:"purpose"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (a *API) createChallenge(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := a.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	var req challengeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Purpose == nil || len(req.DeviceID) > 64 || len(req.ApprovalID) > 64 {
		return &errBadRequest{"Bitte geben Sie den Zweck (purpose) an."}
	}
	ch, err := a.devices.NewChallengeFor(r.Context(), *req.Purpose, store.DeviceID(req.DeviceID), req.ApprovalID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, challengeResponse{ChallengeID: ch.ID, Nonce: ch.Nonce, Purpose: ch.Purpose, ExpiresAt: ch.ExpiresAt})
}

type proofJSON struct {
	ChallengeID     string `json:"challenge_id"`
	DeviceSignature b64    `json:"device_signature"`
	PINSignature    b64    `json:"pin_signature"`
}

func (p proofJSON) proof() device.Proof {
	return device.Proof{ChallengeID: p.ChallengeID, DeviceSignature: p.DeviceSignature, PINSignature: p.PINSignature}
}

type bindRequest struct {
	KVNR           string `json:"kvnr"`
	Password       string `json:"password"`
	ActivationCode string `json:"activation_code"`
	DeviceKey      b64    `json:"device_key"`
	PINKey         b64    `json:"pin_key"`
	KDF            string `json:"kdf"`
	Name           string `json:"name"`
	Model          string `json:"model"`
	proofJSON
}

// bounded refuses overlong fields before anything looks at them.
func (req bindRequest) bounded() error {
	if len(req.KVNR) > 32 || len(req.Password) > 1024 || len(req.ActivationCode) > 256 || len(req.KDF) > 256 ||
		len(req.Name) > 256 || len(req.Model) > 256 || len(req.ChallengeID) > 64 {
		return &errBadRequest{"Ein Feld ist zu lang."}
	}
	return nil
}

// letterRequest is the letter-based identity proof of a binding request.
func (req bindRequest) letterRequest(r *http.Request) device.BindRequest {
	return device.BindRequest{KVNR: req.KVNR, Password: req.Password, ActivationCode: req.ActivationCode, DeviceKey: req.DeviceKey,
		PINKey: req.PINKey, KDF: req.KDF, Name: req.Name, Model: req.Model, Proof: req.proof(), ClientIP: remoteIP(r)}
}

type bindResponse struct {
	DeviceID string `json:"device_id"`
	Level    string `json:"level"`
}

// bindDevice binds with a letter (KVNR, password, activation code) or, with a
// Bearer session from a fresh eID identification, at level high.
func (a *API) bindDevice(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := a.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	var req bindRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := req.bounded(); err != nil {
		return err
	}
	var (
		b   device.Binding
		err error
	)
	if tok, ok := bearer(r); ok {
		s, aerr := a.sessions.Authenticate(r.Context(), tok)
		if aerr != nil {
			return errUnauthenticated
		}
		b, err = a.devices.BindWithSession(r.Context(), s, req.DeviceKey, req.PINKey, req.KDF, req.Name, req.Model, req.proof(), remoteIP(r))
	} else {
		b, err = a.devices.BindWithLetter(r.Context(), req.letterRequest(r))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, bindResponse{DeviceID: string(b.ID), Level: b.Level})
}

// unlockDevice sets a new PIN on a device whose PIN is locked, after a new
// identity proof: the same body as a binding (letter or Bearer eID session).
func (a *API) unlockDevice(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := a.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	var req bindRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := req.bounded(); err != nil {
		return err
	}
	dev := store.DeviceID(r.PathValue("id"))
	var err error
	if tok, ok := bearer(r); ok {
		s, aerr := a.sessions.Authenticate(r.Context(), tok)
		if aerr != nil {
			return errUnauthenticated
		}
		err = a.devices.UnlockWithSession(r.Context(), dev, s, req.DeviceKey, req.PINKey, req.KDF, req.Name, req.Model, req.proof(), remoteIP(r))
	} else {
		err = a.devices.UnlockWithLetter(r.Context(), dev, req.letterRequest(r))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type appSessionRequest struct {
	DeviceID string `json:"device_id"`
	Method   string `json:"method"`
	proofJSON
}

type appSessionResponse struct {
	SessionToken string   `json:"session_token"`
	Level        string   `json:"level"`
	AMR          []string `json:"amr"`
}

func (a *API) createAppSession(w http.ResponseWriter, r *http.Request) error {
	var req appSessionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DeviceID == "" || len(req.DeviceID) > 64 || len(req.ChallengeID) > 64 {
		return &errBadRequest{"Bitte geben Sie Geräte-ID, Challenge und Signaturen an."}
	}
	tok, s, err := a.devices.Login(r.Context(), store.DeviceID(req.DeviceID), req.proof(), req.Method, remoteIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, appSessionResponse{SessionToken: string(tok), Level: s.Level, AMR: s.AMR})
}

type deviceJSON struct {
	DeviceID  string    `json:"device_id"`
	Name      string    `json:"name"`
	Model     string    `json:"model"`
	Level     string    `json:"level"`
	BoundAt   time.Time `json:"bound_at"`
	PINLocked bool      `json:"pin_locked"`
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	list, err := a.devices.List(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(list))
	for _, d := range list {
		out = append(out, deviceJSON{DeviceID: string(d.ID), Name: d.Name, Model: d.Model, Level: d.Level, BoundAt: d.BoundAt,
			PINLocked: !d.PINLockedAt.IsZero()})
	}
	return writeJSON(w, http.StatusOK, out)
}

type renameRequest struct {
	Name *string `json:"name"`
}

func (a *API) renameDevice(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req renameRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return &errBadRequest{"Bitte geben Sie einen Namen an."}
	}
	if err := a.devices.Rename(r.Context(), s.PersonID, store.DeviceID(r.PathValue("id")), *req.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type pinChangeRequest struct {
	PINKey b64    `json:"pin_key"`
	KDF    string `json:"kdf"`
	proofJSON
}

func (a *API) changePIN(w http.ResponseWriter, r *http.Request) error {
	var req pinChangeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.KDF) > 256 || len(req.ChallengeID) > 64 {
		return &errBadRequest{"Ein Feld ist zu lang."}
	}
	if err := a.devices.ChangePIN(r.Context(), store.DeviceID(r.PathValue("id")), req.PINKey, req.KDF, req.proof(), remoteIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unbindDevice(w http.ResponseWriter, r *http.Request) error {
	var req proofJSON
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.ChallengeID) > 64 {
		return &errBadRequest{"Ein Feld ist zu lang."}
	}
	if err := a.devices.Unbind(r.Context(), store.DeviceID(r.PathValue("id")), req.proof(), remoteIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deviceError maps the device errors; ok is false for other errors.
func deviceError(w http.ResponseWriter, err error) bool {
	var (
		wrong *device.WrongPINError
		inv   *field.Error
	)
	switch {
	case errors.As(err, &wrong):
		_ = writeJSON(w, http.StatusUnauthorized, authFailedJSON{Error: "authentication_failed",
			Message:           "Die Freigabe ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.",
			RemainingAttempts: &wrong.Remaining})
	case errors.Is(err, device.ErrProof):
		_ = writeJSON(w, http.StatusUnauthorized, authFailedJSON{Error: "authentication_failed",
			Message: "Die Freigabe ist fehlgeschlagen. Bitte versuchen Sie es noch einmal."})
	case errors.Is(err, device.ErrPINLocked):
		_ = writeJSON(w, http.StatusLocked, authFailedJSON{Error: "pin_locked",
			Message: "Ihre Freigabe-PIN ist gesperrt. Sie können sie mit einem neuen Brief oder dem Online-Ausweis entsperren."})
	case errors.Is(err, device.ErrPINBusy):
		retryAfter(w, time.Second)
		_ = writeJSON(w, http.StatusTooManyRequests, authFailedJSON{Error: "pin_busy",
			Message: "Gerade laufen schon Anmeldungen mit diesem Gerät. Bitte versuchen Sie es gleich noch einmal."})
	case errors.Is(err, device.ErrBindRefused):
		_ = writeJSON(w, http.StatusUnauthorized, authFailedJSON{Error: "bind_refused",
			Message: "Das Gerät konnte nicht verbunden werden. Bitte prüfen Sie Versichertennummer, Passwort und QR-Code."})
	case errors.Is(err, device.ErrTooManyDevices):
		_ = writeJSON(w, http.StatusConflict, authFailedJSON{Error: "too_many_devices",
			Message: "Sie haben bereits die größte erlaubte Zahl an Geräten verbunden. Bitte trennen Sie zuerst ein Gerät."})
	case errors.Is(err, device.ErrNotFound):
		_ = writeJSON(w, http.StatusNotFound, authFailedJSON{Error: "not_found", Message: "Dieses Gerät gibt es nicht."})
	case errors.As(err, &inv):
		_ = writeJSON(w, http.StatusBadRequest, fieldErrorJSON{Error: "invalid_field", Field: inv.Name, Message: inv.Message})
	default:
		return false
	}
	return true
}

type authFailedJSON struct {
	Error             string `json:"error"`
	Message           string `json:"message"`
	RemainingAttempts *int   `json:"remaining_attempts,omitempty"`
}

type activationLetterResponse struct {
	Status   string `json:"status"`
	InReview bool   `json:"in_review"`
	Message  string `json:"message"`
}

// orderActivationLetter sends the logged-in person an activation letter (QR
// code only) to bind a phone.
func (a *API) orderActivationLetter(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	inReview, err := a.access.OrderActivationLetter(r.Context(), s.PersonID, remoteIP(r))
	if errors.Is(err, access.ErrLettersToday) {
		retryAfter(w, 12*time.Hour)
		_ = writeJSON(w, http.StatusServiceUnavailable, authFailedJSON{Error: "letters_today",
			Message: "Heute können wir keine weiteren Briefe verschicken. Bitte bestellen Sie den Brief morgen noch einmal oder nutzen Sie den Online-Ausweis."})
		return nil
	}
	if errors.Is(err, access.ErrLetterRefused) {
		_ = writeJSON(w, http.StatusTooManyRequests, authFailedJSON{Error: "letter_limit",
			Message: "Sie haben in den letzten 30 Tagen schon mehrere Briefe erhalten. Bitte nutzen Sie den letzten Brief oder den Online-Ausweis."})
		return nil
	}
	if err != nil {
		return err
	}
	msg := "Wir schicken Ihnen einen Brief mit dem QR-Code für die Service-App an Ihre hinterlegte Anschrift."
	if inReview {
		msg = "Ihre Anschrift muss noch bestätigt werden; danach schicken wir Ihnen den Brief mit dem QR-Code."
	}
	return writeJSON(w, http.StatusAccepted, activationLetterResponse{Status: "accepted", InReview: inReview, Message: msg})
}

type removeResponse struct {
	Removed    bool   `json:"removed"`
	ApprovalID string `json:"approval_id,omitempty"`
	Status     string `json:"status,omitempty"`
}

// removeDevice removes one of the person's devices from a session: at once
// from a fresh eID session (200), otherwise after an approval on a bound phone
// (202; the approval carries the removal out, GET /api/v1/approvals/{id}
// shows it). The password alone never removes a phone.
func (a *API) removeDevice(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	res, err := a.remover.Request(r.Context(), s, store.DeviceID(r.PathValue("id")), "api", remoteIP(r))
	if err != nil {
		return err
	}
	if res.Done {
		return writeJSON(w, http.StatusOK, removeResponse{Removed: true})
	}
	return writeJSON(w, http.StatusAccepted, removeResponse{ApprovalID: res.Approval.ID, Status: string(res.Approval.Status)})
}
