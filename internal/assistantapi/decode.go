package assistantapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/jsonstrict"
)

// maxBody bounds a request body of these routes (the server's global limit
// is larger). A question is at most a few hundred characters.
const maxBody = 16 << 10

// Errors of decoding, answered with 400 or 413 and a German message.
type (
	badRequest struct{ msg string }
	tooLarge   struct{}
)

func (e *badRequest) Error() string { return "assistantapi: bad request: " + e.msg }
func (e *tooLarge) Error() string   { return "assistantapi: body too large" }

const msgTooLarge = "Die Anfrage ist zu groß. Bitte stellen Sie eine kürzere Frage, am besten in einem Satz."

// readBody reads at most maxBody bytes of r's body: *tooLarge beyond,
// *badRequest when it is not UTF-8.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &tooLarge{}
	case err != nil:
		return nil, &badRequest{"Die Anfrage konnte nicht gelesen werden."}
	case !utf8.Valid(body):
		return nil, &badRequest{"Die Anfrage ist kein gültiges UTF-8."}
	}
	return body, nil
}

// decodeJSON reads exactly one JSON object into v: UTF-8 only, no unknown
// field, no member named twice, no trailing data, at most maxBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &badRequest{"Bitte senden Sie JSON (Content-Type: application/json)."}
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var dup *jsonstrict.DuplicateError
	if err := jsonstrict.Check(body); errors.As(err, &dup) {
		return &badRequest{"Die Anfrage nennt ein Feld doppelt."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return &badRequest{fmt.Sprintf("Das Feld „%s“ hat den falschen Typ.", typeErr.Field)}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return &badRequest{"Die Anfrage enthält ein unbekanntes Feld."}
		default:
			return &badRequest{"Die Anfrage ist kein gültiges JSON-Objekt."}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &badRequest{"Nach dem JSON-Objekt folgen weitere Daten."}
	}
	return nil
}

// decodeForm reads an urlencoded form body and returns the first value of
// each of names ("" when missing); other fields are ignored, as browsers
// send the button too.
func decodeForm(w http.ResponseWriter, r *http.Request, names ...string) (map[string]string, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, &badRequest{"Bitte senden Sie das Formular dieser Seite ab."}
	}
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &badRequest{"Das Formular konnte nicht gelesen werden."}
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		v := vals.Get(n)
		if !utf8.ValidString(v) {
			return nil, &badRequest{"Das Formular ist kein gültiges UTF-8."}
		}
		out[n] = v
	}
	return out, nil
}
