package eid

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/proofing"
)

// clock is the simulator's clock; the client's runs skew ahead of it.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	skew time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) ClientNow() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t.Add(c.skew) }

func (c *clock) SetSkew(d time.Duration) { c.mu.Lock(); c.skew = d; c.mu.Unlock() }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const redirectURL = "http://127.0.0.1:9/eid/callback"

// Indexes into identities.
const (
	plain = iota
	verified
	userinfoOnly
	substantial
	rogue
)

func identities() []sim.Identity {
	addr := sim.Address{Street: "Musterstraße 12a", PostalCode: "10115", City: "Berlin", Country: "DE"}
	return []sim.Identity{
		plain:        {Label: "Passt zum Register: Jürgen Müller", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14", Address: addr, Nationality: "DE"},
		verified:     {Label: "OIDC4IA", FamilyName: "Schmidt", GivenNames: "Anna", BirthName: "Meier", BirthDate: "1985-07", UseVerifiedClaims: true},
		userinfoOnly: {Label: "Nur Userinfo", FamilyName: "Weber", GivenNames: "Paul", BirthDate: "1960", ClaimsOnlyInUserInfo: true},
		substantial:  {Label: "Nur substantiell", FamilyName: "Low", BirthDate: "1990", ACR: sim.ACRSubstantial},
		rogue:        {Label: "Falsche Signatur", FamilyName: "Rogue", BirthDate: "1990", SignWithUnpublishedKey: true},
	}
}

type harness struct {
	sim     *sim.Simulator
	client  *Client
	clock   *clock
	browser *sim.Browser
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	s, err := sim.New(sim.Config{
		Insecure:   true,
		Issuer:     issuer,
		Clients:    []sim.Client{{ID: "pforte", Secret: "secret", RedirectURIs: []string{redirectURL}}},
		Identities: identities(),
		Now:        h.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sim = s
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	h.client, err = New(t.Context(), Config{
		Issuer: issuer, ClientID: "pforte", ClientSecret: NewSecret("secret"), RedirectURL: redirectURL, Now: h.clock.ClientNow,
	}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	h.browser = &sim.Browser{Client: srv.Client()}
	return h
}

// callback starts an identification, picks the choice on the simulator's page
// and returns the request and the callback's query.
func (h *harness) callback(t *testing.T, choice sim.Choice) (AuthRequest, url.Values) {
	t.Helper()
	req, err := h.client.Start()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := h.browser.Authorize(t.Context(), req.URL, choice)
	if err != nil {
		t.Fatal(err)
	}
	return req, loc.Query()
}

func TestRoundTrip(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		identity int
		want     proofing.Claims
	}{
		{plain, proofing.Claims{
			FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14", Nationality: "DE",
			Address: proofing.Address{Street: "Musterstraße 12a", PostalCode: "10115", City: "Berlin", Country: "DE"},
		}},
		{verified, proofing.Claims{
			TrustFramework: "eidas", FamilyName: "Schmidt", GivenNames: "Anna", BirthName: "Meier", BirthDate: "1985-07",
		}},
		{userinfoOnly, proofing.Claims{FamilyName: "Weber", GivenNames: "Paul", BirthDate: "1960"}},
	}
	for _, tc := range tests {
		t.Run(identities()[tc.identity].Label, func(t *testing.T) {
			req, q := h.callback(t, sim.Choice{Identity: tc.identity})
			state, code, err := ParseCallback(q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.client.Finish(t.Context(), req, state, code)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(proofing.Claims{}, "Subject", "TransactionID")); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if got.Subject == "" || got.TransactionID == "" {
				t.Errorf("subject %q, transaction id %q: want both", got.Subject, got.TransactionID)
			}
			// A second identification with the same card gives the same subject.
			req2, q2 := h.callback(t, sim.Choice{Identity: tc.identity})
			again, err := h.client.Finish(t.Context(), req2, q2.Get("state"), q2.Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			if again.Subject != got.Subject || again.TransactionID == got.TransactionID {
				t.Errorf("second identification: subject %q txn %q, first %q %q", again.Subject, again.TransactionID, got.Subject, got.TransactionID)
			}
		})
	}
}

func TestStartURL(t *testing.T) {
	h := newHarness(t)
	req, err := h.client.Start()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"acr_values": ACRHigh, "code_challenge_method": "S256", "response_type": "code",
		"scope": "openid profile birthdate address", "state": req.State.Reveal(), "nonce": req.Nonce.Reveal(),
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(req.State.Reveal()) < 22 || len(req.Nonce.Reveal()) < 22 || len(req.Verifier.Reveal()) < 43 {
		t.Error("state, nonce or verifier shorter than 128 bits")
	}
	other, _ := h.client.Start()
	if other.State.Reveal() == req.State.Reveal() || other.Nonce.Reveal() == req.Nonce.Reveal() {
		t.Error("two requests share state or nonce")
	}
	for _, s := range []string{fmt.Sprint(req), fmt.Sprintf("%#v", req), fmt.Sprintf("%+v", req.State), req.LogValue().String()} {
		if strings.Contains(s, req.State.Reveal()) || strings.Contains(s, req.Verifier.Reveal()) {
			t.Errorf("printed AuthRequest %q shows a secret", s)
		}
	}
}

func TestFinishRefuses(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name     string
		identity int
		run      func(t *testing.T, req AuthRequest, state, code string) error
		want     error
		cause    string // part of the error text
	}{
		{"wrong state", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			_, err := h.client.Finish(t.Context(), req, state+"x", code)
			return err
		}, ErrStateMismatch, ""},
		{"no stored state", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			req.State = Secret{}
			_, err := h.client.Finish(t.Context(), req, "", code)
			return err
		}, ErrStateMismatch, ""},
		{"replayed code", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			if _, err := h.client.Finish(t.Context(), req, state, code); err != nil {
				t.Fatal(err)
			}
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrPartner, "invalid_grant"},
		{"wrong nonce", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			req.Nonce = NewSecret("tampered")
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrStateMismatch, "nonce"},
		{"wrong verifier", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			other, _ := h.client.Start()
			req.Verifier = other.Verifier
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrPartner, "invalid_grant"},
		{"ID token signed by another key", rogue, func(t *testing.T, req AuthRequest, state, code string) error {
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrPartner, "signature"},
		{"acr too low", substantial, func(t *testing.T, req AuthRequest, state, code string) error {
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrInsufficientLevel, "substantial"},
		{"expired ID token", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			// The client checks the token a second after it expired, while
			// the code is still fresh for the simulator.
			h.clock.SetSkew(sim.TokenLifetime + time.Second)
			defer h.clock.SetSkew(0)
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrPartner, "expired"},
		{"expired code", plain, func(t *testing.T, req AuthRequest, state, code string) error {
			h.clock.Advance(sim.CodeLifetime + time.Second)
			_, err := h.client.Finish(t.Context(), req, state, code)
			return err
		}, ErrPartner, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, q := h.callback(t, sim.Choice{Identity: tc.identity})
			state, code, err := ParseCallback(q)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.run(t, req, state, code)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.cause) {
				t.Errorf("err = %v, want the cause %q", err, tc.cause)
			}
		})
	}
}

func TestParseCallback(t *testing.T) {
	h := newHarness(t)
	_, q := h.callback(t, sim.Choice{Cancel: true})
	if _, _, err := ParseCallback(q); !errors.Is(err, ErrDenied) {
		t.Errorf("cancelled: err = %v, want ErrDenied", err)
	}
	tests := []struct {
		query     string
		wantState string
		wantCode  string
		want      error
	}{
		{"state=s&code=c", "s", "c", nil},
		{"state=s&error=access_denied", "s", "", ErrDenied},
		{"state=s&error=server_error", "s", "", ErrPartner},
		{"state=s&error=%3Cscript%3E", "s", "", ErrPartner},
		{"code=c", "", "", ErrStateMismatch},
		{"state=s", "s", "", ErrPartner},
		{"state=s&state=t&code=c", "", "", ErrPartner},
		{"", "", "", ErrStateMismatch},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		state, code, err := ParseCallback(q)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) || state != tc.wantState || code != tc.wantCode {
			t.Errorf("ParseCallback(%q) = %q, %q, %v; want %q, %q, %v", tc.query, state, code, err, tc.wantState, tc.wantCode, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "<script>") {
			t.Errorf("error %q repeats the partner's text", err)
		}
	}
}

func TestConfig(t *testing.T) {
	good := Config{Issuer: "https://eid.example", ClientID: "c", ClientSecret: NewSecret("s"), RedirectURL: "https://pforte.example/eid/callback"}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	d := good.withDefaults()
	want := Config{
		Issuer: good.Issuer, ClientID: "c", ClientSecret: good.ClientSecret, RedirectURL: good.RedirectURL,
		Scopes: []string{"openid", "profile", "birthdate", "address"}, ACRValues: ACRHigh, RequireACR: "high",
		HTTPTimeout: 10 * time.Second,
	}
	if diff := cmp.Diff(want, d, cmp.AllowUnexported(Secret{}), cmpopts.IgnoreFields(Config{}, "Now")); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	bad := Config{Issuer: "http://eid.example", RedirectURL: "ftp://x", RequireACR: "gold", HTTPTimeout: -1}
	err := bad.Validate()
	for _, w := range []string{"issuer", "client id", "client secret", "redirect URL", "require acr", "timeout"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate(bad) = %v, want it to report %q", err, w)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v %s", good, good, good, good.ClientSecret); strings.Contains(s, `"s"`) || strings.Contains(s, "{s}") {
		t.Errorf("config prints its secret: %s", s)
	}
	if _, err := New(t.Context(), bad, nil); err == nil {
		t.Error("New(bad) succeeded")
	}
}
