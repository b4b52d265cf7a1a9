package backoffice_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/backoffice"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// The corporate provider in these tests is the eID simulator: a real
// OpenID provider (discovery, JWKS, ES256 ID tokens, the code flow with
// PKCE, the iss parameter of RFC 9207) whose identities carry a "groups"
// claim as a corporate identity provider's do. Pforte's own provider has
// no groups claim, and giving it one only for a test would add a claim
// that no relying party of the insured needs.
const (
	corpClient = "pforte-backoffice"
	corpSecret = "geheimnis-der-firma-0123456789"
)

// corporateIdentities: a team lead, someone in no group of the back
// office, and someone whose groups give two roles.
var corporateIdentities = []sim.Identity{
	{Label: "Teamleitung Tina Team", GivenNames: "Tina", FamilyName: "Team", BirthDate: "1980-01-01",
		Groups: []string{"alle", "kasse-teamleitung"}},
	{Label: "Ohne Gruppe Olaf Ohne", GivenNames: "Olaf", FamilyName: "Ohne", BirthDate: "1980-01-01", Groups: []string{"alle"}},
	{Label: "Zwei Rollen Zora Zwei", GivenNames: "Zora", FamilyName: "Zwei", BirthDate: "1980-01-01",
		Groups: []string{"kasse-teamleitung", "kasse-pruefung"}},
}

