package familyapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// refused asserts a 4xx answer with code and a German message.
func refused(t *testing.T, what string, code int, raw []byte, wantStatus int, wantCode string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s: %d %s: %v", what, code, raw, err)
	}
	if code != wantStatus || e.Error != wantCode || e.Message == "" {
		t.Errorf("%s = %d %s (%q), want %d %s", what, code, e.Error, e.Message, wantStatus, wantCode)
	}
}

// TestRepresentationBoundaries: through the HTTP API, on every database,
// a member acts for their young child; a child who turned 15, another
// family's child, an appointment after its end date and an action beyond
// its scope are each refused with a clear 4xx and change nothing.
func TestRepresentationBoundaries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		f := start(t, st)
		tok := f.token(t, f.mother, session.LevelSubstantial)
		fam := f.handles(t, tok)
		young, ok := fam["Max"]
		if !ok || young.Basis != "parent" || len(young.Actions) != 4 || young.Refusal != "" {
			t.Fatalf("family lists Max as %+v, want the parent with every action", young)
		}
		var view struct {
			GivenNames string `json:"given_names"`
			Address    struct {
				City string `json:"city"`
			} `json:"address"`
		}
		if code, raw := f.call(t, "GET", "/api/v1/family/members/"+young.Handle, tok, nil, &view); code != http.StatusOK ||
			view.GivenNames != "Max" || view.Address.City != "Berlin" {
			t.Errorf("view young child = %d %s", code, raw)
		}

		// Turned 15 today.
		fifteen, ok := fam["Lena"]
		if !ok || fifteen.Refusal != "representation_turned_15" || len(fifteen.Actions) != 0 {
			t.Errorf("family lists Lena as %+v, want refused (turned 15)", fifteen)
		}
		code, raw := f.call(t, "GET", "/api/v1/family/members/"+fifteen.Handle, tok, nil, nil)
		refused(t, "view 15-year-old", code, raw, http.StatusForbidden, "representation_turned_15")
		code, raw = f.call(t, "POST", "/api/v1/family/members/"+fifteen.Handle+"/address", tok, newAddress, nil)
		refused(t, "address of 15-year-old", code, raw, http.StatusForbidden, "representation_turned_15")
		code, raw = f.call(t, "GET", "/api/v1/family/members/"+fifteen.Handle+"/mailbox", tok, nil, nil)
		refused(t, "mailbox of 15-year-old", code, raw, http.StatusForbidden, "representation_turned_15")
		f.unchanged(t, f.fifteen, f.mother)

		// Another family's child: the other member's handle is no handle
		// of the mother's, and the child is not listed.
		if _, listed := fam["Tom"]; listed {
			t.Error("the mother's family lists another family's child")
		}
		otherHandle := f.handles(t, f.token(t, f.other, session.LevelSubstantial))["Tom"].Handle
		if otherHandle == "" {
			t.Fatal("the other member's family does not list Tom")
		}
		for _, p := range []struct{ method, path string }{
			{"GET", "/api/v1/family/members/" + otherHandle},
			{"POST", "/api/v1/family/members/" + otherHandle + "/address"},
			{"GET", "/api/v1/family/members/" + otherHandle + "/mailbox"},
			{"GET", "/api/v1/family/members/not-a-handle"},
		} {
			var body any
			if p.method == "POST" {
				body = newAddress
			}
			code, raw := f.call(t, p.method, p.path, tok, body, nil)
			refused(t, p.method+" another family's child", code, raw, http.StatusNotFound, "not_represented")
		}
		f.unchanged(t, f.stranger, f.mother)
		// A child the register moves to another member's family: the
		// mother's handle from before no longer works.
		moved := f.n.Person(t, store.Person{KVNR: kvnr(t), FamilyName: "Muster", GivenNames: "Paul", BirthDate: birthDate(f.clock.Now(), 5, 0),
			Street: "Alte Straße", HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationDependent, MemberKVNR: f.mother.KVNR})
		movedHandle := f.handles(t, tok)["Paul"].Handle
		moved, err := f.n.Store.UpdatePerson(t.Context(), moved.ID, func(p *store.Person) error { p.MemberKVNR = f.other.KVNR; return nil })
		if err != nil {
			t.Fatal(err)
		}
		code, raw = f.call(t, "POST", "/api/v1/family/members/"+movedHandle+"/address", tok, newAddress, nil)
		refused(t, "address of a child moved to another family", code, raw, http.StatusNotFound, "not_represented")
		f.unchanged(t, moved, f.mother)

		// Appointed for the adult: data.view only, until tomorrow.
		tomorrow := f.clock.Now().In(lang.Berlin).AddDate(0, 0, 1).Format("2006-01-02")
		f.appoint(t, f.mother, f.adult, "bevollmaechtigt", []string{"data.view"}, tomorrow)
		adult := f.handles(t, tok)["Erika"]
		if adult.Basis != "bevollmaechtigt" || !slices.Equal(adult.Actions, []string{"data.view"}) {
			t.Fatalf("family lists Erika as %+v, want bevollmaechtigt for data.view", adult)
		}
		if code, raw := f.call(t, "GET", "/api/v1/family/members/"+adult.Handle, tok, nil, nil); code != http.StatusOK {
			t.Errorf("view in scope = %d %s", code, raw)
		}
		code, raw = f.call(t, "POST", "/api/v1/family/members/"+adult.Handle+"/address", tok, newAddress, nil)
		refused(t, "address beyond scope", code, raw, http.StatusForbidden, "representation_scope")
		code, raw = f.call(t, "POST", "/api/v1/family/members/"+adult.Handle+"/mailbox", tok,
			map[string]string{"subject": "Frage", "text": "Hallo"}, nil)
		refused(t, "mailbox beyond scope", code, raw, http.StatusForbidden, "representation_scope")
		f.unchanged(t, f.adult, f.mother)

		// Three days on, the appointment has run out and Max is still 14
		// no longer: both are refused.
		f.clock.Advance(3 * 24 * time.Hour)
		tok = f.token(t, f.mother, session.LevelSubstantial)
		code, raw = f.call(t, "GET", "/api/v1/family/members/"+adult.Handle, tok, nil, nil)
		refused(t, "view after the end date", code, raw, http.StatusForbidden, "representation_ended")
		code, raw = f.call(t, "POST", "/api/v1/family/members/"+young.Handle+"/address", tok, newAddress, nil)
		refused(t, "address after the 15th birthday", code, raw, http.StatusForbidden, "representation_turned_15")
		f.unchanged(t, f.young, f.mother)
		f.unchanged(t, f.adult, f.mother)

		// The refusals are in the audit trail, with both persons.
		entries, err := f.n.Store.SearchAudit(t.Context(), store.AuditFilter{Actor: f.mother.ID.Ref(), Event: "family.refused"}, 50)
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]bool{}
		for _, e := range entries {
			var d struct{ Reason string }
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			reasons[d.Reason] = true
		}
		for _, r := range []string{"turned_15", "handle", "out_of_scope", "ended"} {
			if !reasons[r] {
				t.Errorf("no family.refused entry with reason %s (have %v)", r, reasons)
			}
		}
	})
}

