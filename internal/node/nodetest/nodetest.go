// Package nodetest starts whole Pforte nodes for tests: the real graph of
// package node on a fresh store of any backend (package testdb), served on
// loopback, with cheap password hashing, letters kept as PDF files, the log
// kept for inspection, and helpers that put persons into the register (one
// by one, or the generated register's with Insure), give them a password
// and bind the reference app client as their phone. Options.Register
// imports a generated register before the node starts and lets the eID
// simulator offer the identities `pforte demo` derives from it;
// Options.Host names the node (http://localhost:PORT) where a browser
// needs a host name rather than an address. With Options.Clients the node
// is an OpenID provider, and oidc.go has what its relying parties do: the
// standard clients, a go-oidc and x/oauth2 relying party, a browser that
// needs no pages rendered, and a whole sign-in confirmed on the phone. Tests of the HTTP packages and of the flows across packages
// use it instead of wiring services by hand, so what they test is what
// serves. Only tests import this package.
package nodetest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/demo"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// Insurer is the sender of the test nodes' letters.
var Insurer = letter.Sender{Name: "Beispiel-Kasse", Street: "Hauptstraße 1", PostalCity: "10115 Berlin",
	Phone: "0800 123 456", Web: "portal.example"}

// Assistant is what the test nodes' assistant says: the limits of
// `pforte serve`'s defaults, the insurer's name and telephone from
// Insurer.
var Assistant = assistant.Config{InsurerName: Insurer.Name, Phone: Insurer.Phone, OpeningHours: "montags bis freitags von 8 bis 18 Uhr",
	LetterDays: 5, LetterLimit: 3, LetterWindowDays: 30, InitialPasswordDays: 30, PasswordMinLength: 10, PasswordChangesPerDay: 5,
	PINAttempts: 3, MaxDevices: 3, ApprovalMinutes: 5, EIDMinutes: 15}

// CheapPassword are argon2id parameters that keep tests fast; Options.
// Production keeps the defaults.
var CheapPassword = password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// Options change the node a test starts.
type Options struct {
	// Store is the node's store; nil: a fresh one from testdb.Open.
	Store store.Store
	// Config changes the node's configuration after the harness filled it
	// in (PublicURL, keys, cheap hashing, the sink, the eID partner).
	Config func(c *node.Config)
	// Identities start the eID simulator with them as the node's
	// identification partner; nil: no partner (unless Register).
	Identities []sim.Identity
	// Register, if not nil, is imported before the node starts, and the
	// eID simulator is started with the identities `pforte demo` derives
	// from it (demo.Identities), followed by Identities: its first
	// identity matches a person of the register (Node.PersonOf).
	Register *Register
	// Clients, if not nil, turn on the OpenID provider for them at
	// URL+"/oidc" with a fresh subject key (StandardClients are the usual
	// ones). Config may change the provider's configuration further.
	Clients []oidc.ClientConfig
	// Host is the host name in URL and so in the node's public URL, e.g.
	// "localhost" where the browser needs a name rather than an address
	// (WebAuthn's relying party id); empty: 127.0.0.1. The node listens
	// on 127.0.0.1 either way. Not with TLS, whose test certificate names
	// 127.0.0.1 only.
	Host string
	// TLS serves the node over HTTPS (Go's cookie jar sends __Host-
	// cookies only there); Client trusts its certificate.
	TLS bool
	// Production keeps the default argon2id parameters.
	Production bool
	// Wrap, if not nil, wraps the node's handler (a test that watches
	// every request and answer).
	Wrap func(http.Handler) http.Handler
}

// Node is a started node.
type Node struct {
	*node.Node
	// URL is the portal's base URL, e.g. http://127.0.0.1:PORT.
	URL string
	// Addr is where this node listens (URL names the first of several).
	Addr string
	// Cfg is the node's configuration.
	Cfg node.Config
	// Letters keeps every letter the node queued.
	Letters *Letters
	// Logs is everything the node logged.
	Logs *Logs
	// Partner is the eID simulator's issuer URL ("" without one), and
	// Identities are the identities it offers.
	Partner    string
	Identities []sim.Identity
	// Registered are the persons Options.Register imported, as stored, in
	// the register's order.
	Registered []store.Person
	// AppHTTP, if not nil, is the HTTP client of App, and so of the
	// phone's requests in BindPhone, Pending and LoginWithPhone: a test
	// that routes the app's requests (through a balancer) sets it.
	AppHTTP *http.Client
	// tlsConfig trusts the node's certificate (TLS only).
	tlsConfig *tls.Config
	opts      Options
}

