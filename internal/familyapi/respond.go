package familyapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/answer"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/jsonstrict"
	"github.com/pforte/pforte/internal/mailbox"
)

// bodyLimit bounds a JSON body without attachments.
const bodyLimit = 64 << 10

var (
	errUnauthenticated   = errors.New("familyapi: no valid session")
	errPasswordChangeDue = errors.New("familyapi: password change due")
)

// errorJSON is the body of every failure.
type errorJSON struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// failure is the answer to err: the shared table (package answer) and the
// mailbox's outcomes; false for an internal failure.
func failure(err error) (status int, body errorJSON, ok bool) {
	var in *mailbox.InputError
	switch {
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized, errorJSON{Error: "unauthenticated", Message: "Bitte melden Sie sich an."}, true
	case errors.Is(err, errPasswordChangeDue):
		return http.StatusForbidden, errorJSON{Error: "password_change_required", Message: "Bitte wählen Sie zuerst Ihr eigenes Passwort."}, true
	case errors.Is(err, family.ErrRepresentationNotFound):
		return http.StatusNotFound, errorJSON{Error: "not_found", Message: "Diese Vertretung ist nicht eingetragen."}, true
	case errors.Is(err, family.ErrAlreadyEnded):
		return http.StatusConflict, errorJSON{Error: "already_ended", Message: "Diese Vertretung ist bereits beendet."}, true
	case errors.As(err, &in):
		return http.StatusBadRequest, errorJSON{Error: "invalid_field", Message: in.Msg, Field: in.Field}, true
	case errors.Is(err, mailbox.ErrLevel):
		return http.StatusForbidden, errorJSON{Error: "session_level_too_low", Message: "Nachrichten im Postfach sind besonders geschützt. " +
			"Bestätigen Sie Ihre Anmeldung bitte mit Ihrem Smartphone."}, true
	case errors.Is(err, mailbox.ErrNotFound):
		return http.StatusNotFound, errorJSON{Error: "not_found", Message: "Diese Nachricht gibt es in diesem Postfach nicht. " +
			"Öffnen Sie das Postfach neu."}, true
	}
	a, ok := answer.For(err)
	if !ok {
		return 0, errorJSON{}, false
	}
	body = errorJSON{Error: a.Code, Message: a.Message}
	var fe *field.Error
	if errors.As(err, &fe) {
		body.Field = fe.Name
	}
	if fs := field.All(err); len(fs) > 1 {
		msgs := make([]string, 0, len(fs))
		for _, f := range fs {
			msgs = append(msgs, f.Name+": "+f.Message)
		}
		body.Message = strings.Join(msgs, " ")
	}
	return a.Status, body, true
}

// fail answers err; an internal failure is logged once and answered 500
// without detail.
func fail(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status, body, ok := failure(err)
	if !ok {
		if r.Context().Err() != nil {
			return
		}
		logger.ErrorContext(r.Context(), "family request failed", slog.String("path", r.Pattern), slog.Any("error", err))
		a := answer.Internal
		status, body = a.Status, errorJSON{Error: a.Code, Message: a.Message}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pforte"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads exactly one JSON object into v: UTF-8 only, no unknown
// field, no member named twice, no trailing data, at most limit bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &answer.Bad{Message: "Bitte senden Sie JSON (Content-Type: application/json)."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &answer.Bad{Status: http.StatusRequestEntityTooLarge, Message: "Die Anfrage ist zu groß."}
	case err != nil:
		return &answer.Bad{Message: "Die Anfrage konnte nicht gelesen werden."}
	}
	if !utf8.Valid(body) {
		return &answer.Bad{Message: "Die Anfrage ist kein gültiges UTF-8."}
	}
	if err := jsonstrict.Check(body); err != nil {
		return &answer.Bad{Message: "Die Anfrage ist kein gültiges JSON-Objekt oder nennt ein Feld doppelt."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return &answer.Bad{Message: fmt.Sprintf("Das Feld „%s“ hat den falschen Typ.", typeErr.Field)}
		}
		return &answer.Bad{Message: "Die Anfrage ist kein gültiges JSON-Objekt mit den erwarteten Feldern."}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &answer.Bad{Message: "Nach dem JSON-Objekt folgen weitere Daten."}
	}
	return nil
}
