package mailboxapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/jsonstrict"
	"github.com/pforte/pforte/internal/mailbox"
)

// readBody reads the request body within limit: *tooLarge beyond it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &tooLarge{}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &tooLarge{}
	case err != nil:
		return nil, &badRequest{msg: "Die Anfrage konnte nicht gelesen werden."}
	}
	return body, nil
}

// decodeJSON reads exactly one JSON object into v: UTF-8 only, no unknown
// field, no member named twice, no trailing data, at most limit bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &badRequest{msg: "Bitte senden Sie JSON (Content-Type: application/json)."}
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return &badRequest{msg: "Die Anfrage ist kein gültiges UTF-8."}
	}
	var dup *jsonstrict.DuplicateError
	if err := jsonstrict.Check(body); errors.As(err, &dup) {
		return &badRequest{msg: "Die Anfrage nennt ein Feld doppelt."}
	} else if err != nil {
		return &badRequest{msg: "Die Anfrage ist kein gültiges JSON-Objekt."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return &badRequest{msg: fmt.Sprintf("Das Feld „%s“ hat den falschen Typ.", typeErr.Field)}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return &badRequest{msg: "Die Anfrage enthält ein unbekanntes Feld."}
		default:
			return &badRequest{msg: "Die Anfrage ist kein gültiges JSON-Objekt."}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &badRequest{msg: "Nach dem JSON-Objekt folgen weitere Daten."}
	}
	return nil
}

// attachmentJSON is an attachment as the API takes it.
type attachmentJSON struct {
	Name    string `json:"name"`
	Content string `json:"content"` // standard base64
}

// uploads decodes the attachments of a JSON request.
func uploads(in []attachmentJSON, limits mailbox.Config) ([]mailbox.Upload, error) {
	if len(in) > limits.MaxFiles {
		return nil, &mailbox.InputError{Field: "attachments", Msg: fmt.Sprintf("Sie können höchstens %d Dateien an eine Nachricht hängen.", limits.MaxFiles)}
	}
	out := make([]mailbox.Upload, 0, len(in))
	for i, a := range in {
		b, err := base64.StdEncoding.DecodeString(a.Content)
		if err != nil {
			return nil, &mailbox.InputError{Field: "attachments", Msg: fmt.Sprintf("Der Inhalt des %d. Anhangs ist nicht base64-kodiert.", i+1)}
		}
		out = append(out, mailbox.Upload{Name: a.Name, Content: b})
	}
	return out, nil
}
