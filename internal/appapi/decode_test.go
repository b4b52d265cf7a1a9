package appapi

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/answer"
)

// FuzzDecode: no input panics the decoder, and every refusal is a bad request
// with a German message.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"kvnr":"X110411675","password":"geheim"}`,
		`{"kvnr":"X110411675","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`,
		`{"device_id":"dev_x","challenge_id":"ch_y","device_signature":"AAAA","pin_signature":"_-8"}`,
		`{"device_key":"BAAA","pin_key":"==","kdf":"{\"alg\":\"argon2id\"}"}`,
		`{}`, `[]`, `null`, `{"kvnr":1}`, "{\"kvnr\":\"\xff\"}", `{"a":` + strings.Repeat("[", 100), `{"kvnr":"x"} trailing`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		targets := []any{&sessionRequest{}, &accessRequest{}, &passwordRequest{}, &challengeRequest{}, &bindRequest{},
			&appSessionRequest{}, &pinChangeRequest{}, &proofJSON{}, &approveRequest{}, &declineRequest{}, &renameRequest{}, &bankRequest{}}
		for _, target := range targets {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			err := decode(r, target)
			var b *answer.Bad
			if err != nil && (!errors.As(err, &b) || b.Message == "") {
				t.Fatalf("decode(%q) = %v, want a bad request", body, err)
			}
		}
	})
}

// TestDecodeRefusesDuplicateMembers: a member named twice is refused, at any
// depth, however it is spelled, and nothing is decoded.
func TestDecodeRefusesDuplicateMembers(t *testing.T) {
	for _, body := range []string{
		`{"iban":"DE02120300000000202051","iban":"DE89370400440532013000"}`,
		`{"iban":"DE02120300000000202051","\u0069ban":"DE89370400440532013000"}`,
	} {
		r := httptest.NewRequest("PUT", "/", strings.NewReader(body))
		var req bankRequest
		err := decode(r, &req)
		var b *answer.Bad
		if !errors.As(err, &b) || !strings.Contains(b.Message, "doppelt") || req.IBAN != "" {
			t.Errorf("decode(%s) = %v, IBAN %q; want a bad request naming the duplicate, nothing decoded", body, err, req.IBAN)
		}
	}
	r := httptest.NewRequest("PUT", "/", strings.NewReader(`{"iban":"DE89370400440532013000"}`))
	var req bankRequest
	if err := decode(r, &req); err != nil || req.IBAN != "DE89370400440532013000" {
		t.Errorf("a plain body: %v, %q", err, req.IBAN)
	}
}
