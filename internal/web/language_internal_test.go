package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/lang"
)

// germanTerms are the German words an English page keeps on purpose: the
// names of the ID card's online function, the approval PIN and the
// AusweisApp as people find them on their card, in the service app and in
// letters, and the service app's buttons, which read in German.
var germanTerms = []string{"Mit dem Online-Ausweis entsperren", "Brief ist da: PIN entsperren", "Online-Ausweis",
	"Freigabe-PIN", "AusweisApp"}

// germanWords are words that are German and not English: one of them on
// an English page is a text left in German.
var germanWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`und oder nicht mit bitte ist sind wird werden wurde wurden Sie Ihr Ihre Ihren Ihrem Ihrer
		der das den dem des für auf zu zur zum bei nach noch schon eine einen einem ein kein keine auch sich
		Seite Anmeldung anmelden Anmelden Abmelden abmelden Passwort Gerät Geräte Konto Daten Brief Briefe Zugangsdaten
		Zurück Startseite Weiter Fehler gesperrt Sitzung Sitzungen Anschrift Bankverbindung Versichertennummer Postleitzahl
		Geburtsdatum Modell Straße Hausnummer Ort Stand Zeit Ergebnis Sicherheit Freigabe Änderung ändern speichern
		bestätigen Bestätigung abgelaufen Hinweis verbunden entfernen Willkommen Kasse Meine Mein
		keinen jetzt hier ihnen uns wir dann wenn kann können haben gibt gilt danach erneut neue neues neuen
		vergessen anfordern wählen geben melden prüfen zurücksetzen`) {
		germanWords[strings.ToLower(w)] = true
	}
}

var (
	// germanParts are elements marked as German (the switch's "Deutsch",
	// an approval's text the phone shows in German).
	germanParts = regexp.MustCompile(`(?s)<(\w+)[^>]*\slang="de"[^>]*>.*?</(\w+)>`)
	scripts     = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`)
	// readAttrs are attributes a person reads or hears.
	readAttrs = regexp.MustCompile(`\s(?:aria-label|title|alt|placeholder|data-live|data-going|data-prefix)="([^"]*)"`)
	tags      = regexp.MustCompile(`(?s)<[^>]*>`)
)

// GermanLeft returns the German a page in English still says: German
// words and the letters and quotes only German writes, outside the parts
// marked lang="de" and the germanTerms, and apart from the values of data
// (names and addresses the test put there).
func GermanLeft(page string, data ...string) []string {
	page = germanParts.ReplaceAllString(page, " ")
	page = scripts.ReplaceAllString(page, " ")
	var said []string
	for _, m := range readAttrs.FindAllStringSubmatch(page, -1) {
		said = append(said, m[1])
	}
	said = append(said, tags.ReplaceAllString(page, " "))
	text := html.UnescapeString(strings.Join(said, " "))
	for _, s := range append(slices.Clone(germanTerms), data...) {
		if s != "" {
			text = strings.ReplaceAll(text, s, " ")
		}
	}
	var left []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if germanWords[strings.ToLower(w)] || strings.ContainsAny(w, "äöüÄÖÜß") {
			left = append(left, w)
		}
	}
	if strings.Contains(text, "„") {
		left = append(left, "„")
	}
	return left
}

