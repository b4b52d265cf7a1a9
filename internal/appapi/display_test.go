package appapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pforte/pforte/appclient"
)

// TestAddressFieldsRefuseInvisibleCharacters: an address change whose street,
// house number or city holds a character the phone cannot show as it is
// signed (a bidi override, a zero-width or C1 character) is refused with 400,
// a German message naming the field, and no approval waits on the phone.
//
// The field is named only once profile's cleanField calls
// approval.FieldProblem; until then the approval's text check refuses the
// change (400 for the field "text") and this test FAILS on the field name.
func TestAddressFieldsRefuseInvisibleCharacters(t *testing.T) {
	base, code := deviceServer(t)

	first := login(t, base, initial)
	if first.status != http.StatusCreated {
		t.Fatalf("first login: %d %s", first.status, first.raw)
	}
	if r := call(t, "POST", base+"/api/v1/password", first.body["session_token"].(string),
		`{"current_password":"`+initial+`","new_password":"`+strong+`"}`); r.status != http.StatusNoContent {
		t.Fatalf("choose password: %d %s", r.status, r.raw)
	}
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	app := &appclient.Client{BaseURL: base}
	if _, _, err := app.Bind(t.Context(), phone, kvnr, strong, code, "482915", "Testtelefon", "Pixel 8"); err != nil {
		t.Fatal(err)
	}
	// The phone's own login: a password session may not ask for changes.
	appSession, err := app.Login(t.Context(), phone, "482915", "pin")
	if err != nil {
		t.Fatal(err)
	}
	tok := appSession.Token

	tests := []struct {
		name, field string
		addr        map[string]string
	}{
		{"right-to-left override in the street", "street", map[string]string{"street": "Linden\u202eellaen", "house_number": "3", "postal_code": "04109", "city": "Leipzig"}},
		{"left-to-right isolate in the street", "street", map[string]string{"street": "\u2066Lindenallee\u2069", "house_number": "3", "postal_code": "04109", "city": "Leipzig"}},
		{"zero-width space in the house number", "house_number", map[string]string{"street": "Lindenallee", "house_number": "3\u200b", "postal_code": "04109", "city": "Leipzig"}},
		{"BOM in the city", "city", map[string]string{"street": "Lindenallee", "house_number": "3", "postal_code": "04109", "city": "\ufeffLeipzig"}},
		{"C1 control in the city", "city", map[string]string{"street": "Lindenallee", "house_number": "3", "postal_code": "04109", "city": "Leip\u009bzig"}},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(tt.addr)
		r := call(t, "PUT", base+"/api/v1/me/address", tok, string(b))
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tt.name, r.status, r.raw)
			continue
		}
		if msg, _ := r.body["message"].(string); msg == "" {
			t.Errorf("%s: no message in %s", tt.name, r.raw)
		}
		if r.body["field"] != tt.field {
			t.Errorf("%s: refused for the field %v, want %q (profile's cleanField must call approval.FieldProblem): %s",
				tt.name, r.body["field"], tt.field, r.raw)
		}
	}
	// Nothing waits on the phone, and a clean address goes through.
	as, err := app.Login(t.Context(), phone, "482915", "pin")
	if err != nil {
		t.Fatal(err)
	}
	if list, err := app.Approvals(t.Context(), as.Token); err != nil || len(list) != 0 {
		t.Errorf("pending approvals after refused changes: %+v, %v", list, err)
	}
	if r := call(t, "PUT", base+"/api/v1/me/address", tok, `{"street":"Lindenallee","house_number":"3","postal_code":"04109","city":"Leipzig"}`); r.status != http.StatusAccepted {
		t.Errorf("clean address: %d %s, want 202", r.status, r.raw)
	}
}
