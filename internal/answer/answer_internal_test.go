package answer

import (
	"errors"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
)

// TestEveryAnswerInEveryLanguage: each outcome has a heading and a message
// in German (the API's) and English, from the catalogue.
func TestEveryAnswerInEveryLanguage(t *testing.T) {
	all := []Answer{Internal}
	for _, r := range rows {
		all = append(all, r.answer)
	}
	for _, a := range all {
		g := a.german()
		if g.Heading == "" || g.Message == "" || strings.Contains(g.Heading+g.Message, "⟦") {
			t.Errorf("%s: German %q / %q", a.Code, g.Heading, g.Message)
		}
		h, m := a.In(lang.English)
		if h == "" || m == "" || strings.Contains(h+m, "⟦") || h == g.Heading && m == g.Message {
			t.Errorf("%s: English %q / %q", a.Code, h, m)
		}
	}
	for reason, text := range cardMessages {
		if de, en := text.In(lang.German), text.In(lang.English); strings.Contains(de+en, "⟦") || de == en {
			t.Errorf("card reason %v: %q / %q", reason, de, en)
		}
	}
}

// TestForKeepsTheFieldsText: a field error's own message replaces the
// generic one, in every language it has; a German-only one stays German.
func TestForKeepsTheFieldsText(t *testing.T) {
	a, ok := For(field.Wrong("postal_code", lang.Key("field.postal_code")))
	if !ok || a.Message != lang.German.T("field.postal_code") {
		t.Fatalf("For(field error) = %+v, %v", a, ok)
	}
	if _, m := a.In(lang.English); m != lang.English.T("field.postal_code") {
		t.Errorf("English message %q", m)
	}
	a, _ = For(errors.Join(field.Invalid("pin_key", "Der PIN-Schlüssel ist ungültig.")))
	if _, m := a.In(lang.English); m != "Der PIN-Schlüssel ist ungültig." {
		t.Errorf("an API-only field error in English: %q", m)
	}
}
