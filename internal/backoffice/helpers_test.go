package backoffice_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// staffCookie and portalCookie are the cookies' names on a TLS node.
const (
	staffCookie  = "__Host-pforte_staff"
	portalCookie = "__Host-pforte_session"
)

// start runs a node over TLS (its cookies are __Host- cookies).
func start(t *testing.T) *nodetest.Node {
	t.Helper()
	return nodetest.Start(t, nodetest.Options{TLS: true})
}

// member is a logged-in staff member: their client (with the staff
// cookie in its jar) and their session token.
type member struct {
	staff.Member
	c     *http.Client
	token string
}

// loginStaff adds a staff member with role and logs them in through the
// login form.
func loginStaff(t *testing.T, n *nodetest.Node, login string, role staff.Role) member {
	t.Helper()
	cr, err := n.Staff.Add(t.Context(), login, "Test "+login, role)
	if err != nil {
		t.Fatal(err)
	}
	c := n.Client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(n.URL+"/backoffice/anmelden", url.Values{"kennung": {login}, "passwort": {string(cr.Password)},
		"code": {staff.Code(cr.Secret, time.Now())}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff login: %d %s", resp.StatusCode, body)
	}
	var tok string
	for _, ck := range resp.Cookies() {
		if ck.Name == staffCookie {
			tok = ck.Value
		}
	}
	if tok == "" {
		t.Fatal("staff login set no staff cookie")
	}
	st, err := n.Store.StaffByLogin(t.Context(), login)
	if err != nil {
		t.Fatal(err)
	}
	return member{Member: staff.Member{ID: st.ID, Login: login, Role: role}, c: c, token: tok}
}

// do sends a request as m and returns the status and body.
func (m member) do(t *testing.T, n *nodetest.Node, method, path string, form url.Values) (int, string) {
	t.Helper()
	return send(t, m.c, n, method, path, form, nil)
}

func send(t *testing.T, c *http.Client, n *nodetest.Node, method, path string, form url.Values, hdr http.Header) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, n.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// bare is a client without a cookie jar that does not follow redirects.
func bare(t *testing.T, n *nodetest.Node) *http.Client {
	c := n.Client(t)
	c.Jar = nil
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// portalSession starts a portal session of the person and returns its
// token.
func portalSession(t *testing.T, n *nodetest.Node, p store.Person) session.Token {
	t.Helper()
	tok, _, err := n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: session.KindBrowser, Level: session.LevelLow,
		Origin: session.OriginPassword, ClientIP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// auditOf returns the entries of event, newest first.
func auditOf(t *testing.T, n *nodetest.Node, f store.AuditFilter) []store.AuditEntry {
	t.Helper()
	es, err := n.Store.SearchAudit(t.Context(), f, 100)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
