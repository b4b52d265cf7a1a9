package field_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pforte/pforte/internal/field"
)

func TestAll(t *testing.T) {
	kvnr := field.Invalid("kvnr", "Bitte prüfen Sie die Versichertennummer.")
	plz := field.Invalid("postal_code", "Fünf Ziffern.")
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"nil", nil, nil},
		{"other", errors.New("x"), nil},
		{"one", kvnr, []string{"kvnr"}},
		{"wrapped one", fmt.Errorf("access: %w", kvnr), []string{"kvnr"}},
		{"several", field.Errors{kvnr, plz}, []string{"kvnr", "postal_code"}},
		{"wrapped several", fmt.Errorf("access: %w", field.Errors{kvnr, plz}), []string{"kvnr", "postal_code"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range field.All(tt.err) {
			got = append(got, f.Name)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: All = %v, want %v", tt.name, got, tt.want)
		}
	}
	var one *field.Error
	if !errors.As(field.Errors{kvnr, plz}, &one) || one != kvnr {
		t.Errorf("errors.As on Errors found %v, want the first field", one)
	}
}

func TestErr(t *testing.T) {
	kvnr := field.Invalid("kvnr", "m")
	if err := (field.Errors{}).Err(); err != nil {
		t.Errorf("no errors: Err = %v, want nil", err)
	}
	if err := (field.Errors{kvnr}).Err(); err != kvnr {
		t.Errorf("one error: Err = %v, want the error itself", err)
	}
	if got := (field.Errors{kvnr, field.Invalid("postal_code", "m")}).Err().Error(); got != "invalid kvnr, postal_code" {
		t.Errorf("two errors: %q", got)
	}
}
