package oidc

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

func validConfig() Config {
	return Config{Issuer: "https://kasse.example/oidc", SubjectKey: make([]byte, 32), Clients: []ClientConfig{
		{ID: "bonus", Secret: strings.Repeat("s", 32), RedirectURIs: []string{"https://bonus.example/cb"}},
		{ID: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"}, Scopes: []string{ScopeProfile}},
	}}
}

func TestConfigValidate(t *testing.T) {
	if errs := validConfig().withDefaults().Validate(); len(errs) > 0 {
		t.Fatalf("valid config: %v", errs)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"http issuer", func(c *Config) { c.Issuer = "http://kasse.example/oidc" }, "oidc.issuer"},
		{"short subject key", func(c *Config) { c.SubjectKey = make([]byte, 16) }, "subject_key"},
		{"bad id", func(c *Config) { c.Clients[0].ID = "a b" }, "clients[0].id"},
		{"duplicate id", func(c *Config) { c.Clients[1].ID = "bonus" }, "configured twice"},
		{"short secret", func(c *Config) { c.Clients[0].Secret = "short" }, "secret"},
		{"public with secret", func(c *Config) { c.Clients[1].Secret = strings.Repeat("s", 32) }, "public client has no secret"},
		{"public http redirect", func(c *Config) { c.Clients[1].RedirectURIs = []string{"http://127.0.0.1/cb"} }, "must be https"},
		{"fragment", func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://bonus.example/cb#x"} }, "fragment"},
		{"unknown scope", func(c *Config) { c.Clients[0].Scopes = []string{"email"} }, "unknown scope"},
		{"unknown level", func(c *Config) { c.Clients[0].Levels = []string{"medium"} }, "unknown level"},
		{"subject type", func(c *Config) { c.Clients[0].SubjectType = "secret" }, "subject_type"},
		{"public CIBA", func(c *Config) { c.Clients[1].CIBA = true }, "only confidential"},
		{"CIBA without types", func(c *Config) { c.Clients[0].CIBA = true }, "at least one type"},
		{"long code", func(c *Config) { c.CodeTTL = 11 * 60e9 }, "code_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			errs := c.withDefaults().Validate()
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("errors %q do not mention %q", all, tt.want)
			}
		})
	}
}