// startCorporate starts a node whose back office signs staff in through
// the simulator as the corporate provider.
func startCorporate(t *testing.T, o nodetest.Options) (*nodetest.Node, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	o.Config = func(c *node.Config) {
		c.Backoffice.LoginBurst = 100
		c.Backoffice.Corporate = &backoffice.Corporate{Issuer: issuer, ClientID: corpClient, ClientSecret: corpSecret,
			RedirectURL: c.PublicURL + "/backoffice/anmelden/firma/rueckkehr",
			Roles:       map[string]staff.Role{"kasse-teamleitung": staff.RoleSupervisor, "kasse-pruefung": staff.RoleAuditor}}
	}
	n := nodetest.Start(t, o)
	s, err := sim.New(sim.Config{Insecure: true, Issuer: issuer, Identities: corporateIdentities,
		Clients: []sim.Client{{ID: corpClient, Secret: corpSecret, RedirectURIs: []string{n.URL + "/backoffice/anmelden/firma/rueckkehr"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return n, issuer
}

// TestBrowserCorporateLogin: in Chromium, a team lead signs in with the
// corporate account end to end (login page, the provider's page, back to
// the start page as Teamleitung); someone without a mapped group is
// refused with the ways back; axe-core checks the pages.
func TestBrowserCorporateLogin(t *testing.T) {
	ctx := browsertest.Start(t)
	browsertest.NeedAxe(t)
	n, _ := startCorporate(t, nodetest.Options{})
	do(t, ctx, "login page", chromedp.Navigate(n.URL+"/backoffice/anmelden"),
		chromedp.WaitVisible(`//a[contains(., 'Firmenkonto')]`))
	browsertest.A11y(t, ctx, "login page with the corporate account")
	do(t, ctx, "to the provider", chromedp.Click(`//a[contains(., 'Firmenkonto')]`),
		chromedp.WaitVisible(`//button[contains(., 'Teamleitung Tina Team')]`))
	do(t, ctx, "sign in there", chromedp.Click(`//button[contains(., 'Teamleitung Tina Team')]`),
		atPath("/backoffice/"), chromedp.WaitVisible(`//h1[contains(., 'Übersicht')]`))
	if got := mainText(t, ctx); !strings.Contains(got, "Tina Team") || !strings.Contains(got, "Teamleitung") {
		t.Errorf("start page:\n%s", got)
	}
	do(t, ctx, "log out", chromedp.Click(`//header//button[contains(., 'Abmelden')]`), atPath("/backoffice/anmelden"))
	do(t, ctx, "no group", chromedp.Click(`//a[contains(., 'Firmenkonto')]`),
		chromedp.WaitVisible(`//button[contains(., 'Ohne Gruppe Olaf Ohne')]`), chromedp.Click(`//button[contains(., 'Ohne Gruppe Olaf Ohne')]`),
		chromedp.WaitVisible(`//p[contains(., 'keiner Rolle im Backoffice')]`))
	browsertest.A11y(t, ctx, "corporate sign-in refused")
	if got := mainText(t, ctx); !strings.Contains(got, "Zur Anmeldung mit Kennung und Passwort") {
		t.Errorf("refusal without the way back:\n%s", got)
	}
}

// corpFlow is one sign-in at the provider without a browser: the flow
// cookie the back office set and the URL the provider sends back to.
type corpFlow struct {
	cookie *http.Cookie
	back   *url.URL
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// corporateFlow starts a sign-in and picks identity label at the
// provider.
func corporateFlow(t *testing.T, n *nodetest.Node, label string) corpFlow {
	t.Helper()
	c := bare(t, n)
	resp, err := c.Get(n.URL + "/backoffice/anmelden/firma")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var f corpFlow
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "pforte_staff_oidc") {
			f.cookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || f.cookie == nil {
		t.Fatalf("start: %d, cookie %v", resp.StatusCode, f.cookie)
	}
	authURL, _ := url.Parse(resp.Header.Get("Location"))
	resp, err = c.Get(authURL.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{}
	for _, part := range strings.Split(string(page), "<form") {
		if !strings.Contains(part, html.EscapeString(label)) {
			continue
		}
		for _, m := range hiddenInput.FindAllStringSubmatch(part, -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
	}
	if form.Get("identity") == "" {
		t.Fatalf("no form for %q on the provider's page:\n%s", label, page)
	}
	resp, err = c.PostForm(authURL.ResolveReference(&url.URL{Path: "/authorize"}).String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.back, err = url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther || f.back.Query().Get("code") == "" {
		t.Fatalf("provider: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return f
}

// finish returns to the back office with cookie and back; it reports the
// status, the body and whether a staff session was set.
func (f corpFlow) finish(t *testing.T, n *nodetest.Node, cookie *http.Cookie, back *url.URL) (int, string, bool) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", back.String(), nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := bare(t, n).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	session := false
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "pforte_staff") && ck.Value != "" {
			session = true
		}
	}
	return resp.StatusCode, string(body), session
}

// TestCorporateRefusals: a return with another state, a nonce that is not
// the one sent, another issuer, no flow cookie, groups of no role or of
// two roles, a disabled staff member and a code used twice are refused
// with no session; the right return signs in, creating the staff member
// with the role of their groups.
func TestCorporateRefusals(t *testing.T) {
	n, issuer := startCorporate(t, nodetest.Options{})
	with := func(u *url.URL, key, value string) *url.URL {
		c := *u
		q := c.Query()
		q.Set(key, value)
		c.RawQuery = q.Encode()
		return &c
	}
	otherNonce := func(ck *http.Cookie) *http.Cookie {
		parts := strings.Split(ck.Value, ".")
		parts[1] = "AAAA" + parts[1][4:]
		return &http.Cookie{Name: ck.Name, Value: strings.Join(parts, ".")}
	}
	for _, tc := range []struct {
		name   string
		label  string
		change func(f corpFlow) (*http.Cookie, *url.URL)
		status int
		says   string
	}{
		{"another state", "Teamleitung Tina Team", func(f corpFlow) (*http.Cookie, *url.URL) {
			return f.cookie, with(f.back, "state", "fremd")
		}, http.StatusBadRequest, "nicht hier begonnen"},
		{"no flow cookie", "Teamleitung Tina Team", func(f corpFlow) (*http.Cookie, *url.URL) { return nil, f.back },
			http.StatusBadRequest, "nicht hier begonnen"},
		{"another nonce", "Teamleitung Tina Team", func(f corpFlow) (*http.Cookie, *url.URL) { return otherNonce(f.cookie), f.back },
			http.StatusForbidden, "ließ sich nicht prüfen"},
		{"another issuer", "Teamleitung Tina Team", func(f corpFlow) (*http.Cookie, *url.URL) {
			return f.cookie, with(f.back, "iss", "http://idp.invalid")
		}, http.StatusBadRequest, "nicht vom Anmeldedienst"},
		{"another code", "Teamleitung Tina Team", func(f corpFlow) (*http.Cookie, *url.URL) {
			return f.cookie, with(f.back, "code", "erfunden")
		}, http.StatusForbidden, "ließ sich nicht prüfen"},
		{"no mapped group", "Ohne Gruppe Olaf Ohne", func(f corpFlow) (*http.Cookie, *url.URL) { return f.cookie, f.back },
			http.StatusForbidden, "keiner Rolle"},
		{"two roles", "Zwei Rollen Zora Zwei", func(f corpFlow) (*http.Cookie, *url.URL) { return f.cookie, f.back },
			http.StatusForbidden, "keiner Rolle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := corporateFlow(t, n, tc.label)
			ck, back := tc.change(f)
			code, body, session := f.finish(t, n, ck, back)
			if code != tc.status || !strings.Contains(body, tc.says) || session {
				t.Errorf("%d, session %v; want %d and %q:\n%s", code, session, tc.status, tc.says, body)
			}
			if !strings.Contains(body, `href="/backoffice/anmelden"`) {
				t.Errorf("no way back on the page:\n%s", body)
			}
		})
	}
	if list, _ := n.Staff.List(t.Context()); len(list) != 0 {
		t.Errorf("refused sign-ins created staff: %+v", list)
	}

	// The right return: a supervisor is created; the code is used up.
	f := corporateFlow(t, n, "Teamleitung Tina Team")
	if code, body, session := f.finish(t, n, f.cookie, f.back); code != http.StatusSeeOther || !session {
		t.Fatalf("sign-in: %d, session %v:\n%s", code, session, body)
	}
	if code, _, session := f.finish(t, n, f.cookie, f.back); code == http.StatusSeeOther || session {
		t.Errorf("the same return twice: %d, session %v", code, session)
	}
	list, err := n.Staff.List(t.Context())
	if err != nil || len(list) != 1 || list[0].Role != string(staff.RoleSupervisor) || list[0].Name != "Tina Team" ||
		!strings.HasPrefix(list[0].ExternalID, issuer+" ") || list[0].PasswordHash != "" {
		t.Fatalf("staff after the sign-in: %+v, %v", list, err)
	}
	if es := auditOf(t, n, store.AuditFilter{Event: "staff.login", Subject: list[0].ID.Ref()}); len(es) != 1 ||
		!strings.Contains(string(es[0].Details), `"method":"corporate"`) {
		t.Errorf("login entries: %+v", es)
	}
	// No password login for them.
	if _, _, err := n.Staff.Login(t.Context(), list[0].Login, "", "", "192.0.2.1", "t"); err == nil {
		t.Error("a password login of a corporate staff member")
	}
	// A disabled staff member stays refused.
	if err := n.Staff.Disable(t.Context(), list[0].Login); err != nil {
		t.Fatal(err)
	}
	f = corporateFlow(t, n, "Teamleitung Tina Team")
	if code, body, session := f.finish(t, n, f.cookie, f.back); code != http.StatusForbidden || session || !strings.Contains(body, "gesperrt") {
		t.Errorf("disabled: %d, session %v:\n%s", code, session, body)
	}
}
