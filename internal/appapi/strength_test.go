package appapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/appapi"
)

func TestPasswordStrength(t *testing.T) {
	base := newServer(t, appapi.Config{})
	rate := func(token, pw string) reply {
		t.Helper()
		return call(t, "POST", base+"/api/v1/password-strength", token, `{"password":"`+pw+`"}`)
	}
	codes := func(r reply) string {
		var out []string
		list, _ := r.body["reasons"].([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			code, _ := m["code"].(string)
			msg, _ := m["message"].(string)
			if msg == "" {
				t.Errorf("reason %s without a message", code)
			}
			out = append(out, code)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name, pw  string
		withToken bool
		score     func(float64) bool
		reasons   string
	}{
		{"strong", strong, false, func(s float64) bool { return s >= 3 }, ""},
		{"short", "kurz", false, func(s float64) bool { return s < 3 }, "too_short"},
		{"common", "passwort123", false, func(s float64) bool { return s < 3 }, "common"},
		// The person's data count only with their session.
		{"name, anonymous", "Jürgen Müller 1970 Sommer", false, func(float64) bool { return true }, ""},
		{"name, with the session", "Jürgen Müller 1970 Sommer", true, func(s float64) bool { return s < 3 }, "contains_personal_data"},
	}
	tok := login(t, base, initial).body["session_token"].(string)
	for _, tt := range tests {
		token := ""
		if tt.withToken {
			token = tok
		}
		r := rate(token, tt.pw)
		score, _ := r.body["score"].(float64)
		label, _ := r.body["label"].(string)
		if r.status != http.StatusOK || !tt.score(score) || label == "" {
			t.Errorf("%s: %d %s", tt.name, r.status, r.raw)
		}
		if got := codes(r); !strings.Contains(got, tt.reasons) || (tt.reasons == "" && got != "") {
			t.Errorf("%s: reasons %q, want %q", tt.name, got, tt.reasons)
		}
	}
	if r := call(t, "POST", base+"/api/v1/password-strength", "", `{"pw":"x"}`); r.status != http.StatusBadRequest {
		t.Errorf("unknown member: %d %s", r.status, r.raw)
	}
	if r := call(t, "POST", base+"/api/v1/password-strength", "", `{}`); r.status != http.StatusBadRequest {
		t.Errorf("no password: %d %s", r.status, r.raw)
	}
	// A typist's pace passes; a guessing run meets the per-address limit.
	limited := false
	for range 60 {
		if r := rate("", "x"); r.status == http.StatusTooManyRequests {
			limited = r.header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Error("60 ratings in a row were not limited")
	}
}
