package web_test

import (
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/web"
)

const (
	kvnr       = "X110411675"
	postalCode = "10115"
	birthDate  = "14.03.1970"
	strong     = "Kastanienbaum im Herbstwind"
	initial    = "ABCD-EFGH-JKLM"
)

// The simulator's identities, by index on its page.
const (
	identityMatch    = 0
	identityOtherDay = 1
)

// portal is a whole node (package nodetest) with one person in the
// register, and a browser-like client of it.
type portal struct {
	url      string
	client   *http.Client // with a cookie jar; follows redirects
	node     *nodetest.Node
	accounts *account.Service
	access   *access.Service
	person   store.Person
	logs     *nodetest.Logs

	st        store.Store
	ring      *seal.Keyring
	devices   *device.Service
	approvals *approval.Service
}

type options struct {
	tls      bool             // serve over TLS (Go's cookie jar sends Secure cookies only over https)
	cfg      web.Config       // the portal's configuration
	approval approval.Config  // the approval rules
	now      func() time.Time // the node's clock; time.Now when nil
	// mail, when set, is the SMTP relay (its PortalURL is the node's).
	mail *email.SenderConfig
}

// newPortal starts a node (nodetest) with the eID simulator as its partner
// and Jürgen Müller in the register.
func newPortal(t *testing.T, o options) *portal {
	t.Helper()
	addr := sim.Address{Street: "Hauptstraße 1", PostalCode: postalCode, City: "Berlin", Country: "DE"}
	n := nodetest.Start(t, nodetest.Options{TLS: o.tls,
		Identities: []sim.Identity{
			{Label: "Passt zum Register: Jürgen Müller", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
				Address: addr, Nationality: "DE"},
			{Label: "Anderes Geburtsdatum: Jürgen Müller", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1971-03-14",
				Address: addr, Nationality: "DE"},
		},
		Config: func(c *node.Config) {
			c.Portal = o.cfg
			c.Approvals = o.approval
			if o.cfg.LoginRate > 0 {
				c.LoginRate, c.LoginBurst = o.cfg.LoginRate, o.cfg.LoginBurst
			} else {
				c.LoginRate, c.LoginBurst = 0, 0
			}
			if o.now != nil {
				c.Now = o.now
			}
			if o.mail != nil {
				m := *o.mail
				m.PortalURL = c.PublicURL
				c.Mail, c.MailInterval = &m, 100*time.Millisecond
			}
		}})
	person := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: postalCode, City: "Berlin",
		AddressVerifiedAt: time.Now().Add(-time.Hour), AddressVerifiedBy: "register"})
	return &portal{url: n.URL, client: n.Client(t), node: n, accounts: n.Accounts, access: n.Access, person: person, logs: n.Logs,
		st: n.Store, ring: n.Cfg.Keys, devices: n.Devices, approvals: n.Approvals}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   string
	path   string // the final URL's path, after redirects
	query  string
}

func (p *portal) do(t *testing.T, c *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b), path: resp.Request.URL.Path, query: resp.Request.URL.RawQuery}
}

func (p *portal) get(t *testing.T, path string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.do(t, p.client, req)
}

// probe asks a waiting page as its script does whether it still waits.
func (p *portal) probe(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Pforte-Wait", "1")
	a := p.do(t, p.noFollow(), req)
	if a.status != http.StatusOK || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("question to the waiting page %s: %d %v", path, a.status, a.header)
	}
	return a.body
}

func (p *portal) post(t *testing.T, path string, values url.Values) answer {
	t.Helper()
	return p.postRaw(t, path, values.Encode(), nil)
}

func (p *portal) postRaw(t *testing.T, path, body string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return p.do(t, p.client, req)
}

// noFollow is the portal's client without following redirects.
func (p *portal) noFollow() *http.Client {
	c := *p.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

var initialRE = regexp.MustCompile(`Initialpasswort:\s*((?:[A-Za-z0-9]{4}[ -]?)+)`)

// initialPassword reads the initial password from the newest letter with
// pdftotext.
func (p *portal) initialPassword(t *testing.T) string {
	t.Helper()
	pdftotext := needTool(t, "pdftotext")
	letters := p.node.Letters.Paths()
	if len(letters) == 0 {
		t.Fatal("no letter was delivered")
	}
	out, err := exec.CommandContext(t.Context(), pdftotext, "-layout", letters[len(letters)-1], "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	m := initialRE.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no initial password in the letter:\n%s", out)
	}
	return strings.TrimSpace(m[1])
}

// accessForm is a filled-in access request.
func accessForm(kv, plz, date, method string) url.Values {
	return url.Values{"kvnr": {kv}, "postal_code": {plz}, "birth_date": {date}, "method": {method}}
}

// oneH1 reports whether the page has exactly one h1.
func oneH1(body string) bool { return strings.Count(body, "<h1") == 1 }

// has reports whether body contains every one of want.
func has(body string, want ...string) bool {
	return !slices.ContainsFunc(want, func(s string) bool { return !strings.Contains(body, s) })
}

// strengthScript is the one script a page may load: the portal's own strength
// meter on new-password forms.
const strengthScript = `<script src="/static/strength.js" defer></script>`

// foreignScript reports whether body has any script but the strength meter.
func foreignScript(body string) bool {
	return strings.Contains(strings.ReplaceAll(body, strengthScript, ""), "<script")
}
