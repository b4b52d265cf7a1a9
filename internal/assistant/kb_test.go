package assistant

import (
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// kbWith is the shipped knowledge base's language and pages files with the
// given topic files instead of its own.
func kbWith(t *testing.T, topics map[string]string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{languageFile, pagesFile} {
		b, err := fs.ReadFile(KnowledgeBase(), name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	for name, text := range topics {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

const goodTopic = `thema: Test
eintraege:
  - id: brief-dauer
    titel: Wie lange dauert der Brief?
    fragen:
      - Wann kommt der Brief?
      - Wie lange braucht die Post?
      - Wie viele Tage dauert der Versand?
    antwort: Der Brief ist in der Regel nach höchstens {{.LetterDays}} Werktagen bei Ihnen, schreibt die {{.Insurer}}.
    seite: /zugang
`

func TestAssistantKnowledgeBaseLoads(t *testing.T) {
	a, err := New(testConfig(), kbWith(t, map[string]string{"test.yaml": goodTopic}), KeepNothing{}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	es := a.Entries()
	if len(es) != 1 {
		t.Fatalf("entries = %d, want 1", len(es))
	}
	e := es[0]
	if want := "Der Brief ist in der Regel nach höchstens 4 Werktagen bei Ihnen, schreibt die Testkasse."; e.Answer != want {
		t.Errorf("answer = %q, want %q", e.Answer, want)
	}
	if e.Link != (Link{Href: "/zugang", Label: "Zugangsdaten anfordern"}) || e.File != "test.yaml" || e.Line != 3 || e.Topic != "Test" {
		t.Errorf("entry = %+v", e)
	}
}

// TestAssistantKnowledgeBaseErrors breaks an entry in every way the loader
// checks and wants an error that names the file and the line.
func TestAssistantKnowledgeBaseErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // a part of the problem, after "file:line: "
	}{
		{"unknown field", strings.Replace(goodTopic, "    seite: /zugang\n", "    seite: /zugang\n    antwrt: x\n", 1),
			`test.yaml:11: entry "brief-dauer": unknown field "antwrt"`},
		{"unknown placeholder", strings.Replace(goodTopic, "{{.LetterDays}}", "{{.BriefTage}}", 1),
			`test.yaml:9: entry "brief-dauer": antwort: placeholder: {{.BriefTage}} is not a known placeholder (known: {{.Insurer}}`},
		{"broken placeholder", strings.Replace(goodTopic, "{{.LetterDays}}", "{{.LetterDays", 1),
			`test.yaml:9: entry "brief-dauer": antwort: placeholder:`},
		{"too few questions", strings.Replace(goodTopic, "      - Wie viele Tage dauert der Versand?\n", "", 1),
			`test.yaml:3: entry "brief-dauer": at least 3 fragen`},
		{"unknown page", strings.Replace(goodTopic, "seite: /zugang", "seite: /gibtsnicht", 1),
			`test.yaml:10: entry "brief-dauer": seite "/gibtsnicht" is not listed in seiten.yaml`},
		{"missing answer", strings.Replace(goodTopic, "    antwort: Der Brief ist in der Regel nach höchstens {{.LetterDays}} Werktagen bei Ihnen, schreibt die {{.Insurer}}.\n", "", 1),
			`test.yaml:3: entry "brief-dauer": antwort required`},
		{"short answer", strings.Replace(goodTopic, "Der Brief ist in der Regel nach höchstens {{.LetterDays}} Werktagen bei Ihnen, schreibt die {{.Insurer}}.", "Kommt bald.", 1),
			`test.yaml:9: entry "brief-dauer": antwort has 11 characters`},
		{"bad id", strings.Replace(goodTopic, "id: brief-dauer", "id: Brief Dauer", 1),
			`test.yaml:3: entry "Brief Dauer": id must be lower-case words`},
		{"repeated question", strings.Replace(goodTopic, "      - Wie viele Tage dauert der Versand?\n", "      - Wann kommt der Brief?\n      - wann kommt der BRIEF\n", 1),
			`test.yaml:3: entry "brief-dauer": question "wann kommt der BRIEF" appears twice`},
		{"field twice", strings.Replace(goodTopic, "    seite: /zugang\n", "    seite: /zugang\n    seite: /anmelden\n", 1),
			`test.yaml:`},
		{"not yaml", "thema: [unclosed\n", `test.yaml:1: invalid YAML`},
		{"no topic", strings.Replace(goodTopic, "thema: Test\n", "", 1), `test.yaml:1: thema: required`},
		{"list instead of text", strings.Replace(goodTopic, "titel: Wie lange dauert der Brief?", "titel: [a, b]", 1),
			`test.yaml:4: entry "brief-dauer": titel: want text`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(testConfig(), kbWith(t, map[string]string{"test.yaml": tc.text}), KeepNothing{}, fixedNow)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAssistantKnowledgeBaseDuplicates(t *testing.T) {
	other := strings.Replace(goodTopic, "thema: Test", "thema: Andere", 1)
	_, err := New(testConfig(), kbWith(t, map[string]string{"a.yaml": goodTopic, "b.yaml": other}), KeepNothing{}, fixedNow)
	if err == nil || !strings.Contains(err.Error(), `b.yaml:3: entry id "brief-dauer" is already used at a.yaml:3`) {
		t.Errorf("err = %v, want the second use of the id named", err)
	}
	second := strings.Replace(other, "id: brief-dauer", "id: brief-zeit", 1)
	_, err = New(testConfig(), kbWith(t, map[string]string{"a.yaml": goodTopic, "b.yaml": second}), KeepNothing{}, fixedNow)
	if err == nil || !strings.Contains(err.Error(), `b.yaml:3: entry "brief-zeit": question "Wann kommt der Brief?" is also a question of entry "brief-dauer"`) {
		t.Errorf("err = %v, want the repeated question named", err)
	}
}

func TestAssistantLanguageFileErrors(t *testing.T) {
	lang, err := fs.ReadFile(KnowledgeBase(), languageFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"synonym twice", "  - [passwort, kennwort,", "  - [passwort, passwort, kennwort,", `sprache.yaml:`},
		{"synonym of two words", "  - [passwort, kennwort,", "  - [passwort, zwei wörter,", `synonyme: "zwei wörter": one word of letters only`},
		{"bad rule", "  - mensch*\n", "  - mensch* 42\n", `mensch: "mensch* 42": want words of letters`},
		{"unknown section", "\nwortteile:", "\nwortteil:", `unknown field "wortteil"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(lang), tc.from) {
				t.Fatalf("sprache.yaml has no %q", tc.from)
			}
			m := kbWith(t, map[string]string{"test.yaml": goodTopic}).(fstest.MapFS)
			m[languageFile] = &fstest.MapFile{Data: []byte(strings.Replace(string(lang), tc.from, tc.to, 1))}
			_, err := New(testConfig(), m, KeepNothing{}, fixedNow)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestAssistantKnowledgeBaseShipped checks the shipped knowledge base: at
// least 50 entries, each with several ways of asking, and no answer that
// names a configured limit itself instead of its placeholder.
func TestAssistantKnowledgeBaseShipped(t *testing.T) {
	a, _ := newTestAssistant(t, KeepNothing{})
	es := a.Entries()
	if len(es) < 50 {
		t.Errorf("knowledge base has %d entries, want at least 50", len(es))
	}
	// The test configuration's facts are chosen so that they appear in
	// answers only through placeholders; a second configuration with other
	// values must change every answer that uses one.
	cfg := testConfig()
	cfg.LetterDays, cfg.PINAttempts, cfg.MaxDevices, cfg.InitialPasswordDays = 9, 5, 7, 45
	cfg.LetterLimit, cfg.LetterWindowDays = 5, 28
	b, err := New(cfg, KnowledgeBase(), KeepNothing{}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for i, e := range b.Entries() {
		if e.Answer != es[i].Answer {
			changed[e.ID] = true
		}
	}
	for _, id := range []string{"brief-dauer", "freigabe-pin-gesperrt", "geraete-anzahl", "initialpasswort-gueltigkeit", "brief-limit"} {
		if !changed[id] {
			t.Errorf("entry %q does not follow the configuration", id)
		}
	}
	// Every number in an answer is a fact of the configuration or one of
	// the few that are no setting (ages, formats, examples).
	cfg = testConfig()
	allowed := map[string]bool{"0": true, "1": true, "15": true, "123456": true, "654321": true, "123456780": true}
	for _, v := range []int{cfg.LetterDays, cfg.LetterLimit, cfg.LetterWindowDays, cfg.InitialPasswordDays, cfg.PasswordMinLength,
		cfg.PasswordChangesPerDay, cfg.PINAttempts, cfg.MaxDevices, cfg.ApprovalMinutes, cfg.EIDMinutes} {
		allowed[strconv.Itoa(v)] = true
	}
	for _, e := range es {
		if len(e.Questions) < minQuestions {
			t.Errorf("%s: %d ways of asking", e.ID, len(e.Questions))
		}
		for _, n := range digitRuns.FindAllString(strings.NewReplacer(cfg.Phone, "", cfg.OpeningHours, "", germanDuration(DefaultRetention), "").Replace(e.Answer), -1) {
			if !allowed[n] {
				t.Errorf("%s:%d: entry %q names the number %s itself; use a placeholder", e.File, e.Line, e.ID, n)
			}
		}
	}
}

var digitRuns = regexp.MustCompile(`\d+`)
