package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *DuplicateError // nil: accepted
	}{
		{"object", `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, nil},
		{"scalar", `"x"`, nil},
		{"empty containers", `[{},[],{"a":{}}]`, nil},
		{"same name in sibling objects", `[{"type":"x"},{"type":"y"}]`, nil},
		{"name equal to a value", `{"a":"b","b":"a"}`, nil},
		{"top level", `{"a":1,"a":2}`, &DuplicateError{"a", "$"}},
		{"after a nested object", `{"a":{"x":1,"y":2},"a":3}`, &DuplicateError{"a", "$"}},
		{"nested", `{"a":{"b":1,"b":1}}`, &DuplicateError{"b", "$.a"}},
		{"in an array", `[{"type":"x"},{"type":"y","amount":1,"amount":2}]`, &DuplicateError{"amount", "$[1]"}},
		{"deep", `[{"a":[0,{"b":{"c":1,"c":1}}]}]`, &DuplicateError{"c", "$[0].a[1].b"}},
		{"escaped", `{"a":1,"\u0061":2}`, &DuplicateError{"a", "$"}},
		{"empty name", `{"":1,"":2}`, &DuplicateError{"", "$"}},
		{"after an array value", `{"a":[1,2],"b":true,"a":null}`, &DuplicateError{"a", "$"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.in))
			var got *DuplicateError
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("Check(%s) = %v, want a DuplicateError or nil", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCheckInvalid(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":1,"a":}`, `{"a" 1}`, `[1,]`, `{} {}`, "\"\xff", `nul`} {
		if err := Check([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// FuzzCheck: no input panics Check; it agrees with json.Valid on validity,
// and what it accepts, encoding/json decodes.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `[{"a":{"b":[1,{"c":2,"c":3}]}}]`, `{"a":1}`, `"x"`, `{`, `[]`, `{"\u0061":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data)
		valid := json.Valid(data)
		if errors.Is(err, ErrInvalid) == valid {
			t.Fatalf("Check(%q) = %v, json.Valid = %v", data, err, valid)
		}
		var dup *DuplicateError
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.As(err, &dup) {
			t.Fatalf("Check(%q) = %v: neither ErrInvalid nor a DuplicateError", data, err)
		}
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("Check accepted %q, which does not decode: %v", data, err)
			}
		}
	})
}
