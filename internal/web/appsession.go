package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
)

// The hand-over of an eID identification to the service app (package
// serviceapp, served by the same portal at /app/). The app starts the eID
// through the API (POST /api/v1/access-requests or /password-resets with
// method eid) and sends the browser to redirect_url with ?weiter=app:
//
//	GET /eid/start/{flow}?weiter=app ─▶ cookie __Host-pforte_app (15 min) ─▶ the partner
//	GET /eid/rueckkehr ─▶ ticket cookie as for the portal ─▶ 303 /app/eid[?ersetzen=1]
//	                      (no match, cancelled, failed: 303 /app/eid?fehler=…)
//	POST /eid/app-sitzung {"new_password"} (JSON, same origin) ─▶ ChoosePassword(ticket, kind app)
//	     ─▶ 201 {"session_token","level"}: an API session of origin eid at level high
//
// The proof stays what it is for the portal: the ticket in a SameSite=Strict,
// HttpOnly cookie, used up by ChoosePassword (single use), valid for 15
// minutes from the identification, and the session's freshness counts from the
// identification too. The token travels only in the answer's body to a
// same-origin request (CrossOriginProtection, and a JSON body no cross-site
// form can send), never in a URL that history or a Referer could leak.

// appCookie remembers, from the eID start to the return, that the service
// app started the identification.
const appCookie = "pforte_app"

// appEIDPath is where the browser goes back to the service app.
const appEIDPath = "/app/eid"

// eidFailure names, for the app's address, why an identification ended
// without a proof; "" for errors that are no outcome of the identification.
func eidFailure(err error) string {
	switch {
	case errors.Is(err, access.ErrEIDNoMatch):
		return "keine-uebereinstimmung"
	case errors.Is(err, access.ErrEIDCancelled):
		return "abgebrochen"
	case errors.Is(err, access.ErrEIDFailed):
		return "fehlgeschlagen"
	}
	return ""
}

type appSessionRequest struct {
	NewPassword *string `json:"new_password"`
}

type appSessionResponse struct {
	SessionToken string `json:"session_token"`
	Level        string `json:"level"`
}

type appErrorJSON struct {
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Reasons []appReasonJSON `json:"reasons,omitempty"`
}

type appReasonJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeAppJSON(rw http.ResponseWriter, status int, v any) error {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	return json.NewEncoder(rw).Encode(v)
}

// appSession sets the password of the person the eID ticket proves and
// answers with an API session for the service app (see above).
func (w *accessPages) appSession(rw http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return writeAppJSON(rw, http.StatusUnsupportedMediaType, appErrorJSON{Error: "bad_request",
			Message: "Bitte senden Sie JSON (Content-Type: application/json)."})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
	var req appSessionRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err != nil || len(body) > maxForm || dec.Decode(&req) != nil || dec.More() || req.NewPassword == nil ||
		len(*req.NewPassword) > 1024 {
		return writeAppJSON(rw, http.StatusBadRequest, appErrorJSON{Error: "bad_request",
			Message: "Bitte geben Sie das neue Passwort an (new_password)."})
	}
	ticket := w.cookieValue(r, ticketCookie)
	if ticket == "" {
		return writeAppJSON(rw, http.StatusUnauthorized, ticketInvalid)
	}
	res, err := w.access.ChoosePassword(r.Context(), ticket, *req.NewPassword, server.ClientIP(r), r.UserAgent(), session.KindApp)
	var refused *account.RefusedError
	switch {
	case errors.As(err, &refused):
		out := appErrorJSON{Error: "password_refused", Message: "Dieses Passwort kann nicht verwendet werden. Bitte wählen Sie ein anderes."}
		for _, rs := range refused.Reasons {
			out.Reasons = append(out.Reasons, appReasonJSON{Code: rs.String(), Message: rs.Message("de")})
		}
		return writeAppJSON(rw, http.StatusUnprocessableEntity, out)
	case errors.Is(err, access.ErrTicket), errors.Is(err, access.ErrEIDUnavailable):
		w.clearCookie(rw, ticketCookie)
		return writeAppJSON(rw, http.StatusUnauthorized, ticketInvalid)
	case errors.Is(err, password.ErrBusy):
		rw.Header().Set("Retry-After", "1")
		return writeAppJSON(rw, http.StatusServiceUnavailable, appErrorJSON{Error: "busy",
			Message: "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal."})
	case err != nil:
		return err
	}
	w.clearCookie(rw, ticketCookie)
	return writeAppJSON(rw, http.StatusCreated, appSessionResponse{SessionToken: string(res.Token), Level: res.Session.Level})
}

var ticketInvalid = appErrorJSON{Error: "ticket_invalid",
	Message: "Ihre Identifizierung mit dem Online-Ausweis ist abgelaufen oder wurde schon verwendet. Bitte weisen Sie sich noch einmal aus."}
