package access_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

// letterText is the text of the person's only delivered letter, white space
// collapsed, and the language stored with it.
func letterText(t *testing.T, f *fixture, sink *pdfSink) (string, string) {
	t.Helper()
	letters, err := f.st.PersonLetters(t.Context(), f.person.ID)
	if err != nil || len(letters) != 1 {
		t.Fatalf("letters %+v, %v; want one", letters, err)
	}
	pdf := sink.pdfs[letters[0].ID]
	cmd := exec.CommandContext(t.Context(), needTool(t, "pdftotext"), "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " "), letters[0].Language
}

// chooseLanguage gives the fixture's person an account with a language
// choice and no password.
func chooseLanguage(t *testing.T, f *fixture, choice string) {
	t.Helper()
	if _, err := f.st.UpdateAccount(t.Context(), f.person.ID, f.clk.now(), func(a *store.Account, _ bool) error {
		a.Language = choice
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRequestLetterLanguage: the password letter is in the language the
// request was made in, unless the person chose one; German by default.
func TestRequestLetterLanguage(t *testing.T) {
	tests := []struct {
		name      string
		choice    string
		requested lang.Language
		stored    string
		want      string
	}{
		{"German request", "", lang.German, "de", "Initialpasswort:"},
		{"no request language", "", "", "de", "Initialpasswort:"},
		{"English request", "", lang.English, "en", "Initial password:"},
		{"German choice, English request", "de", lang.English, "de", "Initialpasswort:"},
		{"English choice, German request", "en", lang.German, "en", "Initial password:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			verifyAddress(t, f, f.clk.now())
			if tt.choice != "" {
				chooseLanguage(t, f, tt.choice)
			}
			a, sink := newAccess(t, f)
			if err := a.RequestLetter(t.Context(), access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14",
				Language: tt.requested}); err != nil {
				t.Fatal(err)
			}
			text, stored := letterText(t, f, sink)
			if stored != tt.stored || !strings.Contains(text, tt.want) {
				t.Errorf("letter stored in %q, want %q; text lacks %q:\n%s", stored, tt.stored, tt.want, text)
			}
		})
	}
}

// TestResetLetterLanguage: a reset letter follows the request's language.
func TestResetLetterLanguage(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	res, err := f.login(t, initial)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, "Kastanienbaum im Herbstwind", ""); err != nil {
		t.Fatal(err)
	}
	if err := resetNow(t.Context(), a, access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14",
		Language: lang.English}); err != nil {
		t.Fatal(err)
	}
	text, stored := letterText(t, f, sink)
	if stored != "en" || !strings.Contains(text, "Reset code:") || !strings.Contains(text, "Your code for a new password") {
		t.Errorf("reset letter stored in %q:\n%s", stored, text)
	}
}

// TestActivationLetterLanguage: an activation letter follows the request's
// language unless the person chose one.
func TestActivationLetterLanguage(t *testing.T) {
	for _, tt := range []struct {
		choice    string
		requested lang.Language
		want      string
	}{
		{"", lang.English, "Your QR code for the Service-App"},
		{"de", lang.English, "Ihr QR-Code für die Service-App"},
		{"", lang.German, "Ihr QR-Code für die Service-App"},
	} {
		f := newFixture(t)
		verifyAddress(t, f, f.clk.now())
		if tt.choice != "" {
			chooseLanguage(t, f, tt.choice)
		}
		a, sink := newAccess(t, f)
		if _, err := a.OrderActivationLetter(t.Context(), f.person.ID, "", tt.requested); err != nil {
			t.Fatal(err)
		}
		if text, _ := letterText(t, f, sink); !strings.Contains(text, tt.want) {
			t.Errorf("choice %q, request %q: letter lacks %q:\n%s", tt.choice, tt.requested, tt.want, text)
		}
	}
}
