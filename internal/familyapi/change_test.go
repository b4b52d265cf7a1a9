package familyapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type approvalAnswer struct {
	ID     string `json:"approval_id"`
	Status string `json:"status"`
	Text   string `json:"text"`
}

// TestAddressChangeOnBehalf: a mother changes her young son's address;
// her own phone (the reference app client) shows a text that names the
// child and approves it; the son's address changes, the mother's does
// not; the notice goes to the son's old address; the audit trail has both
// persons, and the son sees the act in his own history.
func TestAddressChangeOnBehalf(t *testing.T) {
	f := start(t, testdb.Open(t))
	ctx := t.Context()
	phone := f.n.BindPhone(t, f.mother, f.password, "246813")
	tok := f.token(t, f.mother, session.LevelSubstantial)
	handle := f.handles(t, tok)["Max"].Handle

	var ap approvalAnswer
	code, raw := f.call(t, "POST", "/api/v1/family/members/"+handle+"/address", tok, newAddress, &ap)
	if code != http.StatusAccepted || ap.Status != "pending" {
		t.Fatalf("request = %d %s", code, raw)
	}
	wantText := "Für Ihr Kind Max Muster – neue Anschrift: Neue Straße 7, 04109 Leipzig"
	if ap.Text != wantText {
		t.Errorf("approval text = %q, want %q", ap.Text, wantText)
	}
	a, _ := f.n.Pending(t, phone, family.ApprovalAction)
	if a.Text != wantText {
		t.Errorf("the phone shows %q, want %q", a.Text, wantText)
	}
	if err := f.n.App().Approve(ctx, phone.Device, a, phone.PIN, "pin", 0); err != nil {
		t.Fatalf("approve: %v", err)
	}

	son, err := f.n.Store.PersonByID(ctx, f.young.ID)
	if err != nil {
		t.Fatal(err)
	}
	if son.Street != "Neue Straße" || son.City != "Leipzig" {
		t.Errorf("son's address = %s, %s, want Neue Straße, Leipzig", son.Street, son.City)
	}
	mother, err := f.n.Store.PersonByID(ctx, f.mother.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mother.Street != f.mother.Street || mother.Version != f.mother.Version {
		t.Errorf("the mother's record changed: %s, version %d → %d", mother.Street, f.mother.Version, mother.Version)
	}
	var status approvalAnswer
	if code, raw := f.call(t, "GET", "/api/v1/family/approvals/"+ap.ID, tok, nil, &status); code != http.StatusOK || status.Status != "approved" {
		t.Errorf("status = %d %s", code, raw)
	}

	// The notice is the son's, to his old address.
	notices, err := f.n.Store.PersonNotices(ctx, f.young.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].Kind != string(notice.AddressChanged) {
		t.Fatalf("son's notices = %+v, want one address_changed", notices)
	}
	d, err := notice.OpenDetails(f.n.Cfg.Keys, notices[0].ID, notices[0].Details)
	if err != nil {
		t.Fatal(err)
	}
	if to := strings.Join(d.To, " | "); !strings.Contains(to, "Alte Straße 1") || !strings.Contains(to, "10115 Berlin") {
		t.Errorf("notice goes to %q, want the old address", to)
	}
	mn, err := f.n.Store.PersonNotices(ctx, f.mother.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range mn {
		if n.Kind == string(notice.AddressChanged) {
			t.Error("the mother got an address notice")
		}
	}
	// The outbox event tells the core system the son's new address.
	events, err := f.n.Profile.Outbox(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || !strings.Contains(string(events[0].Payload), son.KVNR) || events[0].Type != "address.changed" {
		t.Errorf("outbox = %+v, want the son's address.changed", events)
	}

	// Audit: the act has both persons.
	entries, err := f.n.Store.SearchAudit(ctx, store.AuditFilter{Subject: f.young.ID.Ref(), Event: "family.acted"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var acted bool
	for _, e := range entries {
		var dt struct{ Action, Approval string }
		if err := json.Unmarshal(e.Details, &dt); err != nil {
			t.Fatal(err)
		}
		acted = acted || (e.Actor == f.mother.ID.Ref() && dt.Action == "address.change" && dt.Approval == ap.ID)
	}
	if !acted {
		t.Errorf("no family.acted entry by the mother for the son's address change in %d entries", len(entries))
	}

	// The son sees it in his own history once he has access.
	sonTok := f.token(t, f.young, session.LevelSubstantial)
	var l familyList
	if code, raw := f.call(t, "GET", "/api/v1/family", sonTok, nil, &l); code != http.StatusOK {
		t.Fatalf("son's family = %d %s", code, raw)
	}
	var seen bool
	for _, act := range l.Acts {
		seen = seen || (act.Action == "address.change" && act.Basis == "parent" && strings.HasSuffix(act.By, f.mother.FamilyName))
	}
	if !seen {
		t.Errorf("son's history = %+v, want the mother's address change", l.Acts)
	}
}

// TestApprovalChecksAgain: an appointment that staff end while its address
// change waits on the phone stops the change when the phone approves it.
func TestApprovalChecksAgain(t *testing.T) {
	f := start(t, testdb.Open(t))
	ctx := t.Context()
	phone := f.n.BindPhone(t, f.mother, f.password, "246813")
	tok := f.token(t, f.mother, session.LevelSubstantial)
	tomorrow := f.clock.Now().In(lang.Berlin).AddDate(0, 0, 1).Format("2006-01-02")
	id := f.appoint(t, f.mother, f.adult, "bevollmaechtigt", []string{"address.change"}, tomorrow)
	handle := f.handles(t, tok)["Erika"].Handle
	var ap approvalAnswer
	if code, raw := f.call(t, "POST", "/api/v1/family/members/"+handle+"/address", tok, newAddress, &ap); code != http.StatusAccepted {
		t.Fatalf("request = %d %s", code, raw)
	}
	if want := "Für Erika Muster (Vollmacht) – neue Anschrift: Neue Straße 7, 04109 Leipzig"; ap.Text != want {
		t.Errorf("approval text = %q, want %q", ap.Text, want)
	}
	if code, raw := f.call(t, "POST", "/api/v1/staff/representations/"+itoa(id)+"/end", staffToken, map[string]string{"author": "schulz"}, nil); code != http.StatusOK {
		t.Fatalf("end = %d %s", code, raw)
	}
	a, _ := f.n.Pending(t, phone, family.ApprovalAction)
	err := f.n.App().Approve(ctx, phone.Device, a, phone.PIN, "pin", 0)
	if err == nil || !strings.Contains(err.Error(), "representation_ended") {
		t.Errorf("approve after the end = %v, want representation_ended", err)
	}
	f.unchanged(t, f.adult, store.Person{})
}

// TestAddressChangeOnBehalfIsNotVerified: a mother whose phone was bound at
// level high (with her eID) changes her son's address. Her eID proves who
// she is, not where he lives: his new address stays unverified, so letters
// with codes to it wait for staff review.
func TestAddressChangeOnBehalfIsNotVerified(t *testing.T) {
	f := start(t, testdb.Open(t))
	ctx := t.Context()
	phone := f.n.BindPhone(t, f.mother, f.password, "246813")
	if _, err := f.n.Store.UpdateDevice(ctx, store.DeviceID(phone.ID), func(d *store.Device) error {
		d.Level = string(session.LevelHigh)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tok := f.token(t, f.mother, session.LevelSubstantial)
	handle := f.handles(t, tok)["Max"].Handle
	var ap approvalAnswer
	if code, raw := f.call(t, "POST", "/api/v1/family/members/"+handle+"/address", tok, newAddress, &ap); code != http.StatusAccepted {
		t.Fatalf("request = %d %s", code, raw)
	}
	a, _ := f.n.Pending(t, phone, family.ApprovalAction)
	if err := f.n.App().Approve(ctx, phone.Device, a, phone.PIN, "pin", 0); err != nil {
		t.Fatalf("approve: %v", err)
	}
	son, err := f.n.Store.PersonByID(ctx, f.young.ID)
	if err != nil {
		t.Fatal(err)
	}
	if son.Street != "Neue Straße" {
		t.Fatalf("the change was not carried out: %s", son.Street)
	}
	if !son.AddressVerifiedAt.IsZero() || son.AddressVerifiedBy != "" {
		t.Errorf("the son's new address counts as verified (%v by %q) through his mother's phone", son.AddressVerifiedAt, son.AddressVerifiedBy)
	}
}
