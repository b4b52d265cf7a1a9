package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
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

// folderSink keeps each letter as DIR/<id>.pdf.
type folderSink struct {
	dir string
	mu  sync.Mutex
	ids []string
}

func (f *folderSink) Deliver(_ context.Context, id string, pdf []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, id)
	return os.WriteFile(filepath.Join(f.dir, id+".pdf"), pdf, 0o600)
}

// letters returns the paths of the letters delivered so far.
func (f *folderSink) letters() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.ids))
	for i, id := range f.ids {
		out[i] = filepath.Join(f.dir, id+".pdf")
	}
	return out
}

// portal is the whole graph behind an httptest server.
type portal struct {
	url      string
	client   *http.Client // with a cookie jar; follows redirects
	sink     *folderSink
	accounts *account.Service
	access   *access.Service
	person   store.Person
	logs     *syncBuffer

	st        *sqlstore.Store
	ring      *seal.Keyring
	devices   *device.Service
	approvals *approval.Service
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.WriteString(string(p))
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type options struct {
	tls      bool             // serve over TLS (Go's cookie jar sends Secure cookies only over https)
	cfg      web.Config       // the portal's configuration
	approval approval.Config  // the approval rules
	now      func() time.Time // the approvals' clock; time.Now when nil
}

// newPortal builds the graph the way cmd/pforte wires it: SQLite, keyring,
// hasher, sessions, letters into a folder, accounts, access with the eID
// simulator on its own server, and the web routes on the server frame.
func newPortal(t *testing.T, o options) *portal {
	t.Helper()
	ctx := t.Context()
	st := sqltest.SQLite(t)
	person := store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: postalCode, City: "Berlin", Relation: store.RelationMember,
		AddressVerifiedAt: time.Now().Add(-time.Hour), AddressVerifiedBy: "register", Digest: []byte("d"), UpdatedAt: time.Now()}
	if _, err := st.UpsertPersons(ctx, []store.Person{person}); err != nil {
		t.Fatal(err)
	}
	person, err := st.PersonByKVNR(ctx, kvnr)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := letter.NewRenderer(letter.Sender{Name: "Beispiel-Kasse", Street: "Hauptstraße 1", PostalCity: "10115 Berlin",
		Phone: "0800 123 456", Web: "portal.example"})
	if err != nil {
		t.Fatal(err)
	}
	aud := audit.New(st, audit.GenerateKey(), time.Now, logger)
	sessions := session.NewManager(st, session.Config{}, time.Now)
	sink := &folderSink{dir: t.TempDir()}
	letters := dispatch.New(st, ring, renderer, aud, sink, time.Now, dispatch.Config{}, logger)
	// Notices are delivered as soon as a change committed them: the test
	// reads the letters right after the request.
	deliver := notice.New(st, ring, []notice.Channel{notice.ChannelFunc(letters.DeliverNotice)}, time.Now, notice.Config{}, logger)
	notices := notice.NewMaker(ring, time.Now, func() {
		if _, err := deliver.Deliver(context.Background()); err != nil {
			t.Errorf("notice delivery: %v", err)
		}
	})
	accounts := account.New(st, hasher, sessions, aud, notices, time.Now, account.Config{}, logger)

	// The portal's and the simulator's URLs are needed before their
	// handlers exist.
	var portalHandler, simHandler http.Handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { portalHandler.ServeHTTP(w, r) }))
	if o.tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	simTS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { simHandler.ServeHTTP(w, r) }))
	t.Cleanup(simTS.Close)

	addr := sim.Address{Street: "Hauptstraße 1", PostalCode: postalCode, City: "Berlin", Country: "DE"}
	simulator, err := sim.New(sim.Config{Insecure: true, Issuer: simTS.URL,
		Clients: []sim.Client{{ID: "portal", Secret: "portal-secret", RedirectURIs: []string{ts.URL + "/eid/rueckkehr"}}},
		Identities: []sim.Identity{
			{Label: "Passt zum Register: Jürgen Müller", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
				Address: addr, Nationality: "DE"},
			{Label: "Anderes Geburtsdatum: Jürgen Müller", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1971-03-14",
				Address: addr, Nationality: "DE"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	simHandler = simulator.Handler()
	client, err := eid.New(ctx, eid.Config{Issuer: simTS.URL, ClientID: "portal", ClientSecret: eid.NewSecret("portal-secret"),
		RedirectURL: ts.URL + "/eid/rueckkehr"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	flows := access.New(st, accounts, hasher, letters, aud, ring,
		access.Config{Portal: ts.URL, MinTime: 10 * time.Millisecond, EID: client, Partner: simTS.URL}, time.Now, logger)

	cfg := o.cfg
	if cfg.InsurerName == "" {
		cfg.InsurerName = "Beispiel-Kasse"
	}
	cfg.EIDOrigin = simTS.URL
	w := web.New(cfg, accounts, flows, sessions, st, logger)
	devices := device.New(st, accounts, notices, sessions, aud, time.Now, device.Config{}, logger)
	approvalNow := o.now
	if approvalNow == nil {
		approvalNow = time.Now
	}
	approvals := approval.New(st, ring, devices, aud, approvalNow, o.approval, profile.Executors(ring, notices), notices.Kick, logger)
	w.EnableApprovals(approvals, profile.New(st, approvals, ring), devices)
	srv := server.New(server.Config{}, logger, st, nil)
	for pattern, h := range w.Routes() {
		srv.Handle(pattern, h)
	}
	portalHandler = srv.Handler()

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := ts.Client()
	hc.Jar = jar
	return &portal{url: ts.URL, client: hc, sink: sink, accounts: accounts, access: flows, person: person, logs: logs,
		st: st, ring: ring, devices: devices, approvals: approvals}
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
	letters := p.sink.letters()
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
