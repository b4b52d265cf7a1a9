// Package jsonstrict checks JSON text for what encoding/json accepts
// silently: an object that names the same member twice. encoding/json keeps
// the last value, other parsers keep the first or refuse, so a document with
// a duplicate member can mean one thing to Pforte and another to the system
// that sent it or to the phone that shows it. Anything a person approves is
// checked here before it is parsed.
//
// Member names are compared after unescaping ("a" and "\u0061" are the same
// name), at every depth, objects inside arrays included. The package does
// not decode values and owns no limits on size or depth beyond those of
// encoding/json: callers bound the input first.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrInvalid is the error (wrapped) for text that is not JSON.
var ErrInvalid = errors.New("jsonstrict: not valid JSON")

// DuplicateError reports an object that names a member twice.
type DuplicateError struct {
	// Name is the repeated member name, unescaped.
	Name string
	// Path locates the object: "$" for the top level, then .name and [index]
	// steps, e.g. "$[0].amount".
	Path string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("jsonstrict: member %q appears twice in the object at %s", e.Name, e.Path)
}

// frame is one open object or array.
type frame struct {
	object bool
	names  map[string]struct{} // the object's member names so far
	key    bool                // the object expects a member name next
	step   string              // the path step of the value being read in it
	index  int                 // the array's next index
}

// Check returns nil when data is one valid JSON value in which no object
// names a member twice; an error wrapping ErrInvalid when data is not valid
// JSON (json.Valid is false); and a *DuplicateError for the first repeated
// member otherwise.
func Check(data []byte) error {
	if !json.Valid(data) {
		return fmt.Errorf("%w", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil { // json.Valid accepted it: not reached
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.object && top.key {
			name, _ := tok.(string) // a member name is always a string
			if _, seen := top.names[name]; seen {
				return &DuplicateError{Name: name, Path: path(stack)}
			}
			top.names[name] = struct{}{}
			top.key = false
			top.step = "." + name
			continue
		}
		// A value: in an object it completes a member, in an array it takes
		// the next index.
		if top != nil {
			if top.object {
				top.key = true
			} else {
				top.step = "[" + strconv.Itoa(top.index) + "]"
				top.index++
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, names: map[string]struct{}{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		}
	}
}

// path is where the innermost open object of stack lies.
func path(stack []*frame) string {
	var b strings.Builder
	b.WriteString("$")
	for _, f := range stack[:len(stack)-1] {
		b.WriteString(f.step)
	}
	return b.String()
}
