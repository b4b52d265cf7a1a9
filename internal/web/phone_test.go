package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

const (
	pin            = "482915"
	initialForTest = "ABCDEFGHJKLMNPQR"
)

// withPassword gives the person an account with the password strong, as if
// they had replaced the initial password already.
func (p *portal) withPassword(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	if _, err := p.accounts.SetInitialPassword(ctx, p.person.ID, initialForTest); err != nil {
		t.Fatal(err)
	}
	res, err := p.accounts.Login(ctx, account.Login{KVNR: kvnr, Password: initialForTest}, session.KindBrowser)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.accounts.ChangePassword(ctx, res.Token, res.Session, initialForTest, strong, ""); err != nil {
		t.Fatal(err)
	}
}

func challengeOf(c device.Challenge) appclient.Challenge {
	return appclient.Challenge{ID: c.ID, Nonce: c.Nonce, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt}
}

// bindPhone binds a new phone with an activation letter's code and the
// password (level substantial); the reference app client plays the phone.
func (p *portal) bindPhone(t *testing.T) *appclient.Device {
	t.Helper()
	ctx := t.Context()
	code, err := proofing.NewActivationCode()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.st.PutOneTime(ctx, store.OneTime{Kind: device.ActivationKind, Digest: proofing.CodeDigest(code),
		Subject: "person:" + strconv.FormatInt(int64(p.person.ID), 10), CreatedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: 8 * 1024, Threads: 1}
	c, err := p.devices.NewChallenge(ctx, device.PurposeBind, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := phone.SignBind(pin, "Pixel von Jürgen", "Pixel 8", challengeOf(c))
	if err != nil {
		t.Fatal(err)
	}
	bound, err := p.devices.BindWithLetter(ctx, device.BindRequest{KVNR: kvnr, Password: strong, ActivationCode: code,
		DeviceKey: b.DevicePublicKey, PINKey: b.PINPublicKey, KDF: string(b.KDF), Name: b.Name, Model: b.Model,
		Proof: device.Proof{ChallengeID: c.ID, DeviceSignature: b.Proof.DeviceSignature, PINSignature: b.Proof.PINSignature}})
	if err != nil {
		t.Fatal(err)
	}
	phone.ID = string(bound.ID)
	return phone
}

// pending returns the person's one pending request of action, as the phone
// sees it (without the number).
func (p *portal) pending(t *testing.T, action string) store.Approval {
	t.Helper()
	list, err := p.approvals.Pending(t.Context(), p.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found []store.Approval
	for _, a := range list {
		if a.Action == action {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d pending %s requests, want 1", len(found), action)
	}
	return found[0]
}

// approve answers a on the phone; tapped is the number tapped (portal.login
// only). The app reports "face", which a session never carries as amr: the
// PIN key's signature is all the server sees.
func (p *portal) approve(t *testing.T, phone *appclient.Device, a store.Approval, tapped int) error {
	t.Helper()
	c, err := p.devices.NewChallengeFor(t.Context(), device.PurposeApprove, store.DeviceID(phone.ID), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := phone.Sign(pin, challengeOf(c), appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.approvals.Approve(t.Context(), a.ID, store.DeviceID(phone.ID),
		device.Proof{ChallengeID: c.ID, DeviceSignature: proof.DeviceSignature, PINSignature: proof.PINSignature}, "face", tapped, "")
	return err
}

// declineOnPhone answers a on the phone with "no", proven by the device key
// alone.
func (p *portal) declineOnPhone(t *testing.T, phone *appclient.Device, a store.Approval, notMe bool) {
	t.Helper()
	c, err := p.devices.NewChallengeFor(t.Context(), device.PurposeDecline, store.DeviceID(phone.ID), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := phone.SignDevice(challengeOf(c), appclient.ContentHash(a.Action, a.Text, a.Data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.approvals.Decline(t.Context(), a.ID, store.DeviceID(phone.ID),
		device.Proof{ChallengeID: c.ID, DeviceSignature: proof.DeviceSignature}, notMe, ""); err != nil {
		t.Fatal(err)
	}
}

var numberRE = regexp.MustCompile(`(?:Tippen Sie in der Service-App auf die Zahl|In the service app, tap the number) ([0-9]{2})\.`)

// shownNumber reads the number the waiting page shows.
func shownNumber(t *testing.T, body string) int {
	t.Helper()
	m := numberRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the waiting page shows no number:\n%s", body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// cookie returns the value of the portal cookie name ("" when unset).
func (p *portal) cookie(t *testing.T, name string) string {
	t.Helper()
	u, _ := url.Parse(p.url)
	for _, c := range p.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// login posts the login form with the person's password.
func (p *portal) login(t *testing.T) answer {
	t.Helper()
	return p.post(t, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {strong}})
}

// stepUp logs in and confirms the login on the phone.
func (p *portal) stepUp(t *testing.T, phone *appclient.Device) {
	t.Helper()
	a := p.login(t)
	n := shownNumber(t, a.body)
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), n); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, "/anmelden/freigabe"); a.path != "/konto" || !strings.Contains(a.body, "substantiell") {
		t.Fatalf("after the confirmation: %s (%d)\n%s", a.path, a.status, a.body)
	}
}

func TestStepUpLogin(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)

	resp := p.do(t, p.noFollow(), func() *http.Request {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/anmelden",
			strings.NewReader(url.Values{"kvnr": {kvnr}, "password": {strong}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}())
	if resp.status != http.StatusSeeOther || resp.header.Get("Location") != "/anmelden/freigabe" {
		t.Fatalf("login: %d to %q", resp.status, resp.header.Get("Location"))
	}
	var stepUp *http.Cookie
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name == "__Host-pforte_stepup" {
			stepUp = c
		}
	}
	if stepUp == nil || !stepUp.HttpOnly || !stepUp.Secure || stepUp.SameSite != http.SameSiteLaxMode || stepUp.Path != "/" {
		t.Fatalf("step-up cookie %+v", stepUp)
	}
	low := p.cookie(t, "__Host-pforte_session")
	if low == "" {
		t.Fatal("no session cookie after the password")
	}

	wait := p.get(t, "/anmelden/freigabe")
	if wait.status != http.StatusOK || !has(wait.body, `<script src="/static/wait.js" defer></script>`, "data-waiting", "Status prüfen", "<h1>Anmeldung bestätigen</h1>") || !oneH1(wait.body) {
		t.Fatalf("waiting page: %d\n%s", wait.status, wait.body)
	}
	if csp := wait.header.Get("Content-Security-Policy"); csp != p.waitingCSP() {
		t.Errorf("waiting page CSP %q", csp)
	}
	n := shownNumber(t, wait.body)
	a := p.pending(t, approval.ActionPortalLogin)
	full, err := p.approvals.Status(t.Context(), a.ID, p.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Number != n || !slices.Contains(full.Choices, n) || full.Client != "portal" {
		t.Errorf("page shows %d; request has number %d, choices %v, client %q", n, full.Number, full.Choices, full.Client)
	}
	if !regexp.MustCompile(`^Anmeldung im Online-Portal am [0-9]{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) [0-9]{4} um [0-9]{2}:[0-9]{2} Uhr$`).MatchString(a.Text) {
		t.Errorf("request text %q", a.Text)
	}
	var data map[string]string
	if err := json.Unmarshal(a.Data, &data); err != nil || data["client"] != "portal" || data["ip"] != "127.0.0.1" || len(data) != 2 {
		t.Errorf("request data %s (%v)", a.Data, err)
	}

	// Until the phone answers, the session is low and the personal data
	// stay closed.
	if a := p.get(t, "/konto"); !strings.Contains(a.body, "<strong>normal</strong>") || !strings.Contains(a.body, "Mit dem Smartphone bestätigen") {
		t.Errorf("account page before the confirmation:\n%s", a.body)
	}
	if a := p.get(t, "/daten"); a.status != http.StatusForbidden || !strings.Contains(a.body, "Bestätigung mit dem Smartphone nötig") ||
		strings.Contains(a.body, "Hauptstraße") {
		t.Errorf("/daten at level low: %d\n%s", a.status, a.body)
	}
	if again := p.get(t, "/anmelden/freigabe"); shownNumber(t, again.body) != n {
		t.Error("the number changed on reload")
	}

	if got := p.probe(t, "/anmelden/freigabe"); got != "waiting" {
		t.Errorf("the waiting page's question before the phone answered: %q, want waiting", got)
	}
	if err := p.approve(t, phone, a, n); err != nil {
		t.Fatal(err)
	}
	// The script's question only reads: the page, loaded anew, raises the
	// session (a question that followed on would use the one-time step of
	// a sign-in for an application, and the page would then find it used).
	if got := p.probe(t, "/anmelden/freigabe"); got != "done" {
		t.Errorf("the waiting page's question after the phone answered: %q, want done", got)
	}
	if p.cookie(t, "__Host-pforte_session") != low || p.cookie(t, "__Host-pforte_stepup") == "" {
		t.Fatal("the waiting page's question changed the session")
	}
	done := p.get(t, "/anmelden/freigabe")
	if done.path != "/konto" || !strings.Contains(done.body, "<strong>substantiell</strong>") {
		t.Fatalf("after the confirmation: %s\n%s", done.path, done.body)
	}
	raised := p.cookie(t, "__Host-pforte_session")
	if raised == "" || raised == low {
		t.Fatal("the session cookie did not change with the level")
	}
	if p.cookie(t, "__Host-pforte_stepup") != "" {
		t.Error("the step-up cookie outlived the confirmation")
	}
	s, err := p.st.SessionByHash(t.Context(), session.Token(raised).Hash(), time.Now())
	if err != nil || s.Level != "substantial" || strings.Join(s.AMR, " ") != "pwd hwk pin" {
		t.Errorf("raised session %+v, %v", s, err)
	}
	if _, err := p.st.SessionByHash(t.Context(), session.Token(low).Hash(), time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the low session still lives: %v", err)
	}
	if a := p.get(t, "/daten"); a.status != http.StatusOK || !has(a.body, "Jürgen Müller", "Hauptstraße 1", "10115 Berlin") {
		t.Errorf("/daten after the confirmation: %d\n%s", a.status, a.body)
	}
	// The waiting page without a request goes on to the account.
	if a := p.get(t, "/anmelden/freigabe"); a.path != "/konto" {
		t.Errorf("waiting page without a request ended at %s", a.path)
	}
}

func TestStepUpWrongNumber(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)
	n := shownNumber(t, p.login(t).body)
	a := p.pending(t, approval.ActionPortalLogin)
	wrong := 0
	for _, c := range a.Choices {
		if c != n {
			wrong = c
		}
	}
	if err := p.approve(t, phone, a, wrong); !errors.Is(err, approval.ErrWrongNumber) {
		t.Fatalf("approve with the wrong number: %v", err)
	}
	// A mistap is no "this was not me": the page asks to sign in again,
	// and nothing is flagged for staff.
	got := p.get(t, "/anmelden/freigabe")
	if got.status != http.StatusForbidden || !has(got.body, "Zahl passt nicht — bitte erneut anmelden", `href="/anmelden"`) ||
		strings.Contains(got.body, "nicht waren") {
		t.Fatalf("declined page: %d\n%s", got.status, got.body)
	}
	if stored, err := p.st.ApprovalByID(t.Context(), a.ID); err != nil || stored.NotMe || stored.DeclineReason != store.DeclineWrongNumber {
		t.Errorf("stored after a mistap: %+v, %v; want declined for the wrong number, no not-me flag", stored, err)
	}
	if a := p.get(t, "/konto"); a.path != "/anmelden" {
		t.Errorf("the session survived the decline: /konto ended at %s", a.path)
	}
}

func TestStepUpDeclinedAndExpired(t *testing.T) {
	clk := &testClock{t: time.Now()}
	p := newPortal(t, options{tls: true, now: clk.now})
	p.withPassword(t)
	phone := p.bindPhone(t)

	// Declined without "not me": the session ends, no password hint.
	p.login(t)
	a := p.pending(t, approval.ActionPortalLogin)
	p.declineOnPhone(t, phone, a, false)
	got := p.get(t, "/anmelden/freigabe")
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "Anmeldung abgelehnt") || strings.Contains(got.body, "nicht waren") {
		t.Errorf("declined page: %d\n%s", got.status, got.body)
	}
	if a := p.get(t, "/konto"); a.path != "/anmelden" {
		t.Errorf("the session survived the decline: %s", a.path)
	}

	// Expired: the session stays low and may ask again.
	p.login(t)
	clk.advance(6 * time.Minute)
	got = p.get(t, "/anmelden/freigabe")
	if got.status != http.StatusOK || !has(got.body, "Bestätigung abgelaufen", "Erneut an das Smartphone senden") || strings.Contains(got.body, "http-equiv") {
		t.Fatalf("expired page: %d\n%s", got.status, got.body)
	}
	if a := p.get(t, "/konto"); a.path != "/konto" || !strings.Contains(a.body, "<strong>normal</strong>") {
		t.Errorf("after expiry /konto: %s", a.path)
	}
	again := p.post(t, "/anmelden/freigabe", url.Values{"weiter": {"daten"}})
	if again.path != "/anmelden/freigabe" || again.query != "weiter=daten" {
		t.Fatalf("asking again ended at %s?%s", again.path, again.query)
	}
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, again.body)); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, "/anmelden/freigabe?weiter=daten"); a.path != "/daten" || !strings.Contains(a.body, "Hauptstraße 1") {
		t.Errorf("after the second confirmation: %s\n%s", a.path, a.body)
	}
}

func TestStepUpTooManyPending(t *testing.T) {
	p := newPortal(t, options{tls: true, approval: approval.Config{MaxPendingLogins: 1}})
	p.withPassword(t)
	p.bindPhone(t)
	if a := p.login(t); a.path != "/anmelden/freigabe" {
		t.Fatalf("first login ended at %s", a.path)
	}
	second := p.login(t)
	if second.status != http.StatusTooManyRequests || !strings.Contains(second.body, "Zu viele Anmeldeversuche — bitte warten Sie einige Minuten") {
		t.Fatalf("second login: %d\n%s", second.status, second.body)
	}
	if second.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if p.cookie(t, "__Host-pforte_session") != "" {
		t.Error("the refused login kept its session cookie")
	}
	if a := p.get(t, "/konto"); a.path != "/anmelden" {
		t.Errorf("the refused login's session lives: %s", a.path)
	}
}

func TestNoDeviceKeepsLogin(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	a := p.login(t)
	if a.path != "/konto" || !strings.Contains(a.body, "<strong>normal</strong>") || strings.Contains(a.body, "Mit dem Smartphone bestätigen") ||
		!has(a.body, `href="/daten"`, `href="/geraete"`) {
		t.Fatalf("login without a phone: %s\n%s", a.path, a.body)
	}
	need := p.get(t, "/daten")
	if need.status != http.StatusForbidden || !has(need.body, `href="/geraete"`, `action="/eid/bestaetigen"`) || strings.Contains(need.body, `action="/anmelden/freigabe"`) {
		t.Errorf("/daten without a phone: %d\n%s", need.status, need.body)
	}
	for _, path := range []string{"/daten/anschrift", "/daten/bankverbindung", "/freigabe/apr_x"} {
		if a := p.get(t, path); a.status != http.StatusForbidden {
			t.Errorf("%s at level low: %d", path, a.status)
		}
	}
	if a := p.post(t, "/daten/anschrift", url.Values{"street": {"Lindenallee"}, "postal_code": {"04109"}, "city": {"Leipzig"}}); a.status != http.StatusForbidden {
		t.Errorf("POST /daten/anschrift at level low: %d", a.status)
	}
	if a := p.post(t, "/anmelden/freigabe", nil); a.status != http.StatusConflict || !strings.Contains(a.body, "Kein Smartphone verbunden") {
		t.Errorf("step-up without a phone: %d\n%s", a.status, a.body)
	}
	if a := p.get(t, "/geraete"); a.status != http.StatusOK || !strings.Contains(a.body, "noch kein Smartphone verbunden") {
		t.Errorf("/geraete without a phone: %d\n%s", a.status, a.body)
	}
}

func TestPersonalDataChanges(t *testing.T) {
	clk := &testClock{t: time.Now()}
	p := newPortal(t, options{tls: true, now: clk.now})
	p.withPassword(t)
	phone := p.bindPhone(t)
	p.stepUp(t, phone)

	data := p.get(t, "/daten")
	if data.status != http.StatusOK || !oneH1(data.body) || !has(data.body, "<h1>Meine Daten</h1>", "Jürgen Müller", "Hauptstraße 1", "10115 Berlin",
		"Diese Anschrift ist bestätigt", "keine Bankverbindung", `href="/daten/anschrift"`, `href="/daten/bankverbindung"`) {
		t.Fatalf("/daten: %d\n%s", data.status, data.body)
	}
	form := p.get(t, "/daten/anschrift")
	if !has(form.body, `value="Hauptstraße"`, `value="10115"`, `<label for="street"`, `<label for="postal_code"`) {
		t.Errorf("address form is not filled in:\n%s", form.body)
	}

	bad := p.post(t, "/daten/anschrift", url.Values{"street": {"Lindenallee"}, "house_number": {"3"}, "postal_code": {"041"}, "city": {"Leipzig"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(summary(bad.body), `href="#postal_code"`) ||
		!strings.Contains(bad.body, `value="Lindenallee"`) || !strings.Contains(bad.body, "<title>Fehler: ") {
		t.Errorf("bad postal code: %d\n%s", bad.status, bad.body)
	}
	letters := len(p.node.Letters.Paths())
	wait := p.post(t, "/daten/anschrift", url.Values{"street": {"Lindenallee"}, "house_number": {"3"}, "postal_code": {"04109"}, "city": {"Leipzig"}})
	if !strings.HasPrefix(wait.path, "/freigabe/apr_") || !has(wait.body, "Bitte bestätigen Sie die Änderung in der Service-App",
		"Neue Anschrift: Lindenallee 3, 04109 Leipzig", `<script src="/static/wait.js" defer></script>`, "Status prüfen") {
		t.Fatalf("waiting page: %s\n%s", wait.path, wait.body)
	}
	a := p.pending(t, approval.ActionAddressChange)
	if err := p.approve(t, phone, a, 0); err != nil {
		t.Fatal(err)
	}
	done := p.get(t, wait.path)
	if !strings.Contains(done.body, "Ihre neue Anschrift ist gespeichert. Wir schicken eine Bestätigung an Ihre bisherige Anschrift.") {
		t.Fatalf("after the approval:\n%s", done.body)
	}
	if again := p.get(t, wait.path); again.body != done.body {
		t.Error("reloading the confirmation changed it")
	}
	// The notice to the old address goes out just after the change.
	p.node.Letters.Wait(t, letters+1)
	if a := p.get(t, "/daten"); !has(a.body, "Lindenallee 3", "04109 Leipzig", "nicht bestätigt") {
		t.Errorf("/daten after the change:\n%s", a.body)
	}

	// Bank account: a wrong IBAN stays on the form; a declined change
	// changes nothing; an approved one shows masked.
	if bad := p.post(t, "/daten/bankverbindung", url.Values{"iban": {"DE00 1234"}}); bad.status != http.StatusUnprocessableEntity ||
		!strings.Contains(summary(bad.body), `href="#iban"`) {
		t.Errorf("bad IBAN: %d\n%s", bad.status, bad.body)
	}
	wait = p.post(t, "/daten/bankverbindung", url.Values{"iban": {"DE89 3704 0044 0532 0130 00"}})
	if !strings.Contains(wait.body, "Neue Bankverbindung (IBAN): DE89 3704 0044 0532 0130 00") {
		t.Fatalf("bank waiting page: %s\n%s", wait.path, wait.body)
	}
	p.declineOnPhone(t, phone, p.pending(t, approval.ActionBankChange), false)
	if a := p.get(t, wait.path); !strings.Contains(a.body, "Änderung abgelehnt") {
		t.Errorf("declined bank change:\n%s", a.body)
	}
	wait = p.post(t, "/daten/bankverbindung", url.Values{"iban": {"DE89370400440532013000"}})
	if err := p.approve(t, phone, p.pending(t, approval.ActionBankChange), 0); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, wait.path); !strings.Contains(a.body, "Ihre neue Bankverbindung ist gespeichert") {
		t.Errorf("approved bank change:\n%s", a.body)
	}
	if a := p.get(t, "/daten"); !strings.Contains(a.body, "DE89 **** **** **** **30 00") || strings.Contains(a.body, "0532") {
		t.Errorf("/daten does not show the masked IBAN:\n%s", a.body)
	}

	// Expired: nothing changes.
	wait = p.post(t, "/daten/anschrift", url.Values{"street": {"Fremdweg"}, "house_number": {"1"}, "postal_code": {"20095"}, "city": {"Hamburg"}})
	clk.advance(6 * time.Minute)
	if a := p.get(t, wait.path); !strings.Contains(a.body, "Änderung abgelaufen") {
		t.Errorf("expired change:\n%s", a.body)
	}

	// Unknown, malformed and foreign ids are 404.
	for _, id := range []string{"apr_unbekannt", "%3Cscript%3E", strings.Repeat("a", 65)} {
		if a := p.get(t, "/freigabe/"+id); a.status != http.StatusNotFound {
			t.Errorf("/freigabe/%s: %d, want 404", id, a.status)
		}
	}
	login, err := p.approvals.Create(t.Context(), p.person.ID, approval.ActionPortalLogin, "Anmeldung", []byte(`{}`), "", "portal", session.LevelLow)
	if err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, "/freigabe/"+login.ID); a.status != http.StatusNotFound {
		t.Errorf("a login request on the change page: %d, want 404", a.status)
	}
}

func TestChangeNeedsPhone(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)
	p.stepUp(t, phone)
	// The phone goes away; the substantial session stays.
	d, err := p.devices.List(t.Context(), p.person.ID)
	if err != nil || len(d) != 1 {
		t.Fatal(d, err)
	}
	if _, err := p.st.UpdateDevice(t.Context(), d[0].ID, func(x *store.Device) error { x.RemovedAt = time.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	a := p.post(t, "/daten/anschrift", url.Values{"street": {"Lindenallee"}, "house_number": {"3"}, "postal_code": {"04109"}, "city": {"Leipzig"}})
	if a.status != http.StatusConflict || !strings.Contains(a.body, "Smartphone, das mit Ihrem Konto verbunden ist") {
		t.Errorf("change without a phone: %d\n%s", a.status, a.body)
	}
}

func TestDevicesPage(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)
	path := "/geraete/" + phone.ID + "/name"

	// At level low: the list, no renaming.
	p.login(t)
	low := p.get(t, "/geraete")
	if low.status != http.StatusOK || !oneH1(low.body) || !has(low.body, "Pixel von Jürgen", "Pixel 8", "substantiell", "aktiv") ||
		strings.Contains(low.body, `action="`+path+`"`) {
		t.Fatalf("/geraete at level low: %d\n%s", low.status, low.body)
	}
	if a := p.post(t, path, url.Values{"name": {"Neu"}}); a.status != http.StatusForbidden {
		t.Errorf("rename at level low: %d", a.status)
	}

	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, p.get(t, "/anmelden/freigabe").body)); err != nil {
		t.Fatal(err)
	}
	p.get(t, "/anmelden/freigabe")
	page := p.get(t, "/geraete")
	if !has(page.body, `action="`+path+`"`, `<label for="name-`+phone.ID+`"`) {
		t.Fatalf("/geraete at level substantial has no rename form:\n%s", page.body)
	}
	if a := p.post(t, path, url.Values{"name": {"  "}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(summary(a.body), `href="#name-`+phone.ID+`"`) || !strings.Contains(a.body, `aria-invalid="true"`) {
		t.Errorf("empty name: %d\n%s", a.status, a.body)
	}
	if a := p.post(t, path, url.Values{"name": {strings.Repeat("x", 41)}}); a.status != http.StatusUnprocessableEntity {
		t.Errorf("long name: %d", a.status)
	}
	if a := p.post(t, path, url.Values{"name": {"Mein <b>Telefon</b>"}}); a.path != "/geraete" || a.query != "hinweis=name" ||
		!has(a.body, "Der Name des Geräts wurde geändert.", "Mein &lt;b&gt;Telefon&lt;/b&gt;") {
		t.Errorf("rename: %s?%s\n%s", a.path, a.query, a.body)
	}
	for _, bad := range []string{"/geraete/dev_gibtesnicht/name", "/geraete/%3Cx%3E/name"} {
		if a := p.post(t, bad, url.Values{"name": {"x"}}); a.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, a.status)
		}
	}

	// A locked PIN shows, and a login with only a locked phone stays low
	// without asking it.
	if _, err := p.st.UpdateDevice(t.Context(), store.DeviceID(phone.ID), func(x *store.Device) error {
		x.PINLockedAt = time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if a := p.get(t, "/geraete"); !has(a.body, "gesperrt", "Gesperrte Freigabe-PIN entsperren", "„Brief ist da: PIN entsperren“",
		"„Mit dem Online-Ausweis entsperren“", `action="/geraete/aktivierungsbrief"`) {
		t.Errorf("locked PIN not shown:\n%s", a.body)
	}
	if a := p.login(t); a.path != "/konto" || !strings.Contains(a.body, "<strong>normal</strong>") {
		t.Errorf("login with a locked phone: %s", a.path)
	}
}

func TestPhonePagesRefuseCrossSiteAndHostileInput(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)
	p.stepUp(t, phone)
	for _, path := range []string{"/anmelden/freigabe", "/daten/anschrift", "/daten/bankverbindung", "/geraete/" + phone.ID + "/name"} {
		a := p.postRaw(t, path, "name=x&iban=DE89370400440532013000&street=x&postal_code=12345&city=x", http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "Anfrage abgelehnt") {
			t.Errorf("cross-site POST %s: %d", path, a.status)
		}
	}
	if _, err := p.approvals.Pending(t.Context(), p.person.ID); err != nil {
		t.Fatal(err)
	} else if list, err := p.approvals.Pending(t.Context(), p.person.ID); err != nil || len(list) != 0 {
		t.Errorf("a cross-site POST created %d requests (%v)", len(list), err)
	}
	hostile := []struct {
		path, body string
		want       int
	}{
		{"/daten/anschrift", "street=%ff%fe&postal_code=12345&city=x", http.StatusBadRequest},
		{"/daten/anschrift", "street=a%00b&postal_code=12345&city=x", http.StatusBadRequest},
		{"/daten/bankverbindung", "iban=" + strings.Repeat("D", 2000), http.StatusUnprocessableEntity},
		{"/daten/bankverbindung", "iban=DE89&x=" + strings.Repeat("D", 2000), http.StatusBadRequest},
		{"/daten/bankverbindung", "iban=" + strings.Repeat("D", 1000), http.StatusUnprocessableEntity},
		{"/daten/anschrift", "street=" + strings.Repeat("x", 20<<10), http.StatusRequestEntityTooLarge},
		{"/geraete/" + phone.ID + "/name", "name=%ff", http.StatusBadRequest},
		{"/anmelden/freigabe", "weiter=%ff", http.StatusBadRequest},
	}
	for _, h := range hostile {
		if a := p.postRaw(t, h.path, h.body, nil); a.status != h.want {
			t.Errorf("POST %s %.40q: %d, want %d", h.path, h.body, a.status, h.want)
		}
	}
	// An address with markup is shown as text, never as markup.
	wait := p.post(t, "/daten/anschrift", url.Values{"street": {`<script>alert(1)</script>`}, "house_number": {"1"}, "postal_code": {"12345"}, "city": {"x"}})
	if strings.Contains(wait.body, "<script>") || !strings.Contains(wait.body, "&lt;script&gt;") {
		t.Errorf("markup in the address was not escaped:\n%s", wait.body)
	}
}

// testClock is a settable clock for the approvals.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestPolicyRaisesPersonalData(t *testing.T) {
	policy := approval.DefaultPolicy()
	policy[approval.ActionPersonalView] = approval.Rule{Level: "high"}
	p := newPortal(t, options{tls: true, approval: approval.Config{Policy: policy}})
	p.withPassword(t)
	phone := p.bindPhone(t)
	p.stepUp(t, phone)
	// A letter-bound phone reaches substantial only: no confirmation
	// offered that could not reach high.
	a := p.get(t, "/daten")
	if a.status != http.StatusForbidden || !has(a.body, "Vertrauensniveau hoch", "Vertrauensniveau substantiell") ||
		strings.Contains(a.body, `action="/anmelden/freigabe"`) {
		t.Errorf("/daten with personal.view at high: %d\n%s", a.status, a.body)
	}
}

func TestPhonePagesAccessible(t *testing.T) {
	p := newPortal(t, options{tls: true})
	p.withPassword(t)
	phone := p.bindPhone(t)
	check := func(name string, a answer) {
		t.Helper()
		waiting := strings.Contains(a.body, "data-waiting")
		if !has(a.body, `<html lang="de">`, `<main id="inhalt"`, `href="#inhalt"`) || !oneH1(a.body) || foreignScript(a.body) && !waiting {
			t.Errorf("%s lacks lang, main, skip link or its one h1, or has a script:\n%s", name, a.body)
		}
		want := p.loggedInCSP()
		if waiting {
			want = p.waitingCSP()
		}
		if csp := a.header.Get("Content-Security-Policy"); csp != want {
			t.Errorf("%s: CSP %q, want %q", name, csp, want)
		}
		for _, m := range regexp.MustCompile(`<input id="([^"]+)"`).FindAllStringSubmatch(a.body, -1) {
			if !strings.Contains(a.body, `<label for="`+m[1]+`"`) {
				t.Errorf("%s: input %s has no label", name, m[1])
			}
		}
	}
	check("login waiting page", p.login(t))
	check("need-phone page", p.get(t, "/daten"))
	check("account page at low", p.get(t, "/konto"))
	check("devices at low", p.get(t, "/geraete"))
	if err := p.approve(t, phone, p.pending(t, approval.ActionPortalLogin), shownNumber(t, p.get(t, "/anmelden/freigabe").body)); err != nil {
		t.Fatal(err)
	}
	check("account page", p.get(t, "/anmelden/freigabe"))
	for _, path := range []string{"/daten", "/daten/anschrift", "/daten/bankverbindung", "/geraete"} {
		check(path, p.get(t, path))
	}
	check("change waiting page", p.post(t, "/daten/bankverbindung", url.Values{"iban": {"DE89370400440532013000"}}))
}
