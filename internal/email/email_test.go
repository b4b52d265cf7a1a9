package email_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// TestMessageMail: a message in the Postfach sends a mail through the real
// relay that greets by salutation, links to /postfach, carries
// List-Unsubscribe, and says nothing of the message or the person.
func TestMessageMail(t *testing.T) {
	for name, opts := range map[string]smtptest.Options{
		"loopback":         {},
		"starttls + login": {STARTTLS: true, Username: "pforte", Password: "relay-secret-0815"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, opts, nil)
			f.confirmed(t, "erika.muster@beispiel-mail.de")
			f.send(t, "Ihr Bescheid zur Kur", "Geheimer Inhalt: Diagnose 4711")
			if res := f.drain(t); res.Sent != 1 {
				t.Fatalf("drain = %+v, want one sent", res)
			}
			mails := f.relay.Wait(2, 5*time.Second)
			m := mails[1]
			if diff := cmp.Diff([]string{"erika.muster@beispiel-mail.de"}, m.To); diff != "" {
				t.Errorf("recipients (-want +got):\n%s", diff)
			}
			msg := m.Message(t)
			h := msg.Header
			if got := h.Get("Subject"); got != "Neue Nachricht in Ihrem Postfach" {
				t.Errorf("Subject = %q", got)
			}
			unsub := h.Get("List-Unsubscribe")
			if !strings.HasPrefix(unsub, "<"+portal+"/email/abbestellen?t=") || !strings.HasSuffix(unsub, ">") {
				t.Errorf("List-Unsubscribe = %q", unsub)
			}
			if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe-Post = %q", got)
			}
			b := body(t, m)
			for _, want := range []string{"Guten Tag Frau Dr. Muster,", portal + "/postfach", "Example Kasse"} {
				if !strings.Contains(b, want) {
					t.Errorf("body lacks %q:\n%s", want, b)
				}
			}
			all := string(m.Data) + b
			for _, secret := range []string{"Bescheid", "Kur", "Diagnose", "4711", "Erika", "X110411675", "1980", "Hauptstraße", "10115"} {
				if strings.Contains(all, secret) {
					t.Errorf("the mail shows %q:\n%s", secret, all)
				}
			}
		})
	}
}

// TestRelayDown: with the relay down the message is kept and its mail
// stays queued; it is sent after the backoff once the relay is back.
func TestRelayDown(t *testing.T) {
	f := newFixture(t, smtptest.Options{}, nil)
	f.confirmed(t, "erika@beispiel-mail.de")
	f.relay.Stop()
	f.send(t, "Betreff", "Text")
	if res := f.drain(t); res.Retried != 1 || res.Sent != 0 {
		t.Fatalf("drain with the relay down = %+v, want one retried", res)
	}
	ov, err := f.box.Overview(t.Context(), f.person.ID, session.LevelSubstantial, mailbox.Query{})
	if err != nil || ov.Unread == 0 {
		t.Fatalf("mailbox after a failed mail: %+v, %v; want the message kept", ov, err)
	}
	f.relay.Restart()
	f.clock.add(59 * time.Second)
	if res := f.drain(t); res != (email.Result{}) {
		t.Errorf("drain before the backoff ended = %+v, want nothing", res)
	}
	f.clock.add(2 * time.Minute)
	if res := f.drain(t); res.Sent != 1 {
		t.Fatalf("drain after the relay came back = %+v, want one sent", res)
	}
	if got := f.relay.Wait(2, 5*time.Second); len(got) != 2 {
		t.Errorf("%d mails arrived, want the confirmation and the notice", len(got))
	}
}

// TestRetryLimit: a relay that stays down fails the mail after the last
// attempt, logged and audited; the message stays.
func TestRetryLimit(t *testing.T) {
	f := newFixture(t, smtptest.Options{}, nil)
	f.confirmed(t, "erika@beispiel-mail.de")
	f.relay.Stop()
	f.send(t, "Betreff", "Text")
	var failed int
	for range 12 {
		failed += f.drain(t).Failed
		f.clock.add(3 * time.Hour)
	}
	if failed != 1 || !f.audit.has("email.failed") {
		t.Errorf("after 12 attempts: %d failed, audited %v; want one failed and audited", failed, f.audit.has("email.failed"))
	}
	if res := f.drain(t); res != (email.Result{}) {
		t.Errorf("drain after failing = %+v, want nothing", res)
	}
}

