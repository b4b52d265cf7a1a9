package appapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/server"
)

// rateLimited asks the client to come back after wait.
type rateLimited struct{ wait time.Duration }

func (e *rateLimited) Error() string { return "appapi: rate limited" }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds())))))
}

type reasonJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type fieldErrorJSON struct {
	Error   string `json:"error"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

type refusedJSON struct {
	Error   string       `json:"error"`
	Message string       `json:"message"`
	Reasons []reasonJSON `json:"reasons"`
}

// fail writes the answer for err. Expected outcomes get their status and a
// German message; anything else is logged once and answered 500 without detail.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		invalid *field.Error
		bad     *errBadRequest
		limited *rateLimited
		refused *account.RefusedError
		locked  *account.LockedError
	)
	if deviceError(w, err) || approvalError(w, err) {
		return
	}
	switch {
	case errors.As(err, &invalid):
		_ = writeJSON(w, http.StatusBadRequest, fieldErrorJSON{Error: "invalid_field", Field: invalid.Name, Message: invalid.Message})
	case errors.As(err, &bad):
		server.WriteError(w, http.StatusBadRequest, "bad_request", bad.msg)
	case errors.Is(err, account.ErrLoginFailed):
		server.WriteError(w, http.StatusUnauthorized, "login_failed",
			"Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Versichertennummer und Passwort.")
	case errors.As(err, &locked):
		// Only after the right password (package account): the lock is no
		// secret to its owner.
		_ = writeJSON(w, http.StatusForbidden, lockedJSON{Error: "account_locked", LockedUntil: locked.Until.UTC().Format(time.RFC3339),
			Message: "Die Anmeldung mit dem Passwort ist nach zu vielen fehlgeschlagenen Versuchen vorübergehend gesperrt, bis " +
				locked.Until.In(berlin).Format("02.01.2006 15:04") + " Uhr. Melden Sie sich mit Ihrem verbundenen Gerät an " +
				"oder setzen Sie das Passwort zurück."})
	case errors.Is(err, errPasswordChangeDue):
		server.WriteError(w, http.StatusForbidden, "password_change_required", "Bitte wählen Sie zuerst Ihr eigenes Passwort.")
	case errors.Is(err, errUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="pforte"`)
		server.WriteError(w, http.StatusUnauthorized, "unauthenticated", "Bitte melden Sie sich an.")
	case errors.Is(err, account.ErrWrongPassword):
		server.WriteError(w, http.StatusForbidden, "wrong_password", "Das bisherige Passwort ist nicht richtig.")
	case errors.As(err, &refused):
		reasons := make([]reasonJSON, len(refused.Reasons))
		for i, rs := range refused.Reasons {
			reasons[i] = reasonJSON{Code: rs.String(), Message: rs.Message("de")}
		}
		_ = writeJSON(w, http.StatusUnprocessableEntity, refusedJSON{Error: "password_refused",
			Message: "Das neue Passwort kann nicht verwendet werden.", Reasons: reasons})
	case errors.As(err, &limited):
		retryAfter(w, limited.wait)
		server.WriteError(w, http.StatusTooManyRequests, "rate_limited", "Zu viele Versuche. Bitte warten Sie kurz.")
	case errors.Is(err, access.ErrEIDUnavailable):
		server.WriteError(w, http.StatusBadRequest, "eid_unavailable", "Die Identifizierung mit dem Online-Ausweis ist hier nicht eingerichtet.")
	case errors.Is(err, password.ErrBusy):
		retryAfter(w, time.Second)
		server.WriteError(w, http.StatusServiceUnavailable, "busy", "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.")
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	default:
		a.logger.ErrorContext(r.Context(), "api request failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
		server.WriteError(w, http.StatusInternalServerError, "internal", "Ein interner Fehler ist aufgetreten.")
	}
}

// lockedJSON answers the right password during a temporary lock.
type lockedJSON struct {
	Error       string `json:"error"`
	Message     string `json:"message"`
	LockedUntil string `json:"locked_until"`
}

// berlin is German time, for times in messages.
var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}()
