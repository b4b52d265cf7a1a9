package mailboxapi_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
)

// germanWords are words that are German and not English: one of them on
// an English page is a text left in German (as web's language tests
// look for them).
var germanWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`und oder nicht mit bitte ist sind wird werden wurde Sie Ihr Ihre Ihren Ihrem Ihrer
		der das den dem des für auf zu zur zum bei nach noch eine einen einem ein kein keine auch sich vom bis
		Postfach Nachricht Nachrichten Betreff Anhang Anhänge Antwort Antworten Archiv Posteingang Suchen Treffer
		ungelesen ungelesene Benachrichtigung Zurück Konto Geräte Meine Mein Abmelden Fehler Datei Zeichen
		schreiben senden legen höchstens freiwillig geklappt`) {
		germanWords[strings.ToLower(w)] = true
	}
}

var (
	// germanStart opens an element marked as German: what the insurer
	// wrote, the switch's "Deutsch".
	germanStart = regexp.MustCompile(`<(\w+)[^>]*\slang="de"[^>]*>`)
	readAttrs   = regexp.MustCompile(`\s(?:aria-label|title|alt|placeholder)="([^"]*)"`)
	tags        = regexp.MustCompile(`(?s)<[^>]*>`)
)

// germanLeft returns the German an English page still says outside the
// parts marked lang="de", apart from data (what the test wrote).
func germanLeft(page string, data ...string) []string {
	page = withoutGerman(page)
	var said []string
	for _, m := range readAttrs.FindAllStringSubmatch(page, -1) {
		said = append(said, m[1])
	}
	said = append(said, tags.ReplaceAllString(page, " "))
	text := html.UnescapeString(strings.Join(said, " "))
	for _, s := range append([]string{"Freigabe-PIN"}, data...) {
		text = strings.ReplaceAll(text, s, " ")
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

// withoutGerman removes the elements marked lang="de" with what they hold,
// elements of the same name inside them included.
func withoutGerman(page string) string {
	for {
		m := germanStart.FindStringSubmatchIndex(page)
		if m == nil {
			return page
		}
		name := page[m[2]:m[3]]
		open, end := regexp.MustCompile(`<`+name+`[\s>]`), "</"+name+">"
		depth, i := 1, m[1]
		for depth > 0 {
			c := strings.Index(page[i:], end)
			if c < 0 {
				return page[:m[0]]
			}
			if o := open.FindStringIndex(page[i:]); o != nil && o[0] < c {
				depth, i = depth+1, i+o[1]
				continue
			}
			depth, i = depth-1, i+c+len(end)
		}
		page = page[:m[0]] + " " + page[i:]
	}
}

func TestGermanLeftFinds(t *testing.T) {
	if left := germanLeft(`<p>Your mailbox</p><div lang="de"><p>Ihre Rechnung</p><div><p>Bitte</p></div></div><button lang="de">Deutsch</button>`); len(left) > 0 {
		t.Errorf("English page: %q", left)
	}
	if left := germanLeft(`<div lang="de"><div>Bitte</div></div><p>Ihre Nachricht</p><a aria-label="Konto">x</a>`); len(left) != 3 {
		t.Errorf("German page: %q, want Ihre, Nachricht, Konto", left)
	}
}

// TestPagesInBothLanguages renders every mailbox page, each problem shown
// on one, in German and in English: the lang attribute follows the
// language, the switch returns to the page, and no German is left on the
// English pages but what the insurer wrote (marked lang="de").
func TestPagesInBothLanguages(t *testing.T) {
	f := start(t)
	const subject, text = "Ihre Rechnung vom März", "Bitte prüfen Sie die **Rechnung**."
	id := f.send(t, f.alice, subject, text, file("Rechnung.pdf", pdfBytes(t)))
	subs := session.LevelSubstantial
	data := []string{nodetest.Insurer.Name, subject, "Rechnung.pdf", "Rechnung", "Beleg.png", "Frage"}

	type visit struct {
		name, method, path string
		level              session.Level
		form               map[string]string
		files              map[string][]byte
		status             int
		here               string
	}
	visits := []visit{
		{"restricted", "GET", "/postfach", session.LevelLow, nil, nil, http.StatusOK, "/postfach"},
		{"restricted thread", "GET", "/postfach/" + id, session.LevelLow, nil, nil, http.StatusForbidden, "/postfach/" + id},
		{"inbox", "GET", "/postfach?hinweis=gesendet", subs, nil, nil, http.StatusOK, "/postfach?hinweis=gesendet"},
		{"thread", "GET", "/postfach/" + id + "?hinweis=gesendet", subs, nil, nil, http.StatusOK, "/postfach/" + id + "?hinweis=gesendet"},
		{"search", "GET", "/postfach/suche?q=rechnung", subs, nil, nil, http.StatusOK, "/postfach/suche?q=rechnung"},
		{"search none", "GET", "/postfach/suche?q=xyz", subs, nil, nil, http.StatusOK, "/postfach/suche?q=xyz"},
		{"search empty", "GET", "/postfach/suche?q=", subs, nil, nil, http.StatusBadRequest, "/postfach/suche?q="},
		{"archive", "GET", "/postfach/archiv", subs, nil, nil, http.StatusOK, "/postfach/archiv"},
		{"write", "GET", "/postfach/neu", subs, nil, nil, http.StatusOK, "/postfach/neu"},
		{"write empty", "POST", "/postfach/neu", subs, map[string]string{"betreff": "", "text": "Frage"}, nil, http.StatusBadRequest, "/postfach/neu"},
		{"reply bad file", "POST", "/postfach/" + id + "/antwort", subs, map[string]string{"text": "Frage"},
			map[string][]byte{"virus.exe": []byte("MZ")}, http.StatusBadRequest, "/postfach/" + id},
		{"not found", "GET", "/postfach/thr_none", subs, nil, nil, http.StatusNotFound, "/postfach/thr_none"},
	}
	for _, l := range lang.All() {
		for _, v := range visits {
			var ct string
			var body []byte
			if v.form != nil {
				ct, body = multipartForm(t, v.form, v.files)
			}
			code, _, page := f.pageIn(t, l, v.method, v.path, f.alice, v.level, ct, body)
			if code != v.status {
				t.Errorf("%s %s: %d, want %d\n%s", l, v.name, code, v.status, page)
				continue
			}
			if !strings.Contains(page, `<html lang="`+string(l)+`">`) {
				t.Errorf("%s %s: lang attribute wrong", l, v.name)
			}
			if !strings.Contains(page, `action="/sprache"`) || !strings.Contains(page, `name="zurueck" value="`+html.EscapeString(v.here)+`"`) {
				t.Errorf("%s %s: no language switch back to %s", l, v.name, v.here)
			}
			if strings.Contains(page, "⟦") {
				t.Errorf("%s %s: a key the catalogue lacks", l, v.name)
			}
			if l == lang.English {
				if left := germanLeft(page, data...); len(left) > 0 {
					t.Errorf("English %s says German: %q", v.name, left)
				}
			}
		}
	}
	// A notice's subject, the subject of its letter, is said in the page's
	// language; its text stays German.
	f.n.BindPhone(t, f.alice, f.password, "482915")
	for _, l := range lang.All() {
		_, _, page := f.pageIn(t, l, "GET", "/postfach", f.alice, subs, "", nil)
		if want := html.EscapeString(l.T("letter.device_bound.subject")); !strings.Contains(page, want) {
			t.Errorf("%s inbox lacks the notice's subject %q:\n%s", l, want, page)
		}
		if left := germanLeft(page, data...); l == lang.English && len(left) > 0 {
			t.Errorf("English inbox with a notice says German: %q", left)
		}
	}
	// The English thread says that the insurer's message is in German.
	_, _, page := f.pageIn(t, lang.English, "GET", "/postfach/"+id, f.alice, subs, "", nil)
	if !strings.Contains(page, `<div class="message-body" lang="de">`) || !strings.Contains(page, "(in German)") ||
		!strings.Contains(page, "At most 20,000 characters.") {
		t.Errorf("English thread:\n%s", page)
	}
}