// pageCases are the data of every page, each branch of its template
// taken by some case.
func pageCases(l lang.Language) map[string][]view {
	rows := []letterRow{{Date: "01.12.2026", What: letterKind(l, "activation"), Status: l.T("web.letter.queued")},
		{Date: "01.11.2026", What: letterKind(l, "password"), Status: l.T("web.letter.returned"), Problem: true}}
	overview := overviewPage{Name: "Jane Doe", Level: levelWord(l, "low"), Meaning: levelMeaning(l, "low"), Days: 90, Letters: rows,
		Notice: l.T("web.account.notice_password"), CanStepUp: true, Need: levelWord(l, "substantial"),
		Sessions: []sessionRow{{ID: "s1", Kind: kindWord(l, "browser"), Client: uaSummary(l, "Firefox/133.0 (Windows)"),
			Origin: originWord(l, "password"), Since: "01.12.2026, 10:00", LastSeen: "01.12.2026, 10:05", Current: true},
			{ID: "s2", Kind: kindWord(l, "app"), Client: uaSummary(l, ""), Origin: originWord(l, "device"), Since: "x", LastSeen: "y"}},
		History: []historyRow{{At: "01.12.2026, 10:00", Kind: kindWord(l, "browser"), Client: l.T("web.account.phone", "Pixel"),
			Method: originWord(l, "eid"), Outcome: outcomeWord(l, "ok")},
			{At: "x", Kind: "y", Client: "z", Method: originWord(l, "letter"), Outcome: outcomeWord(l, "locked"), Failed: true}}}
	empty := overview
	empty.History, empty.Letters, empty.CanStepUp, empty.Notice = nil, nil, false, ""
	devices := devicesPage{CanRename: true, AnyLocked: true, EID: true, Notice: deviceNotice(l, "brief-pruefung"),
		Devices: []deviceRow{{ID: "d1", Name: "Pixel", Model: "Pixel 8", Level: levelWord(l, "high"), High: true, BoundAt: "x", Locked: true,
			Value: "Pixel", Error: l.T("field.device_name")}, {ID: "d2", Name: "Phone", Level: levelWord(l, "substantial"), BoundAt: "x"}}}
	full := message{Heading: l.T("web.sent.heading"), Lines: []string{l.T("web.sent.letter")}, Alert: true,
		Links: []link{{"/", l.T("web.link.start")}}}
	errs := &form{values: map[string]string{"method": "eid", "weiter": "daten"},
		Errors:  []fieldError{{"kvnr", l.T("field.kvnr")}, {"method", l.T("web.access.method_missing")}, {"", l.T("answer.login_failed.message")}},
		Reasons: []string{"x"}}
	return map[string][]view{
		"start":           {{Data: startPage{}}, {Data: startPage{Notice: l.T("web.start.logged_out")}}},
		"access":          {accessView(l, "access"), accessView(l, "reset"), func() view { v := accessView(l, "reset"); v.Form = errs; return v }()},
		"choose-password": {chooseView(l, false), chooseView(l, true)},
		"login":           {{Data: loginPage{}, Form: errs}, {Data: loginPage{App: "Beihilfe", Reason: loginReason(l, "abgelaufen")}}},
		"account":         {{LoggedIn: true, Confirmed: true, Data: overview}, {LoggedIn: true, Data: empty}},
		"change-password": {{LoggedIn: true, Data: changePage{Initial: true}, Form: errs}, {LoggedIn: true, Data: changePage{}}},
		"reset":           {{Form: errs}},
		"message":         {{Message: &full}, {Message: &message{Heading: "x"}}},
		"stepup": {{LoggedIn: true, Waiting: true, Data: stepUpPage{Number: 42, Next: "daten", Until: "x"}},
			{LoggedIn: true, Data: stepUpPage{Expired: true, Level: levelWord(l, "low")}}},
		"need-phone": {{LoggedIn: true, Data: needPhonePage{HasDevice: true, Need: "a", Have: "b", Back: "/daten", Next: "daten"}},
			{LoggedIn: true, Data: needPhonePage{App: true, Cancel: "/x"}}},
		"personal": {{LoggedIn: true, Data: personalPage{Name: "Jane Doe", AddressLines: []string{"Main Street 1", "12345 Town"}, AddressVerified: true, IBAN: "DE89 **"}},
			{LoggedIn: true, Data: personalPage{Name: "Jane Doe", Email: &email.View{Address: "j***@b***.de"}}},
			{LoggedIn: true, Data: personalPage{Name: "Jane Doe", Email: &email.View{Pending: "j***@b***.de"}}},
			{LoggedIn: true, Data: personalPage{Name: "Jane Doe", Email: &email.View{}}},
			{LoggedIn: true, Data: personalPage{Name: "Jane Doe"}}},
		"change-data": {{LoggedIn: true, Data: changeForm{}, Form: errs}, {LoggedIn: true, Data: changeForm{Bank: true}}},
		"change-wait": {{LoggedIn: true, Waiting: true, Data: changeWaitPage{ID: "a1", Text: "Neue Anschrift: Hauptstraße 1", Until: "x",
			Back: link{"/daten", l.T("web.link.back_personal")}}}},
		"devices": {{LoggedIn: true, Data: devices, Form: errs}, {LoggedIn: true, Data: devicesPage{}}},
		"device-remove": {{LoggedIn: true, Data: removePage{ID: "d1", Name: "Pixel", Now: true}},
			{LoggedIn: true, Data: removePage{ID: "d1", Name: "Pixel", CanRequest: true, Only: true, EID: true}},
			{LoggedIn: true, Data: removePage{ID: "d1", Name: "Pixel", CanRequest: true}}},
		"email": {{LoggedIn: true, Data: emailPage{}, Form: errs},
			{LoggedIn: true, Data: emailPage{View: email.View{Address: "j***@b***.de", Notify: true, Pending: "n***@b***.de"}, Until: "x"},
				Message: &message{Lines: []string{"x"}}},
			{LoggedIn: true, Data: emailPage{View: email.View{Address: "j***@b***.de"}}}},
		"email-link": {{Data: emailPage{View: email.View{Pending: "j***@b***.de"}, Token: "t"}}, {Data: emailPage{Token: "t"}}},
		"locked": {{Waiting: true, Data: lockedPage{Until: "x", Number: 7, Expires: "y", Next: "daten"}}, {Data: lockedPage{Expired: true}},
			{Data: lockedPage{TooMany: true}}, {Data: lockedPage{}}},
	}
}

