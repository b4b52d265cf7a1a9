package web_test

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/mailbox"
)

var mailLink = regexp.MustCompile(`https?://[^\s]+/email/(bestaetigen|abbestellen)\?t=([A-Za-z0-9_-]+)`)

// mailText is a received mail's header and decoded body.
func mailText(t *testing.T, m smtptest.Mail) (string, string) {
	t.Helper()
	msg := m.Message(t)
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
	return string(head), strings.ReplaceAll(string(b), "\r\n", "\n")
}

// linkIn returns the path and query of the link of kind in a mail body.
func linkIn(t *testing.T, body, kind string) string {
	t.Helper()
	for _, m := range mailLink.FindAllStringSubmatch(body, -1) {
		if m[1] == kind {
			u, err := url.Parse(m[0])
			if err != nil {
				t.Fatal(err)
			}
			return u.RequestURI()
		}
	}
	t.Fatalf("no %s link in:\n%s", kind, body)
	return ""
}

// TestEmailAddress walks the e-mail address through a whole node with the
// reference phone and a real SMTP server on loopback: add, confirm once
// (twice and late are clear 4xx pages that change nothing), a message's
// notice by mail, a change approved on the phone and confirmed again, the
// one-click unsubscribe, and the removal.
func TestEmailAddress(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{})
	clk := &testClock{t: time.Now()}
	p := newPortal(t, options{tls: true, now: clk.now,
		mail: &email.SenderConfig{Relay: relay.Addr, From: "postfach@example-kasse.de", InsurerName: "Example Kasse", Timeout: 5 * time.Second}})
	p.withPassword(t)
	phone := p.bindPhone(t)
	p.stepUp(t, phone)

	if a := p.get(t, "/daten"); !has(a.body, "Es ist keine E-Mail-Adresse hinterlegt.", `href="/daten/email"`) {
		t.Fatalf("/daten without an address:\n%s", a.body)
	}
	if bad := p.post(t, "/daten/email", url.Values{"email": {"juergen at beispiel"}}); bad.status != http.StatusUnprocessableEntity ||
		!strings.Contains(summary(bad.body), `href="#email"`) || !strings.Contains(bad.body, `value="juergen at beispiel"`) {
		t.Errorf("bad address: %d\n%s", bad.status, bad.body)
	}
	sent := p.post(t, "/daten/email", url.Values{"email": {"juergen.mueller@beispiel-mail.de"}})
	if sent.path != "/daten/email" || !has(sent.body, "Bestätigungslink geschickt", "j***@b***.de", "Wartet auf Bestätigung") ||
		strings.Contains(sent.body, "juergen.mueller") {
		t.Fatalf("after adding: %s\n%s", sent.path, sent.body)
	}
	mails := relay.Wait(1, 10*time.Second)
	_, body := mailText(t, mails[0])
	confirm := linkIn(t, body, "bestaetigen")

	// The link opens a page whose button confirms: a GET changes nothing.
	page := p.get(t, confirm)
	if page.status != http.StatusOK || !has(page.body, "j***@b***.de", `action="/email/bestaetigen"`) {
		t.Fatalf("confirmation page: %d\n%s", page.status, page.body)
	}
	if a := p.get(t, "/daten/email"); !strings.Contains(a.body, "Wartet auf Bestätigung") {
		t.Errorf("a GET of the link confirmed:\n%s", a.body)
	}
	tok := strings.TrimPrefix(confirm, email.ConfirmPath+"?t=")
	if ok := p.post(t, email.ConfirmPath, url.Values{"t": {tok}}); ok.status != http.StatusOK || !strings.Contains(ok.body, "Ihre E-Mail-Adresse ist bestätigt") {
		t.Fatalf("confirming: %d\n%s", ok.status, ok.body)
	}
	for _, again := range []answer{p.post(t, email.ConfirmPath, url.Values{"t": {tok}}), p.get(t, confirm)} {
		if again.status != http.StatusNotFound || !has(again.body, "Der Link gilt nicht mehr", `href="/daten/email"`) {
			t.Errorf("link used twice: %d\n%s", again.status, again.body)
		}
	}
	if a := p.get(t, "/daten"); !has(a.body, "j***@b***.de") || strings.Contains(a.body, "juergen.mueller") {
		t.Errorf("/daten after confirming:\n%s", a.body)
	}

	// A message in the Postfach: a mail with the salutation only.
	if _, err := p.node.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: kvnr, Author: "operator", Subject: "Ihr Kurantrag",
		Text: "Vertraulicher Inhalt"}); err != nil {
		t.Fatal(err)
	}
	mails = relay.Wait(2, 10*time.Second)
	head, body := mailText(t, mails[1])
	h := mails[1].Message(t).Header
	if !strings.HasPrefix(h.Get("List-Unsubscribe"), "<"+p.url+"/email/abbestellen?t=") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
		!strings.Contains(body, p.url+"/postfach") ||
		strings.Contains(head+body, "Kurantrag") || strings.Contains(head+body, "Vertraulich") || strings.Contains(head+body, kvnr) {
		t.Errorf("notice mail:\n%s\n\n%s", head, body)
	}
	unsubscribe := linkIn(t, body, "abbestellen")

	// Change: approved on the phone, then confirmed again; the old address
	// stays until then.
	wait := p.post(t, "/daten/email/aendern", url.Values{"email": {"j.mueller@neu-mail.de"}})
	if !strings.HasPrefix(wait.path, "/freigabe/apr_") || !strings.Contains(wait.body, "Neue E-Mail-Adresse für Benachrichtigungen: j.mueller@neu-mail.de") {
		t.Fatalf("change waiting page: %s\n%s", wait.path, wait.body)
	}
	if err := p.approve(t, phone, p.pending(t, approval.ActionEmailChange), 0); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, wait.path); !has(a.body, "Ihre Änderung ist freigegeben", `href="/daten/email"`) {
		t.Errorf("after approving:\n%s", a.body)
	}
	mails = relay.Wait(3, 10*time.Second)
	if mails[2].To[0] != "j.mueller@neu-mail.de" {
		t.Fatalf("confirmation of the new address went to %v", mails[2].To)
	}
	if a := p.get(t, "/daten/email"); !has(a.body, "j***@b***.de", "j***@n***.de", "Wartet auf Bestätigung") {
		t.Errorf("/daten/email while the new address waits:\n%s", a.body)
	}
	_, body = mailText(t, mails[2])
	newLink := linkIn(t, body, "bestaetigen")

	// Late: a clear 410 page; nothing changes.
	clk.advance(24*time.Hour + time.Minute)
	if late := p.get(t, newLink); late.status != http.StatusGone || !has(late.body, "Der Link ist abgelaufen", `href="/daten/email"`) {
		t.Errorf("late link: %d\n%s", late.status, late.body)
	}
	clk.advance(-24 * time.Hour)
	p.stepUp(t, phone)
	if ok := p.post(t, email.ConfirmPath, url.Values{"t": {strings.TrimPrefix(newLink, email.ConfirmPath+"?t=")}}); ok.status != http.StatusOK {
		t.Fatalf("confirming the new address: %d\n%s", ok.status, ok.body)
	}
	if a := p.get(t, "/daten/email"); !strings.Contains(a.body, "j***@n***.de") || strings.Contains(a.body, "j***@b***.de") {
		t.Errorf("/daten/email after confirming the new address:\n%s", a.body)
	}

	// The old address's unsubscribe link no longer works; a mail
	// program's one-click POST of the new one switches notices off.
	oneClick := func(uri string) answer {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+uri, strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return p.do(t, p.noFollow(), req)
	}
	if a := oneClick(unsubscribe); a.status != http.StatusNotFound {
		t.Errorf("old unsubscribe link: %d", a.status)
	}
	if _, err := p.node.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: kvnr, Author: "operator", Subject: "Zwei", Text: "Text"}); err != nil {
		t.Fatal(err)
	}
	mails = relay.Wait(4, 10*time.Second)
	_, body = mailText(t, mails[3])
	if a := oneClick(linkIn(t, body, "abbestellen")); a.status != http.StatusOK || !strings.Contains(a.body, "Benachrichtigungen abbestellt") {
		t.Errorf("one-click unsubscribe: %d\n%s", a.status, a.body)
	}
	if a := p.get(t, "/daten/email"); !strings.Contains(a.body, "Benachrichtigungen per E-Mail sind ausgeschaltet.") {
		t.Errorf("/daten/email after unsubscribing:\n%s", a.body)
	}

	// Removal: approved on the phone.
	wait = p.post(t, "/daten/email/entfernen", nil)
	if !strings.Contains(wait.body, "E-Mail-Adresse entfernen") {
		t.Fatalf("removal waiting page:\n%s", wait.body)
	}
	if err := p.approve(t, phone, p.pending(t, approval.ActionEmailChange), 0); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, "/daten"); !strings.Contains(a.body, "Es ist keine E-Mail-Adresse hinterlegt.") {
		t.Errorf("/daten after the removal:\n%s", a.body)
	}
	for _, bad := range []string{email.ConfirmPath + "?t=", email.ConfirmPath + "?t=" + strings.Repeat("x", 100), email.UnsubscribePath} {
		if a := p.get(t, bad); a.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", bad, a.status)
		}
	}
}
