package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAssistantPanelOnEveryPage: every portal page, before and after the
// login and the page of an unknown path, carries the assistant's panel: a
// labelled form that posts the question to the question page, which the
// node serves and answers without JavaScript.
func TestAssistantPanelOnEveryPage(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	panel := []string{`<aside class="assistant-panel" aria-labelledby="assistent-titel">`, `<form method="post" action="/hilfe/assistent">`,
		`<label for="assistent-frage">Ihre Frage</label>`, `<input id="assistent-frage" name="frage" type="text"`,
		`aria-describedby="assistent-hinweis"`, `<button type="submit">Fragen</button>`, "nicht rechtsverbindlich"}
	check := func(name string, a answer) {
		t.Helper()
		for _, want := range panel {
			if !strings.Contains(a.body, want) {
				t.Errorf("%s: the panel lacks %q", name, want)
			}
		}
		if strings.Count(a.body, `id="assistent-frage"`) != 1 {
			t.Errorf("%s: the panel's input is there %d times", name, strings.Count(a.body, `id="assistent-frage"`))
		}
	}
	for _, path := range []string{"/", "/zugang", "/anmelden", "/passwort-vergessen", "/passwort-zuruecksetzen"} {
		check(path, p.get(t, path))
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/gibt-es-nicht", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if a := p.do(t, p.client, req); a.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", a.status)
	} else {
		check("unknown page", a)
	}
	if a := p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {strong}}); a.path != "/konto" {
		t.Fatalf("login ended at %s", a.path)
	}
	for _, path := range []string{"/konto", "/geraete", "/passwort-aendern"} {
		check(path, p.get(t, path))
	}

	// In English the panel speaks English and says that the answers are
	// German.
	req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "en")
	if a := p.do(t, p.client, req); !strings.Contains(a.body, `<h2 id="assistent-titel">Ask the assistant</h2>`) ||
		!strings.Contains(a.body, "answers in German") || !strings.Contains(a.body, `<button type="submit">Ask</button>`) {
		t.Errorf("English panel:\n%s", a.body)
	}

	// What the panel's form sends, the node answers.
	a := p.post(t, "/hilfe/assistent", url.Values{"frage": {"Wie lange dauert der Passwortbrief?"}})
	if a.status != http.StatusOK || !strings.Contains(a.body, "Werktagen") || !strings.Contains(a.body, "nicht rechtsverbindlich") {
		t.Errorf("the panel's question: %d %s", a.status, a.body)
	}
}
