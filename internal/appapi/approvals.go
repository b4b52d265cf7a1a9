package appapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Approvals answers approval requests from the phone (package approval).
type Approvals interface {
	Pending(ctx context.Context, person store.PersonID) ([]store.Approval, error)
	Approve(ctx context.Context, id string, dev store.DeviceID, proof device.Proof, method string, tapped int, clientIP string) (store.Approval, error)
	Decline(ctx context.Context, id string, dev store.DeviceID, proof device.Proof, notMe bool, clientIP string) (store.Approval, error)
}

// Profile changes the person's data through approvals (package profile).
type Profile interface {
	RequestAddressChange(ctx context.Context, id store.PersonID, a profile.Address, client string, sessionLevel session.Level) (store.Approval, error)
	RequestBankChange(ctx context.Context, id store.PersonID, iban, client string, sessionLevel session.Level) (store.Approval, error)
	Status(ctx context.Context, approvalID string, id store.PersonID) (store.Approval, error)
	Outbox(ctx context.Context, after int64, limit int) ([]profile.OutboxEvent, error)
}

// EnableApprovals adds the approval, personal-data, device removal and outbox
// endpoints. outboxToken is the core system's bearer token for the outbox (""
// leaves the outbox closed).
func (a *API) EnableApprovals(approvals Approvals, watcher Watcher, prof Profile, remover Remover, outboxToken string) {
	a.approvals, a.watcher, a.profile, a.remover, a.outboxToken = approvals, watcher, prof, remover, outboxToken
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
func (a *API) pendingApprovals(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if err := deviceSession(s); err != nil {
		return err
	}
	list, err := a.approvals.Pending(r.Context(), s.PersonID)
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

func (a *API) approve(w http.ResponseWriter, r *http.Request) error {
	var req approveRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DeviceID == "" || len(req.DeviceID) > 64 || len(req.ChallengeID) > 64 || req.Number < 0 || req.Number > 99 {
		return &errBadRequest{"Bitte geben Sie Geräte-ID, Challenge und Signaturen an."}
	}
	_, err := a.approvals.Approve(r.Context(), r.PathValue("id"), store.DeviceID(req.DeviceID), req.proof(), req.Method, req.Number, remoteIP(r))
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

func (a *API) decline(w http.ResponseWriter, r *http.Request) error {
	var req declineRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DeviceID == "" || len(req.DeviceID) > 64 || len(req.ChallengeID) > 64 {
		return &errBadRequest{"Bitte geben Sie Geräte-ID, Challenge und Signatur an."}
	}
	_, err := a.approvals.Decline(r.Context(), r.PathValue("id"), store.DeviceID(req.DeviceID),
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

func (a *API) changeAddress(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req profile.Address
	if err := decode(r, &req); err != nil {
		return err
	}
	x, err := a.profile.RequestAddressChange(r.Context(), s.PersonID, req, "api", session.Level(s.Level))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, pending(x))
}

type bankRequest struct {
	IBAN string `json:"iban"`
}

func (a *API) changeBank(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	var req bankRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	x, err := a.profile.RequestBankChange(r.Context(), s.PersonID, req.IBAN, "api", session.Level(s.Level))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, pending(x))
}

func (a *API) approvalStatus(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	// Only reads: an approved change was carried out when it was approved.
	x, err := a.profile.Status(r.Context(), r.PathValue("id"), s.PersonID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pending(x))
}

type outboxJSON struct {
	Events []profile.OutboxEvent `json:"events"`
	Next   int64                 `json:"next"`
}

// outbox serves the core system: events after the cursor, at least once;
// event ids make them idempotent.
func (a *API) outbox(w http.ResponseWriter, r *http.Request) error {
	tok, ok := bearer(r)
	if a.outboxToken == "" || !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(a.outboxToken)) != 1 {
		return errUnauthenticated
	}
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		var err error
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			return &errBadRequest{"after muss eine nicht negative ganze Zahl sein."}
		}
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		var err error
		limit, err = strconv.Atoi(l)
		if err != nil || limit < 1 || limit > 1000 {
			return &errBadRequest{"limit muss zwischen 1 und 1000 liegen."}
		}
	}
	events, err := a.profile.Outbox(r.Context(), after, limit)
	if err != nil {
		return err
	}
	next := after
	if len(events) > 0 {
		next = events[len(events)-1].Seq
	}
	if events == nil {
		events = []profile.OutboxEvent{}
	}
	return writeJSON(w, http.StatusOK, outboxJSON{Events: events, Next: next})
}

// approvalError maps the approval and profile errors; ok is false for others.
func approvalError(w http.ResponseWriter, err error) bool {
	var (
		inv *field.Error
	)
	write := func(status int, code, msg string) {
		_ = writeJSON(w, status, authFailedJSON{Error: code, Message: msg})
	}
	switch {
	case errors.As(err, &inv):
		_ = writeJSON(w, http.StatusBadRequest, fieldErrorJSON{Error: "invalid_field", Field: inv.Name, Message: inv.Message})
	case errors.Is(err, errDeviceSession):
		write(http.StatusForbidden, "device_session_required", "Bitte melden Sie sich in der Service-App mit Ihrer Freigabe-PIN an.")
	case errors.Is(err, approval.ErrNotFound):
		write(http.StatusNotFound, "not_found", "Diese Freigabe gibt es nicht.")
	case errors.Is(err, approval.ErrNotPending):
		write(http.StatusConflict, "not_pending", "Diese Freigabe wurde schon beantwortet.")
	case errors.Is(err, approval.ErrExpired):
		write(http.StatusGone, "expired", "Diese Freigabe ist abgelaufen.")
	case errors.Is(err, approval.ErrLevelTooLow):
		write(http.StatusForbidden, "level_too_low", "Für diese Freigabe brauchen Sie ein Gerät, das mit dem Online-Ausweis verbunden wurde.")
	case errors.Is(err, approval.ErrWrongNumber):
		write(http.StatusConflict, "wrong_number", "Die gewählte Zahl passt nicht. Die Anmeldung wurde abgelehnt.")
	case errors.Is(err, approval.ErrNoDevice):
		write(http.StatusConflict, "no_device", "Für diese Änderung brauchen Sie ein verbundenes Smartphone. Bitte verbinden Sie zuerst die Service-App.")
	case errors.Is(err, approval.ErrTooManyPending):
		retryAfter(w, 5*time.Minute)
		write(http.StatusTooManyRequests, "too_many_pending", "Es warten schon zu viele Freigaben. Bitte versuchen Sie es später noch einmal.")
	case errors.Is(err, approval.ErrSessionLevel):
		write(http.StatusForbidden, "session_level_too_low",
			"Für diese Änderung muss Ihre Anmeldung auf Ihrem Smartphone bestätigt sein. Bitte melden Sie sich in der Service-App an.")
	case errors.Is(err, account.ErrTooManyChanges):
		retryAfter(w, 24*time.Hour)
		write(http.StatusTooManyRequests, "too_many_password_changes",
			"Ihr Passwort wurde heute schon mehrmals geändert. Eine weitere Änderung ist erst morgen möglich.")
	default:
		return false
	}
	return true
}