// TestRefusedRecipientLeavesNoAddress: a relay that refuses the
// recipient (its reply repeats the address) keeps the mail queued, and
// neither the log nor the queue's last error holds the address.
func TestRefusedRecipientLeavesNoAddress(t *testing.T) {
	f := newFixture(t, smtptest.Options{}, nil)
	f.confirmed(t, "geheim.adresse@beispiel-mail.de")
	refusing := smtptest.Start(t, smtptest.Options{RejectRecipients: true})
	var logs strings.Builder
	sender, err := email.NewSender(f.st, f.ring, f.audit, email.SenderConfig{Relay: refusing.Addr, From: "a@example-kasse.de",
		PortalURL: portal, Timeout: 5 * time.Second}, f.clock.now, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.send(t, "Betreff", "Text")
	res, err := sender.Drain(t.Context())
	if err != nil || res.Retried != 1 {
		t.Fatalf("drain against a refusing relay = %+v, %v; want one retried", res, err)
	}
	claimed, err := f.st.ClaimMails(t.Context(), f.clock.now().Add(24*time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("queued mails: %+v, %v", claimed, err)
	}
	if !strings.Contains(claimed[0].LastError, "550") || !strings.Contains(logs.String(), "550") {
		t.Errorf("the refusal is not recorded: %q\n%s", claimed[0].LastError, logs.String())
	}
	if strings.Contains(claimed[0].LastError+logs.String(), "geheim") {
		t.Errorf("the address is kept: %q\n%s", claimed[0].LastError, logs.String())
	}
}

// TestSTARTTLSRequired: a sender that requires STARTTLS sends nothing to a
// relay that does not offer it, and a relay that is not loopback cannot go
// without.
func TestSTARTTLSRequired(t *testing.T) {
	f := newFixture(t, smtptest.Options{}, nil)
	strict, err := email.NewSender(f.st, f.ring, f.audit, email.SenderConfig{Relay: f.relay.Addr, From: "a@example-kasse.de",
		RequireSTARTTLS: true, PortalURL: portal, Timeout: 5 * time.Second}, f.clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Add(t.Context(), f.person.ID, "erika@beispiel-mail.de", session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	res, err := strict.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || res.Retried != 1 || len(f.relay.Mails()) != 0 {
		t.Errorf("drain without STARTTLS = %+v, %d mails; want none sent, one retried", res, len(f.relay.Mails()))
	}
	for _, relay := range []string{"mail.example-kasse.de:25", "10.0.0.1:587"} {
		if _, err := email.NewSender(f.st, f.ring, f.audit, email.SenderConfig{Relay: relay, From: "a@example-kasse.de",
			PortalURL: portal}, f.clock.now, nil); err == nil {
			t.Errorf("NewSender(%s without STARTTLS) succeeded", relay)
		}
	}
}

// TestConfirmLink: an unconfirmed address gets no notices; its link
// works once and within 24 hours; used twice, late or replaced it changes
// nothing.
func TestConfirmLink(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, smtptest.Options{}, nil)
	if err := f.svc.Add(ctx, f.person.ID, "erika@beispiel-mail.de", session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	confirmMail := f.relay.Wait(1, 5*time.Second)[0]
	b := body(t, confirmMail)
	if !strings.HasPrefix(b, "Guten Tag,\n") || strings.Contains(b, "Muster") {
		t.Errorf("confirmation mail does not greet neutrally:\n%s", b)
	}
	if got := confirmMail.Message(t).Header.Get("List-Unsubscribe"); got != "" {
		t.Errorf("confirmation mail has List-Unsubscribe %q", got)
	}
	tok := token(t, b, "bestaetigen")

	// Not confirmed: a message sends no mail.
	f.send(t, "Betreff", "Text")
	if res := f.drain(t); res != (email.Result{}) {
		t.Errorf("drain for an unconfirmed address = %+v, want nothing", res)
	}
	if v, err := f.svc.View(ctx, f.person.ID); err != nil || v.Address != "" || v.Pending != "e***@b***.de" {
		t.Errorf("View before confirming = %+v, %v", v, err)
	}
	if masked, err := f.svc.LinkState(ctx, tok); err != nil || masked != "e***@b***.de" {
		t.Errorf("LinkState = %q, %v", masked, err)
	}
	if masked, err := f.svc.Confirm(ctx, tok); err != nil || masked != "e***@b***.de" {
		t.Fatalf("Confirm = %q, %v", masked, err)
	}
	if _, err := f.svc.Confirm(ctx, tok); !errors.Is(err, email.ErrLinkInvalid) {
		t.Errorf("Confirm twice = %v, want ErrLinkInvalid", err)
	}
	if v, err := f.svc.View(ctx, f.person.ID); err != nil || v.Address != "e***@b***.de" || v.Pending != "" || !v.Notify {
		t.Errorf("View after confirming = %+v, %v", v, err)
	}

	// A late link changes nothing.
	g := newFixture(t, smtptest.Options{}, nil)
	if err := g.svc.Add(ctx, g.person.ID, "late@beispiel-mail.de", session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	g.drain(t)
	late := token(t, body(t, g.relay.Wait(1, 5*time.Second)[0]), "bestaetigen")
	g.clock.add(24 * time.Hour)
	for name, err := range map[string]error{
		"LinkState": func() error { _, err := g.svc.LinkState(ctx, late); return err }(),
		"Confirm":   func() error { _, err := g.svc.Confirm(ctx, late); return err }(),
	} {
		if !errors.Is(err, email.ErrLinkExpired) {
			t.Errorf("%s late = %v, want ErrLinkExpired", name, err)
		}
	}
	if v, err := g.svc.View(ctx, g.person.ID); err != nil || v.Address != "" || v.Pending == "" {
		t.Errorf("View after a late link = %+v, %v; want it still pending", v, err)
	}

	// A replaced link is invalid; its queued mail is dropped.
	if err := g.svc.Add(ctx, g.person.ID, "neu@beispiel-mail.de", session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	if _, err := g.svc.Confirm(ctx, late); !errors.Is(err, email.ErrLinkInvalid) {
		t.Errorf("Confirm(replaced link) = %v, want ErrLinkInvalid", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 65)} {
		if _, err := g.svc.Confirm(ctx, bad); !errors.Is(err, email.ErrLinkInvalid) {
			t.Errorf("Confirm(%q) = %v, want ErrLinkInvalid", bad, err)
		}
	}
}

// TestUnsubscribe: the List-Unsubscribe link switches notices off (again
// and again); then messages send no mail.
func TestUnsubscribe(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, smtptest.Options{}, nil)
	f.confirmed(t, "erika@beispiel-mail.de")
	f.send(t, "Eins", "Text")
	f.drain(t)
	m := f.relay.Wait(2, 5*time.Second)[1]
	tok := token(t, body(t, m), "abbestellen")
	f.send(t, "Zwei", "Text") // its mail is queued before the unsubscribe
	for range 2 {
		if err := f.svc.Unsubscribe(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := f.svc.View(ctx, f.person.ID); err != nil || v.Notify {
		t.Errorf("View after unsubscribing = %+v, %v", v, err)
	}
	if res := f.drain(t); res != (email.Result{Dropped: 1}) {
		t.Errorf("drain of a mail queued before unsubscribing = %+v, want it dropped", res)
	}
	f.send(t, "Drei", "Text")
	if res := f.drain(t); res != (email.Result{}) {
		t.Errorf("drain after unsubscribing = %+v, want nothing", res)
	}
	if err := f.svc.Unsubscribe(ctx, "unknown-token"); !errors.Is(err, email.ErrLinkInvalid) {
		t.Errorf("Unsubscribe(unknown) = %v, want ErrLinkInvalid", err)
	}
	if err := f.svc.SetNotify(ctx, f.person.ID, true, session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	f.send(t, "Vier", "Text")
	if res := f.drain(t); res.Sent != 1 {
		t.Errorf("drain after switching notices on = %+v, want one sent", res)
	}
}

// TestRules: a confirmed address changes only through an approval; the
// level and the address's shape are checked.
func TestRules(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, smtptest.Options{}, nil)
	if err := f.svc.Add(ctx, f.person.ID, "erika@beispiel-mail.de", session.LevelLow); !errors.Is(err, email.ErrLevel) {
		t.Errorf("Add at level low = %v, want ErrLevel", err)
	}
	if _, err := f.svc.RequestChange(ctx, f.person.ID, "neu@beispiel-mail.de", "", session.LevelSubstantial); !errors.Is(err, email.ErrNothing) {
		t.Errorf("RequestChange without an address = %v, want ErrNothing", err)
	}
	f.confirmed(t, "erika@beispiel-mail.de")
	if err := f.svc.Add(ctx, f.person.ID, "other@beispiel-mail.de", session.LevelHigh); !errors.Is(err, email.ErrNeedsApproval) {
		t.Errorf("Add over a confirmed address = %v, want ErrNeedsApproval", err)
	}
	if err := f.svc.Withdraw(ctx, f.person.ID, session.LevelSubstantial); !errors.Is(err, email.ErrNothing) {
		t.Errorf("Withdraw without a pending address = %v, want ErrNothing", err)
	}
	var fe *field.Error
	if err := f.svc.Add(ctx, f.person.ID, "kein-at-zeichen", session.LevelSubstantial); !errors.As(err, &fe) {
		t.Errorf("Add(bad address) = %v, want a field error", err)
	}
	e, err := f.st.EmailByPerson(ctx, f.person.ID)
	if err != nil || e.Address.IsZero() || !e.Pending.IsZero() {
		t.Errorf("record after refused changes = %+v, %v; want the confirmed address alone", e, err)
	}
}

// TestLinksPerDay: at most MaxLinksPerDay confirmation links a day, so
// nobody sends a stranger's address a stream of mails; the next day one
// may ask again.
func TestLinksPerDay(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, smtptest.Options{}, nil)
	for i := range email.MaxLinksPerDay {
		if err := f.svc.Add(ctx, f.person.ID, fmt.Sprintf("a%d@beispiel-mail.de", i), session.LevelSubstantial); err != nil {
			t.Fatal(err)
		}
	}
	before, err := f.svc.View(ctx, f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Add(ctx, f.person.ID, "zuviel@beispiel-mail.de", session.LevelSubstantial); !errors.Is(err, email.ErrTooManyLinks) {
		t.Errorf("Add over the daily cap = %v, want ErrTooManyLinks", err)
	}
	if after, err := f.svc.View(ctx, f.person.ID); err != nil || after != before || !f.audit.has("email.refused") {
		t.Errorf("after a refused Add: %+v, %v; want %+v and the refusal audited", after, err, before)
	}
	f.clock.add(24 * time.Hour)
	if err := f.svc.Add(ctx, f.person.ID, "morgen@beispiel-mail.de", session.LevelSubstantial); err != nil {
		t.Errorf("Add the next day = %v", err)
	}
}

func TestClean(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"erika@Beispiel-Mail.DE", "erika@beispiel-mail.de", true},
		{"  e.m+post@x.de ", "e.m+post@x.de", true},
		{"", "", false},
		{"erika", "", false},
		{"erika@localhost", "", false},
		{"Erika <erika@x.de>", "", false},
		{"erika@x.de\r\nBcc: a@b.de", "", false},
		{"er ika@x.de", "", false},
		{"erikä@x.de", "", false},
		{"erika@x.de.", "", false},
		{"\"a b\"@x.de", "", false},
		{strings.Repeat("a", 65) + "@x.de", "", false},
		{"a@" + strings.Repeat("b", 250) + ".de", "", false},
	} {
		got, err := email.Clean(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Clean(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestMaskAndSalutation(t *testing.T) {
	for in, want := range map[string]string{"erika@beispiel.de": "e***@b***.de", "a@b.co.uk": "a***@b***.uk", "x": "***"} {
		if got := email.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tt := range []struct {
		p    store.Person
		want string
	}{
		{store.Person{Salutation: "Herr", FamilyName: "Beispiel"}, "Guten Tag Herr Beispiel"},
		{store.Person{Salutation: "Frau", Title: "Prof. Dr.", FamilyName: "Muster"}, "Guten Tag Frau Prof. Dr. Muster"},
		{store.Person{FamilyName: "Muster"}, "Guten Tag"},
		{store.Person{Salutation: "Divers", FamilyName: "Muster"}, "Guten Tag"},
	} {
		if got := email.Salutation(tt.p); got != tt.want {
			t.Errorf("Salutation(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestSendsOnlyWhileTheLeaseHolds: a send is begun only when it can end
// (within the relay timeout) before the claim's lease runs out. With a relay
// so slow that each mail takes 25 s of the 2-minute lease, four mails go
// out and the other two stay queued for a later pass, so a node that
// claims them after the lease never sends a mail this node still sends.
func TestSendsOnlyWhileTheLeaseHolds(t *testing.T) {
	f := newFixture(t, smtptest.Options{}, nil)
	f.confirmed(t, "erika.muster@beispiel-mail.de")
	for i := range 6 {
		f.send(t, fmt.Sprintf("Nachricht %d", i), "Text")
	}
	var mu sync.Mutex
	clock := f.clock.t
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	slow := smtptest.Start(t, smtptest.Options{OnMail: func() { mu.Lock(); clock = clock.Add(25 * time.Second); mu.Unlock() }})
	sender, err := email.NewSender(f.st, f.ring, f.audit, email.SenderConfig{Relay: slow.Addr, From: "postfach@example-kasse.de",
		PortalURL: portal, Lease: 2 * time.Minute, Timeout: 30 * time.Second}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sender.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 4 || res.Postponed != 2 || res.Retried != 0 || res.Failed != 0 {
		t.Errorf("drain on a slow relay = %+v, want 4 sent and 2 postponed", res)
	}
	if got := len(slow.Mails()); got != 4 {
		t.Errorf("the relay got %d mails, want 4", got)
	}
	// After the lease the others are sent, once each.
	mu.Lock()
	clock = clock.Add(10 * time.Minute)
	mu.Unlock()
	if res, err := sender.Drain(t.Context()); err != nil || res.Sent != 2 {
		t.Errorf("the next pass = %+v, %v; want the 2 postponed sent", res, err)
	}
	if got := len(slow.Wait(6, 5*time.Second)); got != 6 {
		t.Errorf("the relay got %d mails in all, want 6", got)
	}
}

// TestChangesCountLinks: an approved change sends the new address a link,
// so asking for changes counts against the day's links like adding; a
// refused Add (a confirmed address exists) sends nothing and counts
// nothing.
func TestChangesCountLinks(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, smtptest.Options{}, approvals{})
	f.confirmed(t, "erika@beispiel-mail.de")
	for range email.MaxLinksPerDay + 2 {
		if err := f.svc.Add(ctx, f.person.ID, "other@beispiel-mail.de", session.LevelSubstantial); !errors.Is(err, email.ErrNeedsApproval) {
			t.Fatalf("Add over a confirmed address = %v, want ErrNeedsApproval (and no link counted)", err)
		}
	}
	// The confirmation of the first address used one link today.
	for i := range email.MaxLinksPerDay - 1 {
		if _, err := f.svc.RequestChange(ctx, f.person.ID, fmt.Sprintf("neu%d@beispiel-mail.de", i), "", session.LevelSubstantial); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	if _, err := f.svc.RequestChange(ctx, f.person.ID, "opfer@beispiel-mail.de", "", session.LevelSubstantial); !errors.Is(err, email.ErrTooManyLinks) {
		t.Errorf("a change over the day's links = %v, want ErrTooManyLinks", err)
	}
	if _, err := f.svc.RequestChange(ctx, f.person.ID, "", "", session.LevelSubstantial); err != nil {
		t.Errorf("a removal (no link) over the day's links = %v, want it asked for", err)
	}
}

// approvals takes every request (the phone's side is another package's).
type approvals struct{}

func (approvals) Create(_ context.Context, person store.PersonID, action, text string, data []byte, level, client string,
	_ session.Level) (store.Approval, error) {
	return store.Approval{ID: "apr-" + text, PersonID: person, Action: action, Text: text, Data: data, Level: level}, nil
}
