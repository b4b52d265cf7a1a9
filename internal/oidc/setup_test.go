package oidc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// The relying parties of the OpenID tests: nodetest's standard clients.
const (
	rpID       = nodetest.Bonus
	rpSecret   = nodetest.BonusSecret
	epaID      = nodetest.EPA // a client not allowed the KVNR, with public subjects
	epaSecret  = nodetest.EPASecret
	cibaID     = nodetest.KasseApp
	cibaSecret = nodetest.KasseAppSecret
	phonePIN   = "482915"
)

// oidcNode is one node with the OpenID provider on for the standard
// clients, insured persons with a password, and the relying party's
// redirect URI registered.
type oidcNode struct {
	*nodetest.Node
	base     string // the portal, e.g. http://127.0.0.1:PORT
	issuer   string
	person   store.Person   // persons[0]
	persons  []store.Person // all with the same password
	others   []store.Person // persons without an account
	password string
	phone    *nodetest.Phone
}

// nodeOptions change what startOIDCNode sets up.
type nodeOptions struct {
	accounts int // persons given the password; at least 1
	// production keeps the default argon2id parameters (m=19 MiB, t=2,
	// p=1) instead of cheap ones for tests.
	production bool
}

// newOIDCNode starts a node on st whose client "bonus" redirects to
// redirect (and after logout to redirect+"/abgemeldet"), "epa" to redirect
// too, and "kasse-app" uses CIBA; one person has a password.
func newOIDCNode(t testing.TB, st store.Store, redirect string) *oidcNode {
	return startOIDCNode(t, st, redirect, nodeOptions{accounts: 1})
}

func startOIDCNode(t testing.TB, st store.Store, redirect string, o nodeOptions) *oidcNode {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{Store: st, Production: o.production, Clients: nodetest.StandardClients(redirect)})
	in := n.Insure(t, o.accounts)
	return &oidcNode{Node: n, base: n.URL, issuer: n.Issuer(), person: in.Person, persons: in.Persons, others: in.Others,
		password: in.Password}
}

// another starts a second node of n's installation on a new handle of n's
// database: the same configuration (public URL, keys, clients), its persons
// and accounts already there, no phone bound through it yet.
func (n *oidcNode) another(t testing.TB) *oidcNode {
	t.Helper()
	m := *n
	m.Node, m.phone = n.Another(t), nil
	return &m
}

// bindPhone binds the reference app client as the person's phone, with an
// activation letter's code and the password (level substantial).
func (n *oidcNode) bindPhone(t testing.TB) {
	t.Helper()
	n.phone = n.BindPhone(t, n.person, n.password, phonePIN)
}

// pending waits until the phone sees a pending request of action and
// returns it with an app session token.
func (n *oidcNode) pending(t testing.TB, action string) (appclient.Approval, string) {
	t.Helper()
	return n.Pending(t, n.phone, action)
}

// loginWithPhone runs a whole sign-in of the client "bonus" through the
// portal without a browser, confirmed on the person's phone
// (nodetest.Node.LoginWithPhone).
func (n *oidcNode) loginWithPhone(t testing.TB, b *nodetest.Browserless, authURL string) *url.URL {
	t.Helper()
	return n.LoginWithPhone(t, b, authURL, n.person, n.password, n.phone)
}

// checkPhoneLogin checks the claims of a sign-in confirmed on the phone
// just now: acr substantial, amr password, phone, PIN and mfa (and no
// app-reported biometrics), a recent
// auth_time, and the KVNR in its claim (when kvnr is set: the client is
// allowed the scope and asked for it).
func checkPhoneLogin(t testing.TB, claims nodetest.IDClaims, kvnr string) {
	t.Helper()
	if claims.ACR != "http://eidas.europa.eu/LoA/substantial" {
		t.Errorf("acr = %q, want substantial", claims.ACR)
	}
	for _, m := range []string{"pwd", "hwk", "pin", "mfa"} {
		if !slices.Contains(claims.AMR, m) {
			t.Errorf("amr %v lacks %s", claims.AMR, m)
		}
	}
	// fpt and face are what an app may report, never what the server
	// verified (docs/oidc.md).
	for _, m := range []string{"fpt", "face"} {
		if slices.Contains(claims.AMR, m) {
			t.Errorf("amr %v has the app-reported %s", claims.AMR, m)
		}
	}
	if d := time.Since(time.Unix(claims.AuthTime, 0)); d < 0 || d > time.Minute {
		t.Errorf("auth_time is %v ago", d)
	}
	if kvnr != "" && claims.KVNR != kvnr {
		t.Errorf("kvnr claim = %q, want the person's %q", claims.KVNR, kvnr)
	}
}

// openBackend returns a fresh store of the backend named name ("sqlite" or
// "postgres"); a backend not available here skips t.
func openBackend(t testing.TB, name string) store.Store {
	t.Helper()
	for _, b := range testdb.Backends() {
		if b.Name == name {
			return b.Open(t)
		}
	}
	t.Fatalf("no backend %q", name)
	return nil
}

// s256 is the PKCE challenge of verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func digestOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
