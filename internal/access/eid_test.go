package access_test

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/session"
)

const redirectURL = "https://portal.example/eid/rueckkehr"

// withEID starts the eID simulator with a matching identity (0), one with
// another birth date (1) and one with another name (2), and returns the flows
// with it as the identification partner.
func withEID(t *testing.T, f *fixture) (*access.Service, *pdfSink, *sim.Browser) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	addr := sim.Address{Street: "Hauptstraße 1", PostalCode: "10115", City: "Berlin", Country: "DE"}
	s, err := sim.New(sim.Config{Insecure: true, Issuer: issuer,
		Clients: []sim.Client{{ID: "pforte", Secret: "secret", RedirectURIs: []string{redirectURL}}},
		Identities: []sim.Identity{
			{Label: "passt", FamilyName: "MUELLER", GivenNames: "Jürgen Karl", BirthDate: "1970-03-14", Address: addr, UseVerifiedClaims: true},
			{Label: "anderes Geburtsdatum", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1971-03-14", Address: addr},
			{Label: "anderer Name", FamilyName: "Schmidt", GivenNames: "Jürgen", BirthDate: "1970-03-14", Address: addr},
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	client, err := eid.New(t.Context(), eid.Config{Issuer: issuer, ClientID: "pforte", ClientSecret: eid.NewSecret("secret"),
		RedirectURL: redirectURL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	a, sink := newAccessWith(t, f, flowOptions{eid: client, partner: issuer})
	return a, sink, &sim.Browser{Client: srv.Client()}
}

func identify(t *testing.T, f *fixture, a *access.Service, b *sim.Browser, in access.Request, choice sim.Choice) (access.Proven, error) {
	t.Helper()
	start, err := a.StartEID(t.Context(), in, access.PurposeAccess)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := b.Authorize(t.Context(), start.RedirectURL, choice)
	if err != nil {
		t.Fatal(err)
	}
	return a.FinishEID(t.Context(), start.Flow, loc.Query(), "192.0.2.1")
}

var me = access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}

func TestEIDMatchChoosesPasswordAtLevelHigh(t *testing.T) {
	f := newFixture(t)
	a, _, b := withEID(t, f)
	proven, err := identify(t, f, a, b, me, sim.Choice{Identity: 0})
	if err != nil {
		t.Fatal(err)
	}
	if proven.HasPassword || proven.Ticket == "" {
		t.Errorf("proven = %+v", proven)
	}
	ids, _ := f.st.PersonIdentifications(t.Context(), f.person.ID)
	if len(ids) != 1 || ids[0].Method != "eid" || ids[0].Level != "high" || ids[0].SubjectLink == "" || len(ids[0].MatchedHash) != 32 {
		t.Errorf("identification records: %+v", ids)
	}
	if p, _ := f.st.PersonByID(t.Context(), f.person.ID); p.AddressVerifiedBy != "eid" {
		t.Errorf("address not confirmed by the eID: %q", p.AddressVerifiedBy)
	}
	var refused *account.RefusedError
	if _, err := a.ChoosePassword(t.Context(), proven.Ticket, "passwort123", "", "", session.KindBrowser); !errors.As(err, &refused) {
		t.Fatalf("weak password = %v", err)
	}
	res, err := a.ChoosePassword(t.Context(), proven.Ticket, "Kastanienbaum im Herbstwind", "", "", session.KindBrowser)
	if err != nil {
		t.Fatal(err)
	}
	if res.Session.Level != "high" || res.Session.MustChangePassword {
		t.Errorf("session = %+v", res.Session)
	}
	// The origin is the identification, dated when it was made.
	if res.Session.Origin != "eid" || !res.Session.OriginAt.Equal(ids[0].At) {
		t.Errorf("session origin %q at %v, want eid at %v", res.Session.Origin, res.Session.OriginAt, ids[0].At)
	}
	if _, err := a.ChoosePassword(t.Context(), proven.Ticket, "Leuchtturm an der Ostsee", "", "", session.KindBrowser); !errors.Is(err, access.ErrTicket) {
		t.Errorf("second use of the ticket = %v, want ErrTicket", err)
	}
	if _, err := f.login(t, "Kastanienbaum im Herbstwind"); err != nil {
		t.Errorf("login with the chosen password: %v", err)
	}
}

func TestEIDMismatchAndFailures(t *testing.T) {
	f := newFixture(t)
	a, _, b := withEID(t, f)
	for name, choice := range map[string]sim.Choice{"birth date": {Identity: 1}, "name": {Identity: 2}} {
		if _, err := identify(t, f, a, b, me, choice); !errors.Is(err, access.ErrEIDNoMatch) {
			t.Errorf("%s: %v, want ErrEIDNoMatch", name, err)
		}
	}
	unknown := me
	unknown.KVNR = "T555558879"
	if _, err := identify(t, f, a, b, unknown, sim.Choice{Identity: 0}); !errors.Is(err, access.ErrEIDNoMatch) {
		t.Errorf("unknown KVNR: %v, want ErrEIDNoMatch", err)
	}
	if _, err := identify(t, f, a, b, me, sim.Choice{Cancel: true}); !errors.Is(err, access.ErrEIDCancelled) {
		t.Errorf("cancel: %v", err)
	}
	// A flow is single use: replaying the callback fails.
	start, err := a.StartEID(t.Context(), me, access.PurposeAccess)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := b.Authorize(t.Context(), start.RedirectURL, sim.Choice{Identity: 0})
	if _, err := a.FinishEID(t.Context(), start.Flow, loc.Query(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FinishEID(t.Context(), start.Flow, loc.Query(), ""); !errors.Is(err, access.ErrEIDFailed) {
		t.Errorf("replayed callback = %v, want ErrEIDFailed", err)
	}
	if _, err := a.FinishEID(t.Context(), "forged-flow", loc.Query(), ""); !errors.Is(err, access.ErrEIDFailed) {
		t.Errorf("unknown flow = %v", err)
	}
	if ids, _ := f.st.PersonIdentifications(t.Context(), f.person.ID); len(ids) != 1 {
		t.Errorf("%d identification records, want 1 (only the match)", len(ids))
	}
	var inv *field.Error
	if _, err := a.StartEID(t.Context(), access.Request{KVNR: "A123456789", PostalCode: "10115", BirthDate: "1970-03-14"}, access.PurposeAccess); !errors.As(err, &inv) {
		t.Errorf("malformed KVNR = %v", err)
	}
}

func TestResetByLetter(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	f.svc.SetInitialPassword(t.Context(), f.person.ID, initial)
	res, _ := f.login(t, initial)
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, "Kastanienbaum im Herbstwind", ""); err != nil {
		t.Fatal(err)
	}
	if err := resetNow(t.Context(), a, me); err != nil {
		t.Fatal(err)
	}
	letters, _ := f.st.PersonLetters(t.Context(), f.person.ID)
	if len(letters) != 1 || letters[0].Kind != "password_reset" || len(sink.pdfs) != 1 {
		t.Fatalf("letters %+v", letters)
	}
	// The old password still works until the code is used.
	if _, err := f.login(t, "Kastanienbaum im Herbstwind"); err != nil {
		t.Errorf("old password before the reset: %v", err)
	}
	if _, err := a.ResetWithCode(t.Context(), kvnr, "WRONGCODEWRONGCO", "Leuchtturm an der Ostsee", "", ""); !errors.Is(err, access.ErrResetFailed) {
		t.Errorf("wrong code = %v", err)
	}
	var pdf []byte
	for _, b := range sink.pdfs {
		pdf = b
	}
	code := textAfter(t, pdf, "Rücksetzcode:")
	if code == "" {
		t.Fatal("no reset code in the letter's text")
	}
	if _, err := a.ResetWithCode(t.Context(), "T555558879", code, "Leuchtturm an der Ostsee", "", ""); !errors.Is(err, access.ErrResetFailed) {
		t.Errorf("the code with another KVNR = %v", err)
	}
	var refused *account.RefusedError
	if _, err := a.ResetWithCode(t.Context(), kvnr, code, "passwort1", "", ""); !errors.As(err, &refused) {
		t.Errorf("weak password = %v", err)
	}
	got, err := a.ResetWithCode(t.Context(), kvnr, strings.ToLower(code), "Leuchtturm an der Ostsee", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Session.Level != "low" || got.Session.Origin != "letter" {
		t.Errorf("session after reset: %+v", got.Session)
	}
	if _, err := f.sessions.Authenticate(t.Context(), res.Token); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("an old session survived the reset: %v", err)
	}
	if _, err := f.login(t, "Kastanienbaum im Herbstwind"); !errors.Is(err, account.ErrLoginFailed) {
		t.Errorf("old password after the reset: %v", err)
	}
	if _, err := a.ResetWithCode(t.Context(), kvnr, code, "Noch ein ganz anderes Passwort", "", ""); !errors.Is(err, access.ErrResetFailed) {
		t.Errorf("second use of the code = %v", err)
	}
	if n := f.noticeCount(t); n != 1 { // replacing the initial password sends none
		t.Errorf("notices = %d, want 1 (the reset)", n)
	}
}

// textAfter extracts the grouped code after label from the PDF's text layer; it
// skips the test's rest when pdftotext is not installed.
func textAfter(t *testing.T, pdf []byte, label string) string {
	t.Helper()
	bin := needTool(t, "pdftotext")
	cmd := exec.Command(bin, "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+((?:[A-Z2-9]{4} ?){4})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in the letter:\n%s", label, out)
	}
	return string(m[1])
}

// TestConfirmWithEID: a logged-in person confirms their session with the
// eID: Confirm describes a fresh eID session at level high and keeps the
// password; the ticket is single use, of its purpose only, and of the
// session's person only.
func TestConfirmWithEID(t *testing.T) {
	f := newFixture(t)
	a, _, b := withEID(t, f)
	if _, err := f.svc.SetInitialPassword(t.Context(), f.person.ID, initial); err != nil {
		t.Fatal(err)
	}
	res, err := f.login(t, initial)
	if err != nil {
		t.Fatal(err)
	}
	confirm := func(choice sim.Choice) (access.Proven, error) {
		t.Helper()
		start, err := a.StartConfirm(t.Context(), f.person.ID, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		loc, err := b.Authorize(t.Context(), start.RedirectURL, choice)
		if err != nil {
			t.Fatal(err)
		}
		return a.FinishEID(t.Context(), start.Flow, loc.Query(), "192.0.2.1")
	}
	if _, err := confirm(sim.Choice{Identity: 2}); !errors.Is(err, access.ErrEIDNoMatch) {
		t.Errorf("another person's card: %v, want ErrEIDNoMatch", err)
	}
	proven, err := confirm(sim.Choice{Identity: 0})
	if err != nil || proven.Purpose != access.PurposeConfirm {
		t.Fatalf("confirm = %+v, %v", proven, err)
	}
	// A confirm ticket sets no password.
	if _, err := a.ChoosePassword(t.Context(), proven.Ticket, "Kastanienbaum im Herbstwind", "", "", session.KindBrowser); !errors.Is(err, access.ErrTicket) {
		t.Errorf("ChoosePassword with a confirm ticket = %v, want ErrTicket", err)
	}
	// Nor does it confirm another person's session.
	other := res.Session
	other.PersonID++
	if _, err := a.Confirm(t.Context(), proven.Ticket, other, "", ""); !errors.Is(err, access.ErrOtherPerson) {
		t.Errorf("Confirm for another person = %v, want ErrOtherPerson", err)
	}
	// That used it up.
	if _, err := a.Confirm(t.Context(), proven.Ticket, res.Session, "", ""); !errors.Is(err, access.ErrTicket) {
		t.Errorf("Confirm after the refusal = %v, want ErrTicket", err)
	}
	proven, err = confirm(sim.Choice{Identity: 0})
	if err != nil {
		t.Fatal(err)
	}
	n, err := a.Confirm(t.Context(), proven.Ticket, res.Session, "192.0.2.1", "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := f.st.PersonIdentifications(t.Context(), f.person.ID)
	if n.PersonID != f.person.ID || n.Level != session.LevelHigh || n.Origin != session.OriginEID || n.Kind != res.Session.Kind ||
		!n.OriginAt.Equal(ids[len(ids)-1].At) {
		t.Errorf("Confirm = %+v", n)
	}
	if _, err := a.Confirm(t.Context(), proven.Ticket, res.Session, "", ""); !errors.Is(err, access.ErrTicket) {
		t.Errorf("second Confirm = %v, want ErrTicket", err)
	}
	// An access ticket confirms nothing.
	access1, err := identify(t, f, a, b, me, sim.Choice{Identity: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Confirm(t.Context(), access1.Ticket, res.Session, "", ""); !errors.Is(err, access.ErrTicket) {
		t.Errorf("Confirm with an access ticket = %v, want ErrTicket", err)
	}
	// The password is the one it was.
	if _, err := f.login(t, initial); err != nil {
		t.Errorf("login after confirming: %v", err)
	}
	// Anonymous requests cannot start a confirmation.
	if _, err := a.StartEID(t.Context(), me, access.PurposeConfirm); err == nil {
		t.Error("StartEID with PurposeConfirm accepted")
	}
}
