package serviceapp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/store"
)

// TestServiceAppFamily: a mother acts for her ten-year-old son in the app.
// She sees him under "Familie", his data, changes his address with a
// request that this same phone then shows, naming him, and approves with her
// PIN: his address changes, hers does not. She reads a message the insurer
// sent to his mailbox. A daughter of 15 is listed as acting alone, with no
// action offered. axe-core checks every screen.
func TestServiceAppFamily(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 6 * time.Minute, Flags: []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true)}})
	n := startAppNode(t)
	s := svc{t, ctx, n}
	mother := n.others[0]
	kvnrOf := func(prefix string) string {
		c, err := registry.KVNRCheckDigit(prefix)
		if err != nil {
			t.Fatal(err)
		}
		return prefix + string(c)
	}
	now := time.Now()
	son := n.Person(t, store.Person{KVNR: kvnrOf("Z12345678"), GivenNames: "Max", FamilyName: "Muster",
		BirthDate: now.AddDate(-10, 0, 0).Format("2006-01-02"), Street: "Lindenallee", HouseNumber: "3", PostalCode: "04109",
		City: "Leipzig", Relation: store.RelationDependent, MemberKVNR: mother.KVNR, AddressVerifiedAt: now.AddDate(0, -1, 0),
		AddressVerifiedBy: "register"})
	n.Person(t, store.Person{KVNR: kvnrOf("Z23456789"), GivenNames: "Lea", FamilyName: "Muster",
		BirthDate: now.AddDate(-15, 0, -1).Format("2006-01-02"), Street: "Lindenallee", HouseNumber: "3", PostalCode: "04109",
		City: "Leipzig", Relation: store.RelationDependent, MemberKVNR: mother.KVNR})
	watchConsole(t, ctx)
	s.activateWithPhoto(mother)
	s.login(svcPIN)

	s.do("open the family", tap("Familie"))
	s.screen("Familie und Vertretung")
	got := s.wait("Wer für Sie gehandelt hat")
	apptest.A11y(t, ctx, "Familie, geladen")
	for _, want := range []string{"Max Muster", "Ihr Kind", "Lea Muster", "ist 15 Jahre alt und handelt jetzt selbst", "Niemand hat für Sie gehandelt."} {
		if !strings.Contains(got, want) {
			t.Errorf("the family screen lacks %q:\n%s", want, got)
		}
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll(".card")].find((c) => c.textContent.includes("Lea")).querySelectorAll("button").length`)); err != nil || n != 0 {
		t.Errorf("the 15-year-old's card offers %d actions (%v), want none", n, err)
	}

	s.do("his data", tap("Daten ansehen"))
	s.screen("Daten von Max Muster")
	s.wait("Lindenallee 3, 04109 Leipzig")
	apptest.A11y(t, ctx, "Daten, geladen")
	s.do("back", tap("Zurück"))
	s.screen("Familie und Vertretung")

	s.do("change his address", tap("Anschrift ändern"))
	s.screen("Anschrift ändern für Max Muster")
	s.do("the new address", apptest.Fill("street", "Hauptstraße"), apptest.Fill("house_number", "7"),
		apptest.Fill("postal_code", "10115"), apptest.Fill("city", "Berlin"), tap("Änderung anfragen"))
	s.screen("Bitte freigeben")
	if text := s.wait("Für Ihr Kind Max Muster"); !strings.Contains(text, "Hauptstraße 7") {
		t.Errorf("the request's text:\n%s", text)
	}
	s.do("to the approvals", tap("Zu den Freigaben"))
	s.screen("Freigaben")
	s.wait("Anschrift einer vertretenen Person")
	s.do("open", tap("Ansehen und beantworten"))
	if shown := s.shownText(); !strings.Contains(shown, "Für Ihr Kind Max Muster") {
		t.Errorf("the phone shows:\n%s", shown)
	}
	s.do("approve", apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Freigegeben. Vielen Dank.")
	after, err := n.Store.PersonByKVNR(t.Context(), son.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	if after.Street != "Hauptstraße" || after.City != "Berlin" {
		t.Errorf("the son's address after the approval: %s %s, %s", after.Street, after.HouseNumber, after.City)
	}
	if m, _ := n.Store.PersonByKVNR(t.Context(), mother.KVNR); m.Street != mother.Street {
		t.Errorf("the mother's address changed too: %s", m.Street)
	}

	if _, err := n.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: son.KVNR, Author: "staff:e.muster", Subject: "Impfung",
		Text: "Guten Tag,\n\nbitte denken Sie an die Impfung von Max."}); err != nil {
		t.Fatal(err)
	}
	s.do("back", tap("Zurück zur Übersicht"))
	s.screen("Freigaben")
	s.do("the family again", tap("Familie"))
	s.screen("Familie und Vertretung")
	s.do("his mailbox", tap("Postfach"))
	s.screen("Postfach von Max Muster")
	s.wait("Impfung")
	s.do("open the message", tap("Öffnen"))
	s.screen("Impfung")
	s.wait("bitte denken Sie an die Impfung von Max.")
	apptest.A11y(t, ctx, "Nachricht im Postfach des Kindes")
}
