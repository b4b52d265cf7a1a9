package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/approval"
)

// wrongLogin posts a wrong password; the answer's body and status.
func (p *portal) wrongLogin(t *testing.T) answer {
	t.Helper()
	return p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {"Falsch-Falsch-1"}})
}

// TestPhoneConfirmedLoginPassesTheLock: during a temporary lock the right
// password does not log in by itself; it says the account is locked, until
// when, and asks the phone, whose confirmation logs the person in. A wrong
// password during the lock answers exactly as outside it.
func TestPhoneConfirmedLoginPassesTheLock(t *testing.T) {
	p := newPortal(t, options{tls: true, cfg: webConfig(1000, 1000)})
	p.withPassword(t)
	phone := p.bindPhone(t)

	outside := p.wrongLogin(t)
	if outside.status != http.StatusUnprocessableEntity || !strings.Contains(outside.body, "Die Anmeldung ist fehlgeschlagen") {
		t.Fatalf("wrong password: %d\n%s", outside.status, outside.body)
	}
	for range 4 {
		p.wrongLogin(t)
	}
	// Locked now. A wrong password: byte for byte the answer from before.
	if during := p.wrongLogin(t); during.status != outside.status || during.body != outside.body {
		t.Errorf("wrong password during the lock differs: %d\n%s\n---\n%s", during.status, during.body, outside.body)
	}
	// The right password: the lock, until when, the way back, and the phone.
	a := p.login(t)
	if a.path != "/anmelden/gesperrt" || !has(a.body, "vorübergehend gesperrt, bis ", "Ihr Passwort ist richtig", ` Uhr.`,
		`href="/passwort-vergessen"`) || !oneH1(a.body) {
		t.Fatalf("right password during the lock at %s (%d):\n%s", a.path, a.status, a.body)
	}
	if got := p.cookie(t, "__Host-pforte_session"); got != "" {
		t.Fatalf("the right password during the lock started a session")
	}
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, a.body)); err != nil {
		t.Fatal(err)
	}
	done := p.get(t, "/anmelden/gesperrt")
	if done.path != "/konto" || !has(done.body, "<strong>substantiell</strong>", "<td>Smartphone (Service-App)</td>") {
		t.Fatalf("after the phone's confirmation at %s:\n%s", done.path, done.body)
	}
	if s := p.currentSession(t); s.Origin != "device" || s.Level != "substantial" {
		t.Errorf("session origin %q level %q, want device substantial", s.Origin, s.Level)
	}
	// The ticket is used: the waiting page leads back to the login.
	if a := p.get(t, "/anmelden/gesperrt"); a.path != "/anmelden" {
		t.Errorf("waiting page after the login at %s", a.path)
	}

	// Once the lock's own checks are spent, a wrong password still answers
	// the same.
	for range 2 {
		p.wrongLogin(t)
	}
	if spent := p.wrongLogin(t); spent.status != outside.status || spent.body != outside.body {
		t.Errorf("wrong password after the lock's checks differs: %d\n%s", spent.status, spent.body)
	}
}

// TestLockedWithoutPhone: the right password during the lock without a bound
// phone says the account is locked and offers the reset; it logs nobody in.
func TestLockedWithoutPhone(t *testing.T) {
	p := newPortal(t, options{tls: true, cfg: webConfig(1000, 1000)})
	p.withPassword(t)
	for range 5 {
		p.wrongLogin(t)
	}
	a := p.login(t)
	if a.status != http.StatusForbidden || !has(a.body, "vorübergehend gesperrt, bis ", `href="/passwort-vergessen"`) ||
		strings.Contains(a.body, "Tippen Sie") {
		t.Fatalf("right password during the lock without a phone: %d\n%s", a.status, a.body)
	}
	if got := p.cookie(t, "__Host-pforte_session"); got != "" {
		t.Errorf("the right password during the lock started a session")
	}
	if a := p.get(t, "/konto"); a.path == "/konto" && a.status == http.StatusOK {
		t.Errorf("the account page is open")
	}
}
