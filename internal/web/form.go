package web

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/lang"
)

const (
	// maxForm bounds a form body.
	maxForm = 16 << 10
	// maxValue bounds one form value in bytes (a password has at most 128
	// characters of at most 4 bytes).
	maxValue = 1024
)

// fieldError is one problem of a submitted form. Field names the input; an
// empty Field is a problem of the whole form.
type fieldError struct{ Field, Message string }

// Anchor is the id of the input the error summary links to.
func (e fieldError) Anchor() string {
	if e.Field == "method" {
		return "method-eid"
	}
	return e.Field
}

// form is a submitted form as a page shows it again: the values typed (never
// passwords) and the problems found.
type form struct {
	values  map[string]string
	Errors  []fieldError
	Reasons []string // why a new password was refused
}

// Value returns the value typed into the field.
func (f *form) Value(name string) string { return f.values[name] }

// Err returns the message for the field, or "".
func (f *form) Err(name string) string {
	for _, e := range f.Errors {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

// input is what the input template needs for one field.
type input struct {
	Name, Label, Type, Autocomplete, Hint, Value, Error, InputMode string
	Reasons                                                        []string
}

// Input describes the input for name. kind is "text", "numeric" or
// "password"; passwords are never filled in again.
func (f *form) Input(name, label, kind, autocomplete, hint string) input {
	in := input{Name: name, Label: label, Type: "text", Autocomplete: autocomplete, Hint: hint, Error: f.Err(name)}
	switch kind {
	case "password":
		in.Type = "password"
		if name == "new_password" {
			in.Reasons = f.Reasons
		}
	case "numeric":
		in.InputMode = "numeric"
		in.Value = f.values[name]
	default:
		in.Value = f.values[name]
	}
	return in
}

// decodeForm reads the urlencoded body of r (at most maxForm bytes) and
// returns the named fields. Invalid UTF-8 and overlong values are a
// *badRequest; a missing field is "".
func decodeForm(rw http.ResponseWriter, r *http.Request, names ...string) (map[string]string, error) {
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badRequest(http.StatusRequestEntityTooLarge, lang.Key("web.bad.too_large"))
		}
		return nil, badRequest(http.StatusBadRequest, lang.Key("web.bad.unreadable"))
	}
	out := make(map[string]string, len(names))
	for key, vs := range r.PostForm {
		if !utf8.ValidString(key) {
			return nil, badRequest(http.StatusBadRequest, lang.Key("web.bad.characters"))
		}
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return nil, badRequest(http.StatusBadRequest, lang.Key("web.bad.characters"))
			}
			if len(v) > maxValue && !slices.Contains(names, key) {
				return nil, badRequest(http.StatusBadRequest, lang.Key("web.bad.too_long"))
			}
		}
	}
	for _, n := range names {
		// An over-long entry of the form is cut to maxValue: the field's
		// own check then says it is too long or malformed, and the form
		// comes back with every other entry kept. Every field has a
		// shorter limit than maxValue (a password 128 characters), so a
		// cut value is never accepted as the whole one.
		out[n] = clipValue(r.PostForm.Get(n))
	}
	return out, nil
}

// clipValue cuts v to at most maxValue bytes at a character boundary.
func clipValue(v string) string {
	if len(v) <= maxValue {
		return v
	}
	n := maxValue
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// keep returns the values a page may show again: everything but passwords.
func keep(values map[string]string) *form {
	f := &form{values: map[string]string{}}
	for k, v := range values {
		if !strings.Contains(k, "password") {
			f.values[k] = v
		}
	}
	return f
}

var germanDate = regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$`)

// isoDate turns "14.03.1970" (also "4.3.1970") into "1970-03-14"; anything
// else is returned trimmed, for the service to accept ("1970-03-14") or
// refuse.
func isoDate(s string) string {
	s = strings.TrimSpace(s)
	m := germanDate.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	pad := func(d string) string {
		if len(d) == 1 {
			return "0" + d
		}
		return d
	}
	return m[3] + "-" + pad(m[2]) + "-" + pad(m[1])
}

// requireRepeat checks that the repeated new password equals the new one.
func requireRepeat(l lang.Language, values map[string]string) error {
	var problems fieldProblems
	if values["new_password"] == "" {
		problems = append(problems, fieldError{"new_password", l.T("web.password.missing")})
	} else if values["new_password"] != values["new_password_repeat"] {
		problems = append(problems, fieldError{"new_password_repeat", l.T("web.password.mismatch")})
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}
