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

	"github.com/pforte/pforte/internal/answer"
	"github.com/pforte/pforte/internal/jsonstrict"
)

// maxJSON bounds request bodies of this API (the server's global limit is
// larger).
const maxJSON = 16 << 10

// decode reads exactly one JSON object into v: UTF-8 only, no unknown fields,
// no member named twice, no trailing data, bounded size.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return bad("Bitte senden Sie JSON (Content-Type: application/json).")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSON+1))
	if err != nil {
		return bad("Die Anfrage konnte nicht gelesen werden.")
	}
	if len(body) > maxJSON {
		return bad("Die Anfrage ist zu groß.")
	}
	if !utf8.Valid(body) {
		return bad("Die Anfrage ist kein gültiges UTF-8.")
	}
	// A member named twice would be read as the last one, while a proxy or
	// log may read the first: refuse it, as CIBA's authorization_details.
	var dup *jsonstrict.DuplicateError
	if err := jsonstrict.Check(body); errors.As(err, &dup) {
		return bad("Die Anfrage nennt ein Feld doppelt.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			typeErr *json.UnmarshalTypeError
			badReq  *answer.Bad
		)
		switch {
		case errors.As(err, &badReq):
			return badReq
		case errors.As(err, &typeErr):
			return bad(fmt.Sprintf("Das Feld %q hat den falschen Typ.", typeErr.Field))
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return bad("Die Anfrage enthält ein unbekanntes Feld.")
		default:
			return bad("Die Anfrage ist kein gültiges JSON-Objekt.")
		}
	}
	if dec.More() {
		return bad("Nach dem JSON-Objekt folgen weitere Daten.")
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err != io.EOF {
		return bad("Nach dem JSON-Objekt folgen weitere Daten.")
	}
	return nil
}
