package email_test

import (
	"context"
	"io"
	"mime/quotedprintable"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// recorder keeps the audit events.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Event == event {
			return true
		}
	}
	return false
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is the e-mail service, its sender against a real SMTP server on
// loopback, and a mailbox on a fresh store with one person.
type fixture struct {
	st     store.Store
	ring   *seal.Keyring
	clock  *clock
	audit  *recorder
	svc    *email.Service
	sender *email.Sender
	relay  *smtptest.Server
	box    *mailbox.Service
	person store.Person
}

const portal = "https://meine.example-kasse.de"

func newFixture(t testing.TB, opts smtptest.Options, approvals email.Approvals) *fixture {
	t.Helper()
	st := testdb.Open(t)
	key, err := seal.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, ring: ring, clock: &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, audit: &recorder{}}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{{KVNR: "X110411675", FamilyName: "Muster", GivenNames: "Erika",
		Title: "Dr.", Salutation: "Frau", BirthDate: "1980-01-02", PostalCode: "10115", Street: "Hauptstraße", City: "Berlin",
		Relation: store.RelationMember}}); err != nil {
		t.Fatal(err)
	}
	if f.person, err = st.PersonByKVNR(t.Context(), "X110411675"); err != nil {
		t.Fatal(err)
	}
	f.relay = smtptest.Start(t, opts)
	cfg := email.SenderConfig{Relay: f.relay.Addr, From: "postfach@example-kasse.de", FromName: "Example Kasse",
		RequireSTARTTLS: opts.STARTTLS, RootCAs: f.relay.RootCAs, Username: opts.Username, Password: opts.Password,
		PortalURL: portal, InsurerName: "Example Kasse", Phone: "0800 123456", Timeout: 5 * time.Second}
	f.sender, err = email.NewSender(st, ring, f.audit, cfg, f.clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = email.New(st, ring, approvals, f.audit, f.clock.now, nil)
	f.box = mailbox.New(st, ring, mailbox.NewNoticeTexts(ring, "0800 123456"), f.audit, f.clock.now, mailbox.Config{}, nil)
	return f
}

// drain sends what is due and returns what the pass did.
func (f *fixture) drain(t testing.TB) email.Result {
	t.Helper()
	res, err := f.sender.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var linkRE = regexp.MustCompile(`https://meine\.example-kasse\.de/email/(bestaetigen|abbestellen)\?t=([A-Za-z0-9_-]+)`)

// token finds the token of the link to path in a mail body.
func token(t testing.TB, body, path string) string {
	t.Helper()
	for _, m := range linkRE.FindAllStringSubmatch(body, -1) {
		if m[1] == path {
			return m[2]
		}
	}
	t.Fatalf("no %s link in:\n%s", path, body)
	return ""
}

// confirmed adds addr and follows the link of its confirmation mail.
func (f *fixture) confirmed(t testing.TB, addr string) {
	t.Helper()
	n := len(f.relay.Mails())
	if err := f.svc.Add(t.Context(), f.person.ID, addr, session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	mails := f.relay.Wait(n+1, 5*time.Second)
	if _, err := f.svc.Confirm(t.Context(), token(t, body(t, mails[n]), "bestaetigen")); err != nil {
		t.Fatal(err)
	}
}

// body returns a mail's decoded plain-text body.
func body(t testing.TB, m smtptest.Mail) string {
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
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// send writes a staff message to the person through the mailbox.
func (f *fixture) send(t testing.TB, subject, text string) {
	t.Helper()
	if _, err := f.box.Send(t.Context(), mailbox.Outgoing{KVNR: f.person.KVNR, Author: "staff:1", Subject: subject, Text: text}); err != nil {
		t.Fatal(err)
	}
}
