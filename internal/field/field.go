// Package field reports input of the wrong shape by the field it concerns.
// Error is the one type every domain package returns for such input: a
// KVNR that is not one, a postal code of four digits, a device name with
// control characters, an approval text that is too long. Its Message is
// German, safe to show next to the field, and says only what the input
// should look like, never whether it matches stored data.
//
// Errors collects several at once, so that a form can show every problem
// in one answer. It does not own the HTTP answers (packages web and appapi
// turn these errors into pages and JSON) or any rule of what is valid.
package field

import (
	"errors"
	"strings"

	"github.com/pforte/pforte/internal/lang"
)

// Error is one field whose input has the wrong shape.
type Error struct {
	// Name is the field as the client sent it ("kvnr", "postal_code").
	Name string
	// Message says in German what the field should hold.
	Message string
	// Text says it in every language; zero for an Invalid error.
	Text lang.Text
}

// Invalid returns the error for field name, with a German message.
func Invalid(name, message string) *Error { return &Error{Name: name, Message: message} }

// Wrong returns the error for field name, with a message from the
// catalogue.
func Wrong(name string, text lang.Text) *Error {
	return &Error{Name: name, Message: text.In(lang.German), Text: text}
}

// In returns the message in l: Text in l, or the German Message when the
// error has no Text.
func (e *Error) In(l lang.Language) string {
	if e.Text.IsZero() {
		return e.Message
	}
	return e.Text.In(l)
}

func (e *Error) Error() string { return "invalid " + e.Name }

// Errors are several fields with the wrong shape, in the order found.
type Errors []*Error

func (e Errors) Error() string {
	names := make([]string, len(e))
	for i, f := range e {
		names[i] = f.Name
	}
	return "invalid " + strings.Join(names, ", ")
}

// Unwrap lets errors.As find the first of them.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, f := range e {
		out[i] = f
	}
	return out
}

// Err returns nil for no errors, the error itself for one, and e for more.
func (e Errors) Err() error {
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}

// All returns every field error in err: the fields of an Errors, or the one
// Error err wraps; nil if err holds none.
func All(err error) []*Error {
	var many Errors
	if errors.As(err, &many) {
		return many
	}
	var one *Error
	if errors.As(err, &one) {
		return []*Error{one}
	}
	return nil
}