func TestLevelFor(t *testing.T) {
	low, sub, high := session.LevelLow.ACR(), session.LevelSubstantial.ACR(), session.LevelHigh.ACR()
	c := newClient(ClientConfig{ID: "c", Levels: []string{"substantial", "high"}}, 0)
	tests := []struct {
		acr    []string
		want   session.Level
		wantOK bool
	}{
		{nil, session.LevelSubstantial, true},
		{[]string{"urn:unknown"}, session.LevelSubstantial, true},
		{[]string{high}, session.LevelHigh, true},
		{[]string{high, sub}, session.LevelSubstantial, true},
		{[]string{low}, "", false},
		{[]string{low, high}, session.LevelHigh, true},
	}
	for _, tt := range tests {
		got, ok := c.levelFor(tt.acr)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("levelFor(%v) = %q, %v; want %q, %v", tt.acr, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestSubjects(t *testing.T) {
	cs := &clients{subjects: make([]byte, 32)}
	pub1 := newClient(ClientConfig{ID: "a", SubjectType: SubjectPublic}, 0)
	pub2 := newClient(ClientConfig{ID: "b", SubjectType: SubjectPublic}, 0)
	pw1 := newClient(ClientConfig{ID: "a", SubjectType: SubjectPairwise}, 0)
	pw2 := newClient(ClientConfig{ID: "b", SubjectType: SubjectPairwise}, 0)
	person := store.PersonID(42)
	if cs.subject(pub1, person) != cs.subject(pub2, person) {
		t.Error("public subjects differ between clients")
	}
	if cs.subject(pw1, person) == cs.subject(pw2, person) || cs.subject(pw1, person) == cs.subject(pub1, person) {
		t.Error("pairwise subjects are shared")
	}
	if cs.subject(pw1, person) == cs.subject(pw1, 43) {
		t.Error("two persons share a subject")
	}
	if s := cs.subject(pw1, person); strings.Contains(s, "42") && len(s) < 40 {
		t.Errorf("subject %q looks like the internal id", s)
	}
}

func TestParseDetails(t *testing.T) {
	allowed := []string{"payment_initiation"}
	canon, shown, err := parseDetails(`[{"type":"payment_initiation","b":2,"a":"x","ok":true,"n":{"k":[1,2]}}]`, allowed)
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != `[{"a":"x","b":2,"n":{"k":[1,2]},"ok":true,"type":"payment_initiation"}]` {
		t.Errorf("canonical form %s", canon)
	}
	want := "\nZahlung\n  A: x\n  B: 2\n  N – K 1: 1\n  N – K 2: 2\n  Ok: ja"
	if shown != want {
		t.Errorf("shown %q, want %q", shown, want)
	}
	bad := []string{
		``, `{}`, `[]`, `[1]`, `[{"type":"other"}]`, `[{"a":1}]`, `[{"type":"payment_initiation"}] x`,
		`[{"type":"payment_initiation","a":"line\nbreak"}]`, `[{"type":"payment_initiation","":"x"}]`,
		`[{"type":"payment_initiation","creditor":"Apotheke \u202eDE02"}]`, `[{"type":"payment_initiation","a\u200bb":"x"}]`,
		"[{\"type\":\"payment_initiation\",\"a\":\"\u202e\"}]" + strings.Repeat(" ", 3000),
		`[` + strings.Repeat(`{"type":"payment_initiation"},`, 8) + `{"type":"payment_initiation"}]`,
		`[{"type":"other","type":"payment_initiation"}]`,
		`[{"type":"payment_initiation","amount":"1","amount":"1000"}]`,
		`[{"type":"payment_initiation","n":{"k":1,"\u006b":2}}]`,
		`[{"type":"payment_initiation","n":[{"iban":"DE02"},{"iban":"DE02","iban":"DE89"}]}]`,
	}
	for _, raw := range bad {
		if _, _, err := parseDetails(raw, allowed); err == nil {
			t.Errorf("parseDetails(%.60q) accepted", raw)
		}
	}
}

// FuzzParseDetails: whatever parseDetails accepts is shown without control
// characters and its canonical form parses to the same value again.
func FuzzParseDetails(f *testing.F) {
	f.Add(`[{"type":"t","a":"b"}]`)
	f.Add(`[{"type":"t","n":1.5e3,"x":null,"y":[true,{"z":"ä"}]}]`)
	f.Fuzz(func(t *testing.T, raw string) {
		canon, shown, err := parseDetails(raw, []string{"t"})
		if err != nil {
			return
		}
		if !utf8.ValidString(shown) || strings.ContainsFunc(shown, func(r rune) bool { return r != '\n' && isControl(r) }) {
			t.Fatalf("shown text %q has control characters", shown)
		}
		again, shown2, err := parseDetails(string(canon), []string{"t"})
		if err != nil || string(again) != string(canon) || shown2 != shown {
			t.Fatalf("canonical form does not round-trip: %s → %s (%v)", canon, again, err)
		}
		var v any
		if json.Unmarshal(canon, &v) != nil {
			t.Fatal("canonical form is not JSON")
		}
	})
}

func TestValidChallengeAndRequestID(t *testing.T) {
	if !validChallenge(strings.Repeat("A", 43)) || validChallenge(strings.Repeat("A", 42)) || validChallenge(strings.Repeat("=", 43)) {
		t.Error("validChallenge")
	}
	id := randomID()
	if !validRequestID(id) || validRequestID(id+"x") || validRequestID("../../../../../../etc/pass") {
		t.Error("validRequestID")
	}
	p := &Provider{}
	if got, ok := p.Continue(NextPrefix + id); !ok || got != loginPath+"?id="+id {
		t.Errorf("Continue = %q, %v", got, ok)
	}
	for _, bad := range []string{"", "daten", NextPrefix, NextPrefix + "x", "app-" + id + "&x=1"} {
		if _, ok := p.Continue(bad); ok {
			t.Errorf("Continue(%q) accepted", bad)
		}
	}
}
