package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/session"
)

// appEID starts an identification as the service app does (through the
// API's StartEID, then /eid/start/{flow}?weiter=app) and follows the
// browser's way to the partner and back.
func appEID(t *testing.T, p *portal, choice sim.Choice) answer {
	t.Helper()
	started, err := p.access.StartEID(t.Context(), access.Request{KVNR: kvnr, PostalCode: postalCode, BirthDate: "1970-03-14"},
		access.PurposeAccess)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+"/eid/start/"+started.Flow+"?weiter=app", nil)
	a := p.do(t, p.noFollow(), req)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != started.RedirectURL {
		t.Fatalf("eid start: %d, Location %q", a.status, a.header.Get("Location"))
	}
	return partner(t, p, started.RedirectURL, choice)
}

// appSession posts to the hand-over as the app's page does.
func appSession(t *testing.T, p *portal, body string, header http.Header) answer {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}, "Origin": {p.url}}
	for k, v := range header {
		h[k] = v
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/eid/app-sitzung", strings.NewReader(body))
	req.Header = h
	return p.do(t, p.client, req)
}

func TestEIDHandOverToTheApp(t *testing.T) {
	p := newPortal(t, options{tls: true})
	back := appEID(t, p, sim.Choice{Identity: identityMatch})
	if back.path != "/app/eid" || back.query != "" {
		t.Fatalf("back from the partner at %s?%s, want the app", back.path, back.query)
	}
	pw := `{"new_password":"` + strong + `"}`
	// Only the page of the same origin may ask, and only with JSON.
	if a := appSession(t, p, pw, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}); a.status != http.StatusForbidden {
		t.Errorf("cross-site hand-over: %d %s", a.status, a.body)
	}
	if a := appSession(t, p, "new_password=x", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}); a.status != http.StatusUnsupportedMediaType {
		t.Errorf("form hand-over: %d %s", a.status, a.body)
	}
	if a := appSession(t, p, `{"new_password":"Müller1970!"}`, nil); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, `"password_refused"`) || !strings.Contains(a.body, `"reasons"`) {
		t.Errorf("refused password: %d %s", a.status, a.body)
	}
	a := appSession(t, p, pw, nil)
	if a.status != http.StatusCreated || !strings.Contains(a.body, `"level":"high"`) || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("hand-over: %d %s", a.status, a.body)
	}
	tok := between(a.body, `"session_token":"`, `"`)
	s, err := session.NewManager(p.st, session.Config{}, time.Now).Authenticate(t.Context(), session.Token(tok))
	if err != nil || s.Kind != session.KindApp || s.Origin != string(session.OriginEID) || !session.FreshEID(s, time.Now()) {
		t.Errorf("the app's session %+v (%v): want kind app, origin eid, fresh", s, err)
	}
	// Single use: the ticket is gone.
	if a := appSession(t, p, pw, nil); a.status != http.StatusUnauthorized || !strings.Contains(a.body, `"ticket_invalid"`) {
		t.Errorf("second hand-over: %d %s", a.status, a.body)
	}
	// A browser without the ticket gets nothing.
	other := *p
	c := *p.client
	c.Jar = nil
	other.client = &c
	if a := appSession(t, &other, pw, nil); a.status != http.StatusUnauthorized {
		t.Errorf("hand-over without the ticket: %d %s", a.status, a.body)
	}

	// With a password already set, the app is told it replaces it.
	if a := appEID(t, p, sim.Choice{Identity: identityMatch}); a.path != "/app/eid" || a.query != "ersetzen=1" {
		t.Errorf("second identification back at %s?%s", a.path, a.query)
	}
	// Failures come back to the app, named.
	for _, tt := range []struct {
		choice sim.Choice
		want   string
	}{
		{sim.Choice{Identity: identityOtherDay}, "fehler=keine-uebereinstimmung"},
		{sim.Choice{Cancel: true}, "fehler=abgebrochen"},
	} {
		if a := appEID(t, p, tt.choice); a.path != "/app/eid" || a.query != tt.want {
			t.Errorf("failure back at %s?%s, want %s", a.path, a.query, tt.want)
		}
	}
	// The portal's own eID flow still ends on the portal's page.
	if a := partner(t, p, startEID(t, p, "/zugang"), sim.Choice{Identity: identityMatch}); a.path != "/passwort-festlegen" {
		t.Errorf("portal eID back at %s", a.path)
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
