package appapi

import (
	"context"
	"net/http"

	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/store"
)

// The health card (eGK) binds a phone, or unlocks its PIN, by signing a
// pairing statement over its keys (docs/app-protocol.md section 12).

// cardRequest is the body of both calls: a binding's members and the
// card's certificate, statement and signature.
type cardRequest struct {
	DeviceKey       b64    `json:"device_key"`
	PINKey          b64    `json:"pin_key"`
	KDF             string `json:"kdf"`
	Name            string `json:"name"`
	Model           string `json:"model"`
	CardCertificate b64    `json:"card_certificate"`
	Statement       b64    `json:"statement"`
	CardSignature   b64    `json:"card_signature"`
	ActivationCode  string `json:"activation_code"`
	proofJSON
}

func (req cardRequest) device(r *http.Request) (device.CardRequest, error) {
	if len(req.KDF) > 256 || len(req.Name) > 256 || len(req.Model) > 256 || len(req.ChallengeID) > 64 || len(req.ActivationCode) > 256 {
		return device.CardRequest{}, bad("Ein Feld ist zu lang.")
	}
	return device.CardRequest{DeviceKey: req.DeviceKey, PINKey: req.PINKey, KDF: req.KDF, Name: req.Name, Model: req.Model,
		Proof: req.proof(), Certificate: req.CardCertificate, Statement: req.Statement, CardSignature: req.CardSignature,
		ActivationCode: req.ActivationCode, ClientIP: remoteIP(r), UserAgent: r.UserAgent()}, nil
}

type cardBindResponse struct {
	DeviceID     string   `json:"device_id"`
	Level        string   `json:"level"`
	SessionToken string   `json:"session_token"`
	AMR          []string `json:"amr"`
}

// bindWithCard binds a phone with the health card at level high. The
// account is named by a Bearer session or by the letter's activation code.
func (h *deviceHandlers) bindWithCard(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r); err != nil {
		return err
	}
	var req cardRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	cr, err := req.device(r)
	if err != nil {
		return err
	}
	var sess *store.Session
	if _, ok := bearer(r); ok {
		_, s, err := h.session(r)
		if err != nil {
			return err
		}
		sess = &s
	}
	b, err := h.cardFlows().BindWithCard(r.Context(), sess, cr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, cardBindResponse{DeviceID: string(b.ID), Level: b.Level, SessionToken: string(b.Token),
		AMR: b.Session.AMR})
}

// unlockWithCard replaces a locked PIN after the device's person's card
// signed the new PIN key.
func (h *deviceHandlers) unlockWithCard(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r); err != nil {
		return err
	}
	var req cardRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.ActivationCode != "" {
		return bad("Zum Entsperren mit der Gesundheitskarte ist kein Aktivierungscode nötig.")
	}
	cr, err := req.device(r)
	if err != nil {
		return err
	}
	if err := h.cardFlows().UnlockWithCard(r.Context(), store.DeviceID(r.PathValue("id")), cr); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cardFlows are the health card's flows, or flows that answer
// device.ErrEGKOff when none are configured.
func (h *deviceHandlers) cardFlows() Cards {
	if h.cards == nil {
		return noCards{}
	}
	return h.cards
}

type noCards struct{}

func (noCards) BindWithCard(context.Context, *store.Session, device.CardRequest) (device.CardBinding, error) {
	return device.CardBinding{}, device.ErrEGKOff
}

func (noCards) UnlockWithCard(context.Context, store.DeviceID, device.CardRequest) error {
	return device.ErrEGKOff
}
