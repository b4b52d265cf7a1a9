package appapi

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// approvalHandlers are the phone's approvals (list, stream, approve,
// decline) and the changes a person asks for (address, bank account), whose
// status any session of the person may read.
type approvalHandlers struct {
	*base
	approvals Approvals
	profile   Profile
	mailbox   Mailbox // nil: the stream has no mailbox events
	draining  <-chan struct{}
}

func (h *approvalHandlers) routes(m map[string]http.Handler) {
	m["GET /api/v1/app/approvals"] = h.chosenPassword(h.pendingApprovals)
	m["GET /api/v1/app/approvals/events"] = h.chosenPassword(h.approvalEvents)
	m["POST /api/v1/approvals/{id}/approve"] = h.handle(h.approve)
	m["POST /api/v1/approvals/{id}/decline"] = h.handle(h.decline)
	m["GET /api/v1/approvals/{id}"] = h.chosenPassword(h.approvalStatus)
	m["PUT /api/v1/me/address"] = h.chosenPassword(h.changeAddress)
	m["PUT /api/v1/me/bank-account"] = h.chosenPassword(h.changeBank)
}

type approvalJSON struct {
	ApprovalID    string    `json:"approval_id"`
	Action        string    `json:"action"`
	Text          string    `json:"text"`
	Data          b64       `json:"data"`
	ContentHash   b64       `json:"content_hash"`
	CreatedAt     time.Time `json:"created_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	NumberChoices []int     `json:"number_choices,omitempty"`
}

// errDeviceSession: the call needs a session from an app login with the
// device key (amr "hwk"), not one from a password alone.
var errDeviceSession = errors.New("appapi: device session required")

func deviceSession(s store.Session) error {
	if !slices.Contains(s.AMR, "hwk") {
		return errDeviceSession
	}
	return nil
}

// pendingApprovals lists what the person's phone may answer. The number a
// portal shows for number matching is never sent; only the choices are. Only
// a session from the phone's own login may read them: a password alone does
// not show what is waiting for approval.
func (h *approvalHandlers) pendingApprovals(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if err := deviceSession(s); err != nil {
		return err
	}
	list, err := h.approvals.Pending(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	out := make([]approvalJSON, 0, len(list))
	for _, x := range list {
		j := approvalJSON{ApprovalID: x.ID, Action: x.Action, Text: x.Text, Data: x.Data, ContentHash: x.ContentHash,
			CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt}
		if x.Action == approval.ActionPortalLogin {
			j.NumberChoices = x.Choices
		}
		out = append(out, j)
	}
	return writeJSON(w, http.StatusOK, out)
}

type approveRequest struct {
	DeviceID string `json:"device_id"`
	Method   string `json:"method"`
	Number   int    `json:"number"`
	proofJSON
}

func (h *approvalHandlers) approve(w http.ResponseWriter, r *http.Request) error {
	var req approveRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DeviceID == "" || len(req.DeviceID) > 64 || len(req.ChallengeID) > 64 || req.Number < 0 || req.Number > 99 {
		return bad("Bitte geben Sie Geräte-ID, Challenge und Signaturen an.")
	}
	_, err := h.approvals.Approve(r.Context(), r.PathValue("id"), store.DeviceID(req.DeviceID), req.proof(), req.Method, req.Number, remoteIP(r))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type declineRequest struct {
	DeviceID        string `json:"device_id"`
	ChallengeID     string `json:"challenge_id"`
	DeviceSignature b64    `json:"device_signature"`
	NotMe           bool   `json:"not_me"`
}

func (h *approvalHandlers) decline(w http.ResponseWriter, r *http.Request) error {
	var req declineRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DeviceID == "" || len(req.DeviceID) > 64 || len(req.ChallengeID) > 64 {
		return bad("Bitte geben Sie Geräte-ID, Challenge und Signatur an.")
	}
	_, err := h.approvals.Decline(r.Context(), r.PathValue("id"), store.DeviceID(req.DeviceID),
		device.Proof{ChallengeID: req.ChallengeID, DeviceSignature: req.DeviceSignature}, req.NotMe, remoteIP(r))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type pendingJSON struct {
	ApprovalID string    `json:"approval_id"`
	Status     string    `json:"status"`
	Action     string    `json:"action,omitempty"`
	ExpiresAt  time.Time `json:"expires_at"`
	Executed   bool      `json:"executed"`
}

func pending(x store.Approval) pendingJSON {
	return pendingJSON{ApprovalID: x.ID, Status: string(x.Status), Action: x.Action, ExpiresAt: x.ExpiresAt, Executed: !x.UsedAt.IsZero()}
}

func (h *approvalHandlers) changeAddress(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req profile.Address
	if err := decode(r, &req); err != nil {
		return err
	}
	x, err := h.profile.RequestAddressChange(r.Context(), s.PersonID, req, "api", session.Level(s.Level))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, pending(x))
}

type bankRequest struct {
	IBAN string `json:"iban"`
}

func (h *approvalHandlers) changeBank(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req bankRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	x, err := h.profile.RequestBankChange(r.Context(), s.PersonID, req.IBAN, "api", session.Level(s.Level))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, pending(x))
}

func (h *approvalHandlers) approvalStatus(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	// Only reads: an approved change was carried out when it was approved.
	x, err := h.profile.Status(r.Context(), r.PathValue("id"), s.PersonID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pending(x))
}