// TestEveryPageInBothLanguages renders every page, each branch, in German
// and English: every text comes from the catalogue (no ⟦key⟧), <html lang>
// says the language, and the English pages say nothing in German.
func TestEveryPageInBothLanguages(t *testing.T) {
	w := &base{Browser: NewBrowser(nil, false), pages: mustParsePages(), cfg: Config{Phone: "0800 123"}}
	for _, l := range lang.All() {
		cases := pageCases(l)
		for _, name := range pageNames {
			if len(cases[name]) == 0 {
				t.Errorf("page %s has no case", name)
			}
		}
		for name, views := range cases {
			for i, v := range views {
				if v.Title == "" {
					v.Title = "Title"
				}
				r := httptest.NewRequest(http.MethodGet, "/konto?hinweis=ausweis", nil)
				r.Header.Set("Accept-Language", string(l))
				rec := httptest.NewRecorder()
				if err := w.render(rec, r, http.StatusOK, name, v); err != nil {
					t.Fatalf("%s %s #%d: %v", l, name, i, err)
				}
				page := rec.Body.String()
				if !strings.Contains(page, `<html lang="`+string(l)+`">`) {
					t.Errorf("%s %s #%d: <html lang> is not %s", l, name, i, l)
				}
				if strings.Contains(page, "⟦") {
					t.Errorf("%s %s #%d: a key without text: %s", l, name, i, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(page))
				}
				if l != lang.English {
					continue
				}
				if left := GermanLeft(page, "Beihilfe"); len(left) > 0 {
					t.Errorf("en %s #%d says in German: %q", name, i, left)
				}
			}
		}
	}
}

// TestEnglishCatalogueSaysNoGerman: every English text of the pages, the
// answers and the field errors is English (the letters keep German terms
// on purpose and have their own tests).
func TestEnglishCatalogueSaysNoGerman(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "lang", "catalog", "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	var texts map[string]string
	if err := json.Unmarshal(b, &texts); err != nil {
		t.Fatal(err)
	}
	n := 0
	for k, v := range texts {
		if !strings.HasPrefix(k, "web.") && !strings.HasPrefix(k, "answer.") && !strings.HasPrefix(k, "field.") {
			continue
		}
		n++
		if left := GermanLeft(html.EscapeString(v)); len(left) > 0 {
			t.Errorf("en %s says in German: %q", k, left)
		}
	}
	if n < 200 {
		t.Fatalf("only %d texts of pages, answers and fields: the catalogue moved?", n)
	}
}

// TestGermanLeftFinds: the check finds German and lets English, the marked
// parts and the terms pass; a check that finds nothing proves nothing.
func TestGermanLeftFinds(t *testing.T) {
	for page, german := range map[string]bool{
		`<p>Please log in on your smartphones.</p>`:          false,
		`<p>Bitte melden Sie sich an.</p>`:                   true,
		`<p>Noch keinen Code?</p>`:                           true,
		`<p>Your “Online-Ausweis” and the Freigabe-PIN.</p>`: false,
		`<button lang="de">Deutsch</button><blockquote lang="de">Neue Anschrift: Hauptstraße</blockquote>`: false,
		`<button aria-label="Sitzung beenden">End</button>`:                                                true,
		`<p id="wait-status" data-live="Diese Seite geht weiter">x</p>`:                                    true,
		`<p>Größe</p>`:    true,
		`<p>„quoted“</p>`: true,
	} {
		if got := GermanLeft(page); (len(got) > 0) != german {
			t.Errorf("GermanLeft(%q) = %q, want German %v", page, got, german)
		}
	}
}

// TestLettersNameTheLinksAsTheyRead: where a letter tells a person which
// links of the portal to follow, it names them as the page in the letter's
// language reads them.
func TestLettersNameTheLinksAsTheyRead(t *testing.T) {
	quote := map[lang.Language][2]string{lang.German: {"„", "“"}, lang.English: {"“", "”"}}
	for _, l := range lang.All() {
		steps := l.T("letter.password_reset.step_portal", "portal.example")
		for _, link := range []string{l.T("web.link.forgot"), l.T("web.access.reset_with_code")} {
			if q := quote[l][0] + link + quote[l][1]; !strings.Contains(steps, q) {
				t.Errorf("%s: the reset letter does not name the link %s:\n%s", l, q, steps)
			}
		}
	}
}
