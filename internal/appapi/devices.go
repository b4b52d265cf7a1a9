package appapi

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// deviceHandlers are the app protocol's calls (challenges, binding, app
// login, PIN change, unbinding, unlock) and the person's device list.
type deviceHandlers struct {
	*base
	devices Devices
	profile Profile
	cards   Cards // nil: no health card
}

func (h *deviceHandlers) routes(m map[string]http.Handler) {
	m["POST /api/v1/app/challenges"] = h.handle(h.createChallenge)
	m["POST /api/v1/devices"] = h.handle(h.bindDevice)
	m["POST /api/v1/app/sessions"] = h.handle(h.createAppSession)
	m["GET /api/v1/devices"] = h.chosenPassword(h.listDevices)
	m["PATCH /api/v1/devices/{id}"] = h.chosenPassword(h.renameDevice)
	m["POST /api/v1/devices/{id}/pin"] = h.handle(h.changePIN)
	m["DELETE /api/v1/devices/{id}"] = h.handle(h.unbindDevice)
	m["POST /api/v1/devices/{id}/unlock"] = h.handle(h.unlockDevice)
	m["POST /api/v1/devices/egk"] = h.handle(h.bindWithCard)
	m["POST /api/v1/devices/{id}/unlock/egk"] = h.handle(h.unlockWithCard)
	m["POST /api/v1/me/devices/{id}/remove"] = h.chosenPassword(h.removeDevice)
}

// b64 is a base64url (no padding) byte string in JSON.
type b64 []byte

func (b *b64) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return bad("Ein Schlüssel oder eine Signatur ist kein base64url-Text.")
	}
	v, err := base64.RawURLEncoding.Strict().DecodeString(string(data[1 : len(data)-1]))
	if err != nil || len(v) > 1024 {
		return bad("Ein Schlüssel oder eine Signatur ist kein gültiger base64url-Text.")
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

func (h *deviceHandlers) createChallenge(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r); err != nil {
		return err
	}
	var req challengeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Purpose == nil || len(req.DeviceID) > 64 || len(req.ApprovalID) > 64 {
		return bad("Bitte geben Sie den Zweck (purpose) an.")
	}
	ch, err := h.devices.NewChallengeFor(r.Context(), *req.Purpose, store.DeviceID(req.DeviceID), req.ApprovalID)
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
		return bad("Ein Feld ist zu lang.")
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
func (h *deviceHandlers) bindDevice(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r); err != nil {
		return err
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
		s, aerr := h.sessions.Authenticate(r.Context(), tok)
		if aerr != nil {
			return errUnauthenticated
		}
		b, err = h.devices.BindWithSession(r.Context(), s, req.DeviceKey, req.PINKey, req.KDF, req.Name, req.Model, req.proof(), remoteIP(r))
	} else {
		b, err = h.devices.BindWithLetter(r.Context(), req.letterRequest(r))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, bindResponse{DeviceID: string(b.ID), Level: b.Level})
}

// unlockDevice sets a new PIN on a device whose PIN is locked, after a new
// identity proof: the same body as a binding (letter or Bearer eID session).
func (h *deviceHandlers) unlockDevice(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r); err != nil {
		return err
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
		s, aerr := h.sessions.Authenticate(r.Context(), tok)
		if aerr != nil {
			return errUnauthenticated
		}
		err = h.devices.UnlockWithSession(r.Context(), dev, s, req.DeviceKey, req.PINKey, req.KDF, req.Name, req.Model, req.proof(), remoteIP(r))
	} else {
		err = h.devices.UnlockWithLetter(r.Context(), dev, req.letterRequest(r))
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

func (h *deviceHandlers) createAppSession(w http.ResponseWriter, r *http.Request) error {
	var req appSessionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DeviceID == "" || len(req.DeviceID) > 64 || len(req.ChallengeID) > 64 {
		return bad("Bitte geben Sie Geräte-ID, Challenge und Signaturen an.")
	}
	tok, s, err := h.devices.Login(r.Context(), store.DeviceID(req.DeviceID), req.proof(), req.Method, remoteIP(r), r.UserAgent())
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

func (h *deviceHandlers) listDevices(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	list, err := h.devices.List(r.Context(), s.PersonID)
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

func (h *deviceHandlers) renameDevice(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req renameRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return bad("Bitte geben Sie einen Namen an.")
	}
	if err := h.devices.Rename(r.Context(), s.PersonID, store.DeviceID(r.PathValue("id")), *req.Name); err != nil {
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

func (h *deviceHandlers) changePIN(w http.ResponseWriter, r *http.Request) error {
	var req pinChangeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.KDF) > 256 || len(req.ChallengeID) > 64 {
		return bad("Ein Feld ist zu lang.")
	}
	if err := h.devices.ChangePIN(r.Context(), store.DeviceID(r.PathValue("id")), req.PINKey, req.KDF, req.proof(), remoteIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *deviceHandlers) unbindDevice(w http.ResponseWriter, r *http.Request) error {
	var req proofJSON
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.ChallengeID) > 64 {
		return bad("Ein Feld ist zu lang.")
	}
	if err := h.devices.Unbind(r.Context(), store.DeviceID(r.PathValue("id")), req.proof(), remoteIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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
func (h *deviceHandlers) removeDevice(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	res, err := h.profile.RequestDeviceRemoval(r.Context(), s, store.DeviceID(r.PathValue("id")), "api", remoteIP(r))
	if err != nil {
		return err
	}
	if res.Done {
		return writeJSON(w, http.StatusOK, removeResponse{Removed: true})
	}
	return writeJSON(w, http.StatusAccepted, removeResponse{ApprovalID: res.Approval.ID, Status: string(res.Approval.Status)})
}
