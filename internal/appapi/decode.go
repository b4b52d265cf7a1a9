package appapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/jsonstrict"
)

// errBadRequest carries a German message for a malformed request.
type errBadRequest struct{ msg string }

func (e *errBadRequest) Error() string { return "appapi: bad request: " + e.msg }

// maxJSON bounds request bodies of this API (the server's global limit is
// larger).
const maxJSON = 16 << 10

// decode reads exactly one JSON object into v: UTF-8 only, no unknown fields,
// no member named twice, no trailing data, bounded size.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &errBadRequest{"Bitte senden Sie JSON (Content-Type: application/json)."}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSON+1))
	if err != nil {
		return &errBadRequest{"Die Anfrage konnte nicht gelesen werden."}
	}
	if len(body) > maxJSON {
		return &errBadRequest{"Die Anfrage ist zu groß."}
	}
	if !utf8.Valid(body) {
		return &errBadRequest{"Die Anfrage ist kein gültiges UTF-8."}
	}
	// A member named twice would be read as the last one, while a proxy or
	// log may read the first: refuse it, as CIBA's authorization_details.
	var dup *jsonstrict.DuplicateError
	if err := jsonstrict.Check(body); errors.As(err, &dup) {
		return &errBadRequest{"Die Anfrage nennt ein Feld doppelt."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			typeErr *json.UnmarshalTypeError
			bad     *errBadRequest
		)
		switch {
		case errors.As(err, &bad):
			return bad
		case errors.As(err, &typeErr):
			return &errBadRequest{fmt.Sprintf("Das Feld %q hat den falschen Typ.", typeErr.Field)}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return &errBadRequest{"Die Anfrage enthält ein unbekanntes Feld."}
		default:
			return &errBadRequest{"Die Anfrage ist kein gültiges JSON-Objekt."}
		}
	}
	if dec.More() {
		return &errBadRequest{"Nach dem JSON-Objekt folgen weitere Daten."}
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err != io.EOF {
		return &errBadRequest{"Nach dem JSON-Objekt folgen weitere Daten."}
	}
	return nil
}
