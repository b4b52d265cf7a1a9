package appapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/answer"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
)

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds())))))
}

// bad is a malformed request with a German message.
func bad(msg string) error { return &answer.Bad{Message: msg} }

// limited asks the client to come back after wait.
func limited(wait time.Duration) error { return &answer.Limited{Wait: wait} }

type reasonJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorJSON is every error answer: the code and German message, and what
// the outcome adds.
type errorJSON struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	// Field names a field of the wrong shape (invalid_field).
	Field string `json:"field,omitempty"`
	// Reasons say why a new password is refused (password_refused).
	Reasons []reasonJSON `json:"reasons,omitempty"`
	// LockedUntil ends a temporary lock (account_locked).
	LockedUntil string `json:"locked_until,omitempty"`
	// RemainingAttempts follows a wrong PIN proof (authentication_failed).
	RemainingAttempts *int `json:"remaining_attempts,omitempty"`
	// Reason says why a health card was refused (card_refused).
	Reason string `json:"reason,omitempty"`
}

// The API's own outcomes, beside package answer's table.
var (
	answerUnauthenticated = answer.Answer{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "Bitte melden Sie sich an."}
	// A session staff ended keeps the code "unauthenticated" (the app signs
	// in again) with a message that says who ended it.
	answerEndedByStaff = answer.Answer{Status: http.StatusUnauthorized, Code: "unauthenticated",
		Message: "Ihre Sitzungen wurden vom Service-Team beendet. Bitte melden Sie sich neu an; haben Sie Fragen dazu, rufen Sie uns an."}
	answerEndedStaffLock = answer.Answer{Status: http.StatusUnauthorized, Code: "unauthenticated",
		Message: "Ihre Sitzungen wurden vom Service-Team beendet und Ihr Zugang zu Ihrem Schutz gesperrt. Bitte wenden Sie sich telefonisch an unser Service-Team; es hebt die Sperre mit Ihnen auf."}
	answerPasswordDue = answer.Answer{Status: http.StatusForbidden, Code: "password_change_required",
		Message: "Bitte wählen Sie zuerst Ihr eigenes Passwort."}
	answerDeviceSession = answer.Answer{Status: http.StatusForbidden, Code: "device_session_required",
		Message: "Bitte melden Sie sich in der Service-App mit Ihrer Freigabe-PIN an."}
)

// fail writes the answer for err from package answer's table. Anything the
// table does not know is logged once and answered 500 without detail.
func (b *base) fail(w http.ResponseWriter, r *http.Request, err error) {
	var a answer.Answer
	switch {
	case errors.As(err, new(*endedByStaff)):
		w.Header().Set("WWW-Authenticate", `Bearer realm="pforte"`)
		a = answerEndedByStaff
		if e := (*endedByStaff)(nil); errors.As(err, &e) && e.locked {
			a = answerEndedStaffLock
		}
	case errors.Is(err, errUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="pforte"`)
		a = answerUnauthenticated
	case errors.Is(err, errPasswordChangeDue):
		a = answerPasswordDue
	case errors.Is(err, errDeviceSession):
		a = answerDeviceSession
	default:
		var ok bool
		if a, ok = answer.For(err); !ok {
			if r.Context().Err() != nil {
				return // the client went away; nobody reads an answer
			}
			b.logger.ErrorContext(r.Context(), "api request failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
			a = answer.Internal
		}
	}
	if a.RetryAfter > 0 {
		retryAfter(w, a.RetryAfter)
	}
	body := errorJSON{Error: a.Code, Message: a.Message}
	var (
		invalid *field.Error
		refused *account.RefusedError
		locked  *account.LockedError
		wrong   *device.WrongPINError
		card    *egk.RefusedError
	)
	switch {
	case errors.As(err, &invalid):
		body.Field = invalid.Name
	case errors.As(err, &refused):
		body.Message = "Das neue Passwort kann nicht verwendet werden."
		for _, rs := range refused.Reasons {
			body.Reasons = append(body.Reasons, reasonJSON{Code: rs.String(), Message: rs.Message("de")})
		}
	case errors.As(err, &locked):
		// Only after the right password (package account): the lock is no
		// secret to its owner.
		body.LockedUntil = locked.Until.UTC().Format(time.RFC3339)
		body.Message = "Die Anmeldung mit dem Passwort ist nach zu vielen fehlgeschlagenen Versuchen vorübergehend gesperrt, bis " +
			lang.Short(locked.Until) + ". Melden Sie sich mit Ihrem verbundenen Gerät an " +
			"oder setzen Sie das Passwort zurück."
	case errors.As(err, &wrong):
		body.RemainingAttempts = &wrong.Remaining
	case errors.As(err, &card):
		body.Reason = string(card.Reason)
	}
	_ = writeJSON(w, a.Status, body)
}