// Start builds a node and serves it until the test ends.
func Start(t testing.TB, o Options) *Node {
	t.Helper()
	st := o.Store
	if st == nil {
		st = testdb.Open(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if o.TLS {
		scheme = "https://"
	}
	base := scheme + ln.Addr().String()
	if o.Host != "" {
		if o.TLS {
			ln.Close()
			t.Fatal("nodetest: Host with TLS: the test certificate names 127.0.0.1 only")
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		base = scheme + net.JoinHostPort(o.Host, port)
	}
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{URL: base, Letters: &Letters{dir: t.TempDir()}, Logs: &Logs{}, opts: o}
	cfg := node.Config{PublicURL: base, Insurer: Insurer, Keys: ring, AuditKey: audit.GenerateKey(),
		Password: CheapPassword, MaxHashes: 4, LetterSink: n.Letters, LoginRate: 1_000_000, LoginBurst: 1_000_000,
		Logger: slog.New(slog.NewTextHandler(n.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cfg.Access.MinTime = 10 * time.Millisecond
	cfg.Assistant = Assistant
	if o.Production {
		cfg.Password = password.DefaultParams()
	}
	identities := o.Identities
	if o.Register != nil {
		n.Registered = importRegister(t, st, cfg, *o.Register)
		derived, err := demo.Identities(t.Context(), st)
		if err != nil {
			t.Fatal(err)
		}
		identities = append(derived, o.Identities...)
	}
	if identities != nil {
		n.Identities = identities
		n.Partner = startSimulator(t, base, identities)
		cfg.EID = &eid.Config{Issuer: n.Partner, ClientID: simClient, ClientSecret: eid.NewSecret(simSecret)}
	}
	if o.Clients != nil {
		key := make([]byte, 32)
		rand.Read(key)
		cfg.OIDC = &oidc.Config{Issuer: base + "/oidc", SubjectKey: key, Clients: o.Clients}
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	n.Cfg = cfg
	n.serve(t, st, ln)
	return n
}

// Another starts a second node of n's installation on a new handle of n's
// database, with n's configuration: what a load balancer's second node is.
func (n *Node) Another(t testing.TB) *Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Node{URL: n.URL, Cfg: n.Cfg, Letters: n.Letters, Logs: n.Logs, Partner: n.Partner, Identities: n.Identities,
		Registered: n.Registered, opts: n.opts}
	m.serve(t, testdb.Reopen(t, n.Store), ln)
	return m
}

// BaseOf is the base URL of this node itself (URL may name another).
func (n *Node) BaseOf() string {
	if strings.HasPrefix(n.URL, "https://") {
		return "https://" + n.Addr
	}
	return "http://" + n.Addr
}

func (n *Node) serve(t testing.TB, st store.Store, ln net.Listener) {
	t.Helper()
	n.Addr = ln.Addr().String()
	built, err := node.Build(t.Context(), n.Cfg, st)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	n.Node = built
	if n.opts.TLS {
		ln, n.tlsConfig = serveTLS(t, ln)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	if n.opts.Wrap == nil {
		go func() { done <- built.Serve(ctx, ln) }()
	} else {
		hs := &http.Server{Handler: n.opts.Wrap(built.Handler()), ReadHeaderTimeout: 5 * time.Second,
			ErrorLog: slog.NewLogLogger(n.Cfg.Logger.Handler(), slog.LevelWarn)}
		go hs.Serve(ln)
		go func() { done <- built.Run(ctx) }()
		t.Cleanup(func() { hs.Close() })
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("nodetest: serve: %v", err)
		}
	})
}

// Client is an HTTP client of the node with a cookie jar: it follows
// redirects and keeps the portal's cookies, as a browser does.
func (n *Node) Client(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if n.tlsConfig != nil {
		c.Transport = &http.Transport{TLSClientConfig: n.tlsConfig}
	}
	return c
}

// App is the reference app client on the node.
func (n *Node) App() *appclient.Client {
	c := &appclient.Client{BaseURL: n.URL, HTTP: n.AppHTTP}
	if n.AppHTTP == nil && n.tlsConfig != nil {
		c.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: n.tlsConfig}, Timeout: 30 * time.Second}
	}
	return c
}

// Person stores p (a test person of the register) and returns it with its
// id.
func (n *Node) Person(t testing.TB, p store.Person) store.Person {
	t.Helper()
	if p.Digest == nil {
		p.Digest = []byte(p.KVNR)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = time.Now()
	}
	if p.Relation == "" {
		p.Relation = store.RelationMember
	}
	if _, err := n.Store.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	got, err := n.Store.PersonByKVNR(t.Context(), p.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// GivePassword gives p the password pw the way a person gets one: an
// initial password (as from a letter), the first login with it, and the
// change to pw.
func (n *Node) GivePassword(t testing.TB, p store.Person, pw string) {
	t.Helper()
	if err := load.Prepare(t.Context(), n.Accounts, n.Sessions, []store.Person{p}, pw); err != nil {
		t.Fatalf("nodetest: %v", err)
	}
}

// ActivationCode puts a fresh activation code for p into the store, as a
// letter would carry it.
func (n *Node) ActivationCode(t testing.TB, p store.Person) string {
	t.Helper()
	code, err := proofing.NewActivationCode()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := n.Store.PutOneTime(t.Context(), store.OneTime{Kind: "activation", Digest: proofing.CodeDigest(code), Subject: p.ID.Ref(),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return code
}

// Phone is a phone bound to a person: the reference app client's device.
type Phone struct {
	*appclient.Device
	PIN string
}

// BindPhone binds the reference app client as p's phone with an activation
// letter's code and the password pw (level substantial). The phone's PIN
// key uses cheap KDF parameters.
func (n *Node) BindPhone(t testing.TB, p store.Person, pw, pin string) *Phone {
	t.Helper()
	phone, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.KDF = CheapKDF
	if _, _, err := n.App().Bind(t.Context(), phone, p.KVNR, pw, n.ActivationCode(t, p), pin, "Testtelefon", "Pixel 8"); err != nil {
		t.Fatalf("nodetest: bind: %v", err)
	}
	return &Phone{Device: phone, PIN: pin}
}

// CheapKDF are the weakest PIN-key KDF parameters the protocol accepts.
var CheapKDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: appclient.MinKDFTime, Memory: appclient.MinKDFMemory, Threads: 1}

// Pending waits until the phone sees a pending request of action and
// returns it with the app session token it logged in with.
func (n *Node) Pending(t testing.TB, phone *Phone, action string) (appclient.Approval, string) {
	t.Helper()
	ctx := t.Context()
	app := n.App()
	s, err := app.Login(ctx, phone.Device, phone.PIN, "pin")
	if err != nil {
		t.Fatalf("nodetest: app login: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		list, err := app.Approvals(ctx, s.Token)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(list, func(a appclient.Approval) bool { return a.Action == action }); i >= 0 {
			return list[i], s.Token
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nodetest: no pending %s request reached the phone", action)
	return appclient.Approval{}, ""
}

// Letters keeps each letter as DIR/<id>.pdf, in the order queued.
type Letters struct {
	dir string
	mu  sync.Mutex
	ids []string
}

// Deliver implements dispatch.Sink.
func (l *Letters) Deliver(_ context.Context, id string, pdf []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, id)
	return os.WriteFile(filepath.Join(l.dir, id+".pdf"), pdf, 0o600)
}

// Paths returns the files of the letters delivered so far, oldest first.
func (l *Letters) Paths() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.ids))
	for i, id := range l.ids {
		out[i] = filepath.Join(l.dir, id+".pdf")
	}
	return out
}

// Logs is a log that tests read while the node writes.
type Logs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Wait returns the letters once at least n were delivered: notices go out
// from the node's delivery loop just after the change that owes them. It
// fails the test after 20 seconds.
func (l *Letters) Wait(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		paths := l.Paths()
		if len(paths) >= n {
			return paths
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodetest: %d letters after 20 s, want %d", len(paths), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitIntake waits until the nodes' intake workers have handled every
// request in the intake (a reset's letter is stored when its request is
// gone).
func (n *Node) WaitIntake(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		left, err := n.Store.IntakeBacklog(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodetest: %d requests in the intake after 20 s", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
