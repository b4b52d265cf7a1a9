package oidc_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/load"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// The OpenID benchmarks run a real node (HTTP on loopback, the store on
// SQLite in b.TempDir() or in a fresh PostgreSQL schema) with the production
// argon2id parameters (m=19 MiB, t=2, p=1), driven by go-oidc and x/oauth2
// as the relying party in the same process, on the same cores.

// hashReference is how long the code flow benchmark hashes (half before,
// half after the flows) to measure the raw argon2id rate it reports its
// ratio against.
const hashReference = 3 * time.Second

// benchTransport keeps one idle connection per worker, so that the workers'
// requests do not pay for new connections.
func benchTransport(b *testing.B) *http.Transport {
	tr := &http.Transport{Proxy: nil, MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	return tr
}

// lowACR asks for level low, which a password login without a phone
// reaches.
var lowACR = oauth2.SetAuthURLParam("acr_values", session.LevelLow.ACR())

// codeFlow is one authorization code flow with password login as a browser
// and the relying party run it. Its methods return errors instead of failing
// the benchmark, as they run on RunParallel's goroutines.
type codeFlow struct {
	node     *oidcNode
	rp       *nodetest.RelyingParty
	redirect string
	tr       *http.Transport
}

// run signs person in: authorization request, login page, POST /anmelden,
// back to the relying party, code exchange with the PKCE verifier and the ID
// token verified by go-oidc. It returns the tokens. Each run uses a new
// cookie jar, so the login always happens and creates a new session.
func (f *codeFlow) run(person store.Person) (*oauth2.Token, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: f.tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(r.URL.String(), f.redirect) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	s := f.rp.Start(lowACR)
	resp, err := c.Get(s.URL)
	if err != nil {
		return nil, fmt.Errorf("authorization request: %w", err)
	}
	drain(resp)
	login := resp.Request.URL
	if resp.StatusCode != http.StatusOK || login.Path != "/anmelden" {
		return nil, fmt.Errorf("authorization request led to %d %s, want the login page", resp.StatusCode, login)
	}
	form := url.Values{"kvnr": {person.KVNR}, "password": {f.node.password}, "weiter": {login.Query().Get("weiter")}}
	req, _ := http.NewRequest(http.MethodPost, f.node.base+"/anmelden", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.node.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	body := drain(resp)
	back, err := resp.Location()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther || err != nil ||
		!strings.HasPrefix(back.String(), f.redirect) {
		return nil, fmt.Errorf("login ended at %d %s, want a redirect to the relying party: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	q := back.Query()
	if q.Get("state") != s.State || q.Get("error") != "" || q.Get("code") == "" {
		return nil, fmt.Errorf("relying party got %s", back)
	}
	tok, err := f.rp.Conf.Exchange(f.rp.Ctx, q.Get("code"), oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.rp.Verifier.Verify(f.rp.Ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	var claims nodetest.IDClaims
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	if idt.Nonce != s.Nonce || claims.ACR != session.LevelLow.ACR() {
		return nil, fmt.Errorf("ID token nonce/acr %q/%q, want %q/%q", idt.Nonce, claims.ACR, s.Nonce, session.LevelLow.ACR())
	}
	return tok, nil
}

// drain reads and closes resp's body (so the connection is reused) and
// returns its start.
func drain(resp *http.Response) []byte {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body
}

// refresh sends the refresh_token grant with the client's Basic credentials
// and returns the rotated refresh token.
func refresh(c *http.Client, endpoint, token string) (string, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rpID), url.QueryEscape(rpSecret))
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body := drain(resp)
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("refresh: %d %.300s", resp.StatusCode, body)
	}
	if out.AccessToken == "" || out.RefreshToken == "" || out.RefreshToken == token {
		return "", fmt.Errorf("refresh did not rotate: %s", body)
	}
	return out.RefreshToken, nil
}

// BenchmarkRefreshGrant measures refresh_token grants over HTTP: each of
// RunParallel's workers (GOMAXPROCS) keeps rotating its own token family,
// obtained through one code flow. Every grant checks the client, marks the
// presented token used, stores its successor and an access token, writes an
// audit entry and signs an ID token. Reports grants/s.
func BenchmarkRefreshGrant(b *testing.B) {
	for _, backend := range testdb.Backends() { // PostgreSQL skips without PFORTE_TEST_POSTGRES
		b.Run(backend.Name, func(b *testing.B) {
			st := backend.Open(b)
			rp := nodetest.RPServer(b)
			redirect := rp.URL + "/callback"
			workers := runtime.GOMAXPROCS(0) // RunParallel's goroutines at parallelism 1
			n := startOIDCNode(b, st, redirect, nodeOptions{accounts: 1, production: true})
			f := &codeFlow{node: n, rp: nodetest.NewRelyingParty(b, n.issuer, redirect), redirect: redirect, tr: benchTransport(b)}
			families := make([]string, workers)
			for i := range families {
				tok, err := f.run(n.persons[0])
				if err != nil {
					b.Fatal(err)
				}
				if tok.RefreshToken == "" {
					b.Fatal("no refresh token for offline_access")
				}
				families[i] = tok.RefreshToken
			}
			endpoint := f.rp.Provider.Endpoint().TokenURL
			c := &http.Client{Transport: f.tr, Timeout: 30 * time.Second}
			var worker atomic.Int64
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				i := int(worker.Add(1)-1) % len(families) // at most one goroutine per family
				token := families[i]
				for pb.Next() {
					next, err := refresh(c, endpoint, token)
					if err != nil {
						b.Error(err)
						return
					}
					token = next
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "grants/s")
		})
	}
}

// BenchmarkCodeFlowPasswordLogin measures whole authorization code flows with
// a password login (one argon2id verification with the production
// parameters), GOMAXPROCS at once, each worker as its own account (parallel
// logins to one account would count against its failure limit). It reports
// flows/s; the raw hash rate of as many goroutines on as many hash slots,
// measured for 1.5 s right before and 1.5 s right after the flows (so that
// both see the same machine, also when its other load changes); and their
// ratio. A flow verifies one hash, so the ratio says what the rest of a flow
// costs.
func BenchmarkCodeFlowPasswordLogin(b *testing.B) {
	for _, backend := range testdb.Backends() { // PostgreSQL skips without PFORTE_TEST_POSTGRES
		b.Run(backend.Name, func(b *testing.B) {
			st := backend.Open(b)
			rp := nodetest.RPServer(b)
			redirect := rp.URL + "/callback"
			workers := runtime.GOMAXPROCS(0)
			n := startOIDCNode(b, st, redirect, nodeOptions{accounts: workers, production: true})
			f := &codeFlow{node: n, rp: nodetest.NewRelyingParty(b, n.issuer, redirect), redirect: redirect, tr: benchTransport(b)}
			h, err := password.NewHasher(password.DefaultParams(), nil, workers)
			if err != nil {
				b.Fatal(err)
			}
			var hashes int64
			var hashTime time.Duration
			reference := func() {
				done, elapsed, err := load.MeasureHashes(b.Context(), h, workers, hashReference/2)
				if err != nil {
					b.Fatal(err)
				}
				hashes, hashTime = hashes+done, hashTime+elapsed
			}

			reference()
			var worker atomic.Int64
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				person := n.persons[int(worker.Add(1)-1)%len(n.persons)]
				for pb.Next() {
					if _, err := f.run(person); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			reference()

			flowRate := float64(b.N) / elapsed.Seconds()
			hashRate := float64(hashes) / hashTime.Seconds()
			b.ReportMetric(flowRate, "flows/s")
			b.ReportMetric(hashRate, "hashes/s")
			b.ReportMetric(flowRate/hashRate, "ratio")
		})
	}
}
