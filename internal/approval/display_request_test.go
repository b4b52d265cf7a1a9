package approval_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestCreateRefusesTextsThePhoneCannotShowAsSigned guards checkText: a
// request whose text holds a bidi override, a zero-width, C1 or other format
// character, or a line separator is refused; line breaks are fine.
func TestCreateRefusesTextsThePhoneCannotShowAsSigned(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	f.bind(t)
	for name, text := range map[string]string{
		"right-to-left override U+202E": "Neue Anschrift: \u202egizpieL 90140 ,3 gewnedniL",
		"left-to-right isolate U+2066":  "Neue Anschrift: \u2066Lindenweg 3\u2069, 04109 Leipzig",
		"zero-width space U+200B":       "Neue Anschrift: Linden\u200bweg 3, 04109 Leipzig",
		"BOM U+FEFF":                    "\ufeffNeue Anschrift: Lindenweg 3, 04109 Leipzig",
		"C1 next line U+0085":           "Neue Anschrift:\u0085Lindenweg 3, 04109 Leipzig",
		"line separator U+2028":         "Neue Anschrift:\u2028Lindenweg 3, 04109 Leipzig",
		"carriage return":               "Neue Anschrift:\r\nLindenweg 3, 04109 Leipzig",
	} {
		var inv *field.Error
		if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionAddressChange, text, addressData, "", "", session.LevelHigh); !errors.As(err, &inv) || inv.Name != "text" {
			t.Errorf("%s: %v, want *field.Error for the text", name, err)
		}
	}
	if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionAddressChange, "Neue Anschrift:\nLindenweg 3\n04109 Leipzig",
		addressData, "", "", session.LevelHigh); err != nil {
		t.Errorf("text with line breaks: %v", err)
	}
}