// TestLevelAndSession: acts on behalf need a session at substantial; no
// session, no answer.
func TestLevelAndSession(t *testing.T) {
	f := start(t, testdb.Open(t))
	handle := f.handles(t, f.token(t, f.mother, session.LevelSubstantial))["Max"].Handle
	low := f.token(t, f.mother, session.LevelLow)
	code, raw := f.call(t, "GET", "/api/v1/family/members/"+handle, low, nil, nil)
	refused(t, "view at low", code, raw, http.StatusForbidden, "session_level_too_low")
	code, raw = f.call(t, "GET", "/api/v1/family", "", nil, nil)
	refused(t, "no session", code, raw, http.StatusUnauthorized, "unauthenticated")
	f.unchanged(t, f.young, f.mother)
}

// TestStaffAPI: staff record, list and end representations; bad input is
// a 4xx naming every wrong field; nothing without the token.
func TestStaffAPI(t *testing.T) {
	f := start(t, testdb.Open(t))
	tomorrow := f.clock.Now().In(lang.Berlin).AddDate(0, 0, 1).Format("2006-01-02")
	code, raw := f.call(t, "POST", "/api/v1/staff/representations", "wrong-token-wrong-token-wrong-token-00",
		map[string]any{"actor_kvnr": f.mother.KVNR}, nil)
	refused(t, "wrong token", code, raw, http.StatusUnauthorized, "unauthenticated")

	code, raw = f.call(t, "POST", "/api/v1/staff/representations", staffToken, map[string]any{"actor_kvnr": f.mother.KVNR,
		"subject_kvnr": f.mother.KVNR, "kind": "onkel", "scope": []string{"bank.change"}, "valid_until": tomorrow, "author": ""}, nil)
	refused(t, "bad appointment", code, raw, http.StatusBadRequest, "invalid_field")
	for _, want := range []string{"author", "subject_kvnr", "kind", "scope"} {
		if !strings.Contains(string(raw), want+":") {
			t.Errorf("bad appointment answer %s does not name %s", raw, want)
		}
	}
	code, raw = f.call(t, "POST", "/api/v1/staff/representations", staffToken, map[string]any{"actor_kvnr": f.mother.KVNR,
		"subject_kvnr": f.adult.KVNR, "kind": "betreuer", "scope": []string{"data.view"}, "valid_until": "gestern", "author": "meier"}, nil)
	refused(t, "bad date", code, raw, http.StatusBadRequest, "bad_request")
	code, raw = f.call(t, "POST", "/api/v1/staff/representations", staffToken, map[string]any{"actor_kvnr": f.mother.KVNR,
		"subject_kvnr": f.adult.KVNR, "kind": "betreuer", "scope": []string{"data.view"}, "valid_until": "2001-01-01", "author": "meier"}, nil)
	refused(t, "end in the past", code, raw, http.StatusBadRequest, "invalid_field")

	id := f.appoint(t, f.mother, f.adult, "betreuer", []string{"mailbox.read", "data.view"}, tomorrow)
	var list struct {
		Representations []struct {
			ID    int64    `json:"id"`
			Kind  string   `json:"kind"`
			Scope []string `json:"scope"`
		} `json:"representations"`
	}
	if code, raw := f.call(t, "GET", "/api/v1/staff/representations?kvnr="+f.adult.KVNR, staffToken, nil, &list); code != http.StatusOK ||
		len(list.Representations) != 1 || list.Representations[0].ID != id || list.Representations[0].Kind != "betreuer" {
		t.Errorf("list = %d %s", code, raw)
	}
	path := "/api/v1/staff/representations/" + itoa(id) + "/end"
	if code, raw := f.call(t, "POST", path, staffToken, map[string]string{"author": "schulz"}, nil); code != http.StatusOK {
		t.Errorf("end = %d %s", code, raw)
	}
	code, raw = f.call(t, "POST", path, staffToken, map[string]string{"author": "schulz"}, nil)
	refused(t, "end twice", code, raw, http.StatusConflict, "already_ended")
	code, raw = f.call(t, "POST", "/api/v1/staff/representations/999999/end", staffToken, map[string]string{"author": "schulz"}, nil)
	refused(t, "end unknown", code, raw, http.StatusNotFound, "not_found")
	if _, ok := f.handles(t, f.token(t, f.mother, session.LevelSubstantial))["Erika"]; ok {
		t.Error("an ended appointment is still listed")
	}
	entries, err := f.n.Store.SearchAudit(t.Context(), store.AuditFilter{Subject: f.adult.ID.Ref(), Event: "family."}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Event+" by "+e.Actor)
	}
	want := []string{"family.representation_ended by staff:schulz", "family.representation_recorded by staff:meier"}
	if !slices.Equal(got, want) {
		t.Errorf("audit of the appointment = %v, want %v", got, want)
	}
}
