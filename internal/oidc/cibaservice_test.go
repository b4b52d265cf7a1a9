package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// The CIBA service's tests call Start and Redeem directly, without HTTP,
// on every storage backend, with the real approval service. The phone's
// answers go to the store's one transition (what package approval does
// after it checked the phone's proof).

const paymentDetails = `[{"type":"payment_initiation","amount":"42.00","currency":"EUR","creditor":"Apotheke am Markt"}]`

// stepClock is a fixed time that a test moves.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cibaFixture is the CIBA service of a provider on one store: a person with
// a bound phone, a person without one, the CIBA client and a client that
// may not use CIBA.
type cibaFixture struct {
	p       *Provider
	st      store.Store
	clock   *stepClock
	svc     *cibaService
	clients *clients
	kasse   *client // may use CIBA
	bonus   *client // may not
	person  store.Person
	phone   store.DeviceID
	nophone store.Person
}

func newCIBAFixture(t *testing.T, st store.Store) *cibaFixture {
	t.Helper()
	ctx := t.Context()
	f := &cibaFixture{st: st, clock: &stepClock{t: time.Now().UTC().Truncate(time.Second)}, phone: "phone-1"}
	logger := slog.New(slog.DiscardHandler)
	key, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := signkey.New(st, ring, f.clock.now, signkey.Config{})
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	aud := audit.New(st, audit.GenerateKey(), f.clock.now, logger)
	apps := approval.New(st, ring, nil, aud, f.clock.now, approval.Config{}, nil, nil, logger)
	cfg := Config{Issuer: "http://127.0.0.1:1/oidc", SubjectKey: []byte(strings.Repeat("k", 32)), Clients: []ClientConfig{
		{ID: testRP, Name: "Bonusprogramm", Secret: testSecret, RedirectURIs: []string{testRedirect}},
		{ID: testCIBA, Name: "Kasse-App", Secret: testCIBAKey, CIBA: true, Scopes: []string{ScopeProfile},
			Levels: []string{"low", "substantial"}, AuthorizationDetailsTypes: []string{"payment_initiation"}},
	}}
	p, err := New(cfg, st, keys, st, apps, aud, nil, f.clock.now, logger)
	if err != nil {
		t.Fatal(err)
	}
	f.p, f.svc, f.clients = p, p.ciba, p.clients
	f.kasse, f.bonus = p.clients.byID[testCIBA], p.clients.byID[testRP]
	f.person = f.insure(t, "A12345678", "Jürgen")
	f.nophone = f.insure(t, "B23456789", "Erika")
	now := f.clock.now()
	if err := st.AddDevice(ctx, store.Device{ID: f.phone, PersonID: f.person.ID, DeviceKey: []byte{4}, PINKey: []byte{1}, KDF: "{}",
		Level: string(session.LevelSubstantial), Name: "Pixel", BoundAt: now, UpdatedAt: now}, func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return f
}

// kvnr completes a nine-character prefix with its check digit.
func kvnr(t *testing.T, prefix9 string) string {
	t.Helper()
	d, err := registry.KVNRCheckDigit(prefix9)
	if err != nil {
		t.Fatal(err)
	}
	return prefix9 + string(d)
}

// insure adds an insured person.
func (f *cibaFixture) insure(t *testing.T, prefix9, given string) store.Person {
	t.Helper()
	k := kvnr(t, prefix9)
	p := store.Person{KVNR: k, FamilyName: "Müller", GivenNames: given, BirthDate: "1970-03-14", Street: "Hauptstraße",
		HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("d"),
		UpdatedAt: f.clock.now()}
	if _, err := f.st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, err := f.st.PersonByKVNR(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// request is a valid request for the person with the phone.
func (f *cibaFixture) request() cibaRequest {
	return cibaRequest{Scopes: []string{"openid", "profile"}, ACRValues: []string{session.LevelSubstantial.ACR()},
		LoginHint: f.person.KVNR, BindingMessage: "ZAHLUNG-4711", AuthorizationDetails: paymentDetails}
}

// start starts req for the CIBA client and returns the auth_req_id.
func (f *cibaFixture) start(t *testing.T, req cibaRequest) string {
	t.Helper()
	res, err := f.svc.Start(t.Context(), f.kasse, req)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return res.AuthReqID
}

// stored reads the stored request of authReqID without changing it.
func (f *cibaFixture) stored(t *testing.T, authReqID string) store.CIBARequest {
	t.Helper()
	errPeek := errors.New("peek")
	var got store.CIBARequest
	_, err := f.st.UpdateCIBARequest(t.Context(), digest(authReqID), func(c *store.CIBARequest) error {
		got = *c
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		t.Fatalf("read CIBA request: %v", err)
	}
	return got
}

// approval returns the phone's request of the CIBA request authReqID, as
// the phone sees it.
func (f *cibaFixture) approval(t *testing.T, authReqID string) store.Approval {
	t.Helper()
	id := f.stored(t, authReqID).ApprovalID
	a, err := f.svc.approvals.Status(t.Context(), id, f.person.ID)
	if err != nil {
		t.Fatalf("approval of the CIBA request: %v", err)
	}
	return a
}

// approve answers the phone's request of authReqID with yes.
func (f *cibaFixture) approve(t *testing.T, authReqID string) {
	t.Helper()
	a := f.approval(t, authReqID)
	if _, err := f.st.ApproveApproval(t.Context(), a.ID, a.ContentHash, f.phone, "pin", f.clock.now(), nil); err != nil {
		t.Fatal(err)
	}
}

// decline answers the phone's request of authReqID with no.
func (f *cibaFixture) decline(t *testing.T, authReqID string) {
	t.Helper()
	if _, err := f.st.AnswerApproval(t.Context(), f.approval(t, authReqID).ID, f.phone, store.DeclineDeclined, f.clock.now()); err != nil {
		t.Fatal(err)
	}
}

// wantRefusal checks that err is a *cibaError with code.
func wantRefusal(t *testing.T, what string, err error, code string) *cibaError {
	t.Helper()
	var ce *cibaError
	if !errors.As(err, &ce) || ce.code != code {
		t.Fatalf("%s: %v, want a refusal %s", what, err, code)
	}
	return ce
}

// poll redeems authReqID for the CIBA client, after the poll interval.
func (f *cibaFixture) poll(t *testing.T, authReqID string) (*cibaTokenResponse, error) {
	t.Helper()
	f.clock.advance(f.stored(t, authReqID).Interval)
	return f.svc.Redeem(t.Context(), f.kasse, authReqID)
}

// TestCIBAStartRefused runs every refusal of Start.
func TestCIBAStartRefused(t *testing.T) {
	f := newCIBAFixture(t, testdb.Open(t))
	tooLong := `[{"type":"payment_initiation","note":"` + strings.Repeat("x", 600) + `"}]`
	tests := []struct {
		name   string
		client *client
		change func(r *cibaRequest)
		code   string
	}{
		{"client without CIBA", f.bonus, func(*cibaRequest) {}, "unauthorized_client"},
		{"no openid", f.kasse, func(r *cibaRequest) { r.Scopes = []string{"profile"} }, "invalid_scope"},
		{"nine scopes", f.kasse, func(r *cibaRequest) { r.Scopes = slices.Repeat([]string{"openid"}, 9) }, "invalid_scope"},
		{"offline_access", f.kasse, func(r *cibaRequest) { r.Scopes = []string{"openid", "offline_access"} }, "invalid_scope"},
		{"scope not the client's", f.kasse, func(r *cibaRequest) { r.Scopes = []string{"openid", ScopeKVNR} }, "invalid_scope"},
		{"only a level not the client's", f.kasse, func(r *cibaRequest) { r.ACRValues = []string{session.LevelHigh.ACR()} },
			"access_denied"},
		{"login_hint not a KVNR", f.kasse, func(r *cibaRequest) { r.LoginHint = "X11041167" }, "invalid_request"},
		{"binding message too long", f.kasse, func(r *cibaRequest) { r.BindingMessage = strings.Repeat("ä", 65) },
			"invalid_binding_message"},
		{"binding message with a bidi override", f.kasse, func(r *cibaRequest) { r.BindingMessage = "ZAHLUNG\u202e1147" },
			"invalid_binding_message"},
		{"no authorization_details", f.kasse, func(r *cibaRequest) { r.AuthorizationDetails = "" }, "invalid_authorization_details"},
		{"authorization_details of another type", f.kasse,
			func(r *cibaRequest) { r.AuthorizationDetails = `[{"type":"account_information"}]` }, "invalid_authorization_details"},
		{"too long for the phone", f.kasse, func(r *cibaRequest) { r.AuthorizationDetails = tooLong }, "invalid_authorization_details"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := f.request()
			tt.change(&req)
			res, err := f.svc.Start(t.Context(), tt.client, req)
			wantRefusal(t, "Start", err, tt.code)
			if res != (cibaStarted{}) {
				t.Errorf("Start refused with %+v, want no request", res)
			}
		})
	}
	if pending, err := f.svc.approvals.(*approval.Service).Pending(t.Context(), f.person.ID); err != nil || len(pending) != 0 {
		t.Errorf("refused requests asked the phone: %v %v", pending, err)
	}
}

// TestCIBAStart checks what Start stores and asks the phone, and that an
// unknown KVNR, a person without a phone and a person with too many
// unanswered requests look like anyone else.
func TestCIBAStart(t *testing.T) {
	testdb.Each(t, testCIBAStart)
}

func testCIBAStart(t *testing.T, st store.Store) {
	f := newCIBAFixture(t, st)
	ctx := t.Context()
	req := f.request()
	req.ACRValues = []string{session.LevelLow.ACR()}
	req.Scopes = []string{"profile", "openid", "profile"}
	res, err := f.svc.Start(ctx, f.kasse, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.AuthReqID) < 40 || res.Interval != 5*time.Second || res.ExpiresIn != 5*time.Minute {
		t.Errorf("Start = %+v, want a long auth_req_id, 5 s and 5 min", res)
	}
	cr := f.stored(t, res.AuthReqID)
	if cr.PersonID != f.person.ID || cr.ApprovalID == "" || cr.ClientID != testCIBA || cr.ACR != "substantial" ||
		!slices.Equal(cr.Scopes, []string{"openid", "profile"}) || !cr.LastPollAt.IsZero() || !cr.IssuedAt.IsZero() {
		t.Errorf("stored %+v", cr)
	}
	a := f.approval(t, res.AuthReqID)
	for _, s := range []string{"Kasse-App", "ZAHLUNG-4711", "Zahlung über 42,00 € an Apotheke am Markt"} {
		if !strings.Contains(a.Text, s) {
			t.Errorf("the phone's text lacks %q:\n%s", s, a.Text)
		}
	}
	var signed cibaData
	if err := json.Unmarshal(a.Data, &signed); err != nil || signed.Client != testCIBA || signed.Scope != "openid profile" ||
		signed.BindingMessage != "ZAHLUNG-4711" || !jsonSame(signed.AuthorizationDetails, cr.AuthorizationDetails) {
		t.Errorf("the phone signs %s (%v), the request stored %s", a.Data, err, cr.AuthorizationDetails)
	}
	if a.Level != "substantial" || a.Action != approval.ActionClientRequest || a.Client != "client:"+testCIBA {
		t.Errorf("approval %+v, want a substantial client.request of %s", a, testCIBA)
	}

	alike := func(what string, req cibaRequest) {
		t.Helper()
		got, err := f.svc.Start(ctx, f.kasse, req)
		if err != nil || got.Interval != res.Interval || got.ExpiresIn != res.ExpiresIn || len(got.AuthReqID) != len(res.AuthReqID) {
			t.Fatalf("%s: %+v %v, want the answer anyone gets", what, got, err)
		}
		if cr := f.stored(t, got.AuthReqID); cr.PersonID != 0 || cr.ApprovalID != "" {
			t.Errorf("%s: stored %+v, want no person and no approval", what, cr)
		}
		if _, err := f.poll(t, got.AuthReqID); !errors.Is(err, errCIBAPending) {
			t.Errorf("%s: poll %v, want authorization_pending", what, err)
		}
	}
	unknown := f.request()
	unknown.LoginHint = kvnr(t, "C34567890")
	alike("unknown KVNR", unknown)
	nophone := f.request()
	nophone.LoginHint = f.nophone.KVNR
	alike("no phone", nophone)
	// Push fatigue: the first request and two more are unanswered; a fourth
	// asks no phone.
	f.start(t, f.request())
	f.start(t, f.request())
	alike("too many unanswered", f.request())

	// A person whose every phone has a locked PIN: refused at once (403),
	// not pending until it expires.
	if _, err := f.st.UpdateDevice(ctx, f.phone, func(d *store.Device) error {
		d.PINLockedAt = f.clock.now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Start(ctx, f.kasse, f.request())
	if ce := wantRefusal(t, "every PIN locked", err, "access_denied"); ce.status != http.StatusForbidden || !strings.Contains(ce.desc, "locked") {
		t.Errorf("every PIN locked: %d %q, want 403 saying so", ce.status, ce.desc)
	}
}

// TestCIBARedeem runs every answer of Redeem, in order: the poll before the
// phone answers, slow_down, the tokens once, and the refusals.
func TestCIBARedeem(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		f := newCIBAFixture(t, st)
		ctx := t.Context()
		for _, id := range []string{"", strings.Repeat("a", 129)} {
			_, err := f.svc.Redeem(ctx, f.kasse, id)
			wantRefusal(t, "malformed auth_req_id", err, "invalid_request")
		}
		_, err := f.svc.Redeem(ctx, f.kasse, randomSecret())
		wantRefusal(t, "unknown auth_req_id", err, "invalid_grant")

		id := f.start(t, f.request())
		if _, err := f.svc.Redeem(ctx, f.kasse, id); !errors.Is(err, errCIBAPending) {
			t.Fatalf("first poll: %v, want authorization_pending", err)
		}
		f.clock.advance(4 * time.Second)
		_, err = f.svc.Redeem(ctx, f.kasse, id)
		if ce := wantRefusal(t, "poll after 4 s", err, "slow_down"); ce.interval != 10*time.Second {
			t.Errorf("slow_down interval %v, want 10s", ce.interval)
		}
		f.clock.advance(9 * time.Second) // 9 s since the last poll: still too soon
		_, err = f.svc.Redeem(ctx, f.kasse, id)
		if ce := wantRefusal(t, "poll after 9 s", err, "slow_down"); ce.interval != 15*time.Second {
			t.Errorf("slow_down interval %v, want 15s", ce.interval)
		}
		if _, err := f.poll(t, id); !errors.Is(err, errCIBAPending) {
			t.Fatalf("poll after the interval: %v, want authorization_pending", err)
		}
		_, err = f.svc.Redeem(ctx, f.bonus, id)
		wantRefusal(t, "another client's poll", err, "invalid_grant")

		f.approve(t, id)
		res, err := f.poll(t, id)
		if err != nil {
			t.Fatalf("poll after approval: %v", err)
		}
		cr := f.stored(t, id)
		if res.AccessToken == "" || res.IDToken == "" || res.RefreshToken != "" || !jsonSame(res.AuthorizationDetails, cr.AuthorizationDetails) {
			t.Errorf("tokens %+v, want access and ID token and the approved details %s", res, cr.AuthorizationDetails)
		}
		claims := payload(t, res.IDToken)
		if claims["sub"] != f.clients.subject(f.kasse, f.person.ID) || claims["acr"] != session.LevelSubstantial.ACR() ||
			!slices.Equal(anyStrings(claims["amr"]), []string{"hwk", "pin", "mfa"}) || !slices.Contains(anyStrings(claims["aud"]), testCIBA) {
			t.Errorf("ID token claims %v", claims)
		}
		if cr.IssuedAt.IsZero() {
			t.Error("the request is not marked redeemed")
		}
		_, err = f.poll(t, id)
		wantRefusal(t, "poll after the tokens", err, "invalid_grant")
		if n := f.tokens(t, cr.ID); n != 1 {
			t.Errorf("%d tokens issued, want 1 access token", n)
		}

		approved := f.start(t, f.request())
		f.approve(t, approved)
		nophone := f.request()
		nophone.LoginHint = f.nophone.KVNR
		unknown := f.start(t, nophone)
		if _, err := f.poll(t, unknown); !errors.Is(err, errCIBAPending) {
			t.Fatalf("no phone: %v, want authorization_pending", err)
		}
		f.clock.advance(5 * time.Minute)
		for what, id := range map[string]string{"approved, not redeemed": approved, "no phone": unknown} {
			if _, err := f.poll(t, id); !errors.Is(err, errCIBAExpired) {
				t.Errorf("%s, after expiry: %v, want expired_token", what, err)
			}
		}

		declined := f.start(t, f.request())
		f.decline(t, declined)
		for range 2 {
			if _, err := f.poll(t, declined); !errors.Is(err, errCIBADenied) {
				t.Fatalf("declined: %v, want access_denied", err)
			}
		}

		withdrawn := f.start(t, f.request())
		f.start(t, f.request()) // the client asks again: the phone shows only the newer
		if _, err := f.poll(t, withdrawn); !errors.Is(err, errCIBAExpired) {
			t.Fatalf("withdrawn: %v, want expired_token", err)
		}
	})
}

// TestCIBARedeemOnce polls an approved request in parallel: exactly one
// poll gets tokens, on every backend. With the poll interval the others
// are told to slow down or that the request is redeemed; without it every
// poll passes the interval check and approval.Redeem alone decides.
func TestCIBARedeemOnce(t *testing.T) {
	const polls = 12
	testdb.Each(t, func(t *testing.T, st store.Store) {
		f := newCIBAFixture(t, st)
		for _, interval := range []time.Duration{5 * time.Second, 0} {
			t.Run("interval "+interval.String(), func(t *testing.T) {
				id := f.start(t, f.request())
				if _, err := f.st.UpdateCIBARequest(t.Context(), digest(id), func(c *store.CIBARequest) error {
					c.Interval = interval
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				f.approve(t, id)
				f.clock.advance(time.Second)
				errs := make([]error, polls)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range polls {
					wg.Go(func() {
						<-start
						_, errs[i] = f.svc.Redeem(t.Context(), f.kasse, id)
					})
				}
				close(start)
				wg.Wait()
				var issued int
				for _, err := range errs {
					var ce *cibaError
					switch {
					case err == nil:
						issued++
					case !errors.As(err, &ce):
						t.Errorf("poll failed: %v", err)
					case ce.code == "invalid_grant", ce.code == "slow_down" && interval > 0:
					default:
						t.Errorf("poll refused with %v", err)
					}
				}
				if issued != 1 {
					t.Errorf("%d of %d parallel polls got tokens, want exactly 1", issued, polls)
				}
				if n := f.tokens(t, f.stored(t, id).ID); n != 1 {
					t.Errorf("%d tokens stored, want 1", n)
				}
			})
		}
	})
}

// TestCIBAServerErrors checks that a store that fails is the server's
// error, which the handlers answer server_error, and never a refusal the
// client would act on.
func TestCIBAServerErrors(t *testing.T) {
	f := newCIBAFixture(t, testdb.Open(t))
	id := f.start(t, f.request())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.svc.Start(ctx, f.kasse, f.request())
	var ce *cibaError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ce) {
		t.Errorf("Start on a failing store: %v, want the store's error", err)
	}
	_, err = f.svc.Redeem(ctx, f.kasse, id)
	if !errors.Is(err, context.Canceled) || errors.As(err, &ce) {
		t.Errorf("Redeem on a failing store: %v, want the store's error", err)
	}
}

// TestSweepCIBA checks that Sweep removes expired CIBA requests: a poll
// then finds nothing.
func TestSweepCIBA(t *testing.T) {
	f := newCIBAFixture(t, testdb.Open(t))
	expired := f.start(t, f.request())
	f.clock.advance(5*time.Minute + time.Second)
	live := f.start(t, f.request())
	if err := f.p.Sweep(t.Context(), f.clock.now()); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Redeem(t.Context(), f.kasse, expired)
	wantRefusal(t, "swept request", err, "invalid_grant")
	if _, err := f.svc.Redeem(t.Context(), f.kasse, live); !errors.Is(err, errCIBAPending) {
		t.Errorf("live request after the sweep: %v, want authorization_pending", err)
	}
}

// tokens counts the tokens of the family (by revoking them: call it last).
func (f *cibaFixture) tokens(t *testing.T, family string) int64 {
	t.Helper()
	n, err := f.st.RevokeTokenFamily(t.Context(), family, f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// payload decodes a JWT's claims without verifying them.
func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// anyStrings reads a JSON string or array of strings.
func anyStrings(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// jsonSame reports whether a and b are the same JSON value.
func jsonSame(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return string(ca) == string(cb)
}

// TestCIBAStartTakesItsMinimumTime: whether the KVNR names a person whose
// phone is asked, a person without a phone or nobody, the answer comes no
// earlier than CIBAMinTime after the request (the floor that keeps the
// answer's time from telling which KVNRs exist; the scale suite's
// TestEnumerationTiming measures the distributions).
func TestCIBAStartTakesItsMinimumTime(t *testing.T) {
	f := newCIBAFixture(t, testdb.Open(t))
	f.svc.cfg.CIBAMinTime = 250 * time.Millisecond
	unknown := f.request()
	unknown.LoginHint = kvnr(t, "C34567890")
	nophone := f.request()
	nophone.LoginHint = f.nophone.KVNR
	for what, req := range map[string]cibaRequest{"a person with a phone": f.request(), "no phone": nophone, "unknown KVNR": unknown} {
		start := time.Now()
		if _, err := f.svc.Start(t.Context(), f.kasse, req); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < f.svc.cfg.CIBAMinTime {
			t.Errorf("%s: answered after %v, before the floor of %v", what, took, f.svc.cfg.CIBAMinTime)
		}
	}
}
