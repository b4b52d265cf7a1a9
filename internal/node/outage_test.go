package node_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// cuttable is a TCP proxy on loopback in front of PostgreSQL whose line can
// be cut: cut closes every open connection and turns new ones away (accepted
// and closed at once, as a server that is restarting does), mend lets them
// through again. It is a real fault on the wire, not a fake store.
type cuttable struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

func newCuttable(t *testing.T, target string) *cuttable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go c.serve()
	return c
}

func (c *cuttable) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		down := c.down
		c.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.conns[in], c.conns[out] = struct{}{}, struct{}{}
		c.mu.Unlock()
		go c.pipe(in, out)
		go c.pipe(out, in)
	}
}

func (c *cuttable) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for conn := range c.conns {
		conn.Close()
		delete(c.conns, conn)
	}
}

func (c *cuttable) mend() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = false
}

// TestDatabaseOutageAnswers503 cuts a node's line to PostgreSQL mid-service:
// every request that needs the database is answered 503 with Retry-After
// (never 500), /readyz says not ready, and once the line is back the same
// node serves again without a restart.
func TestDatabaseOutageAnswers503(t *testing.T) {
	dsn := sqltest.PostgresURL(t)
	sqltest.Open(t, dsn) // migrate over the direct line
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	line := newCuttable(t, u.Host)
	u.Host = line.ln.Addr().String()
	st := sqltest.Open(t, u.String())
	n := nodetest.Start(t, nodetest.Options{Store: st})
	p := n.Person(t, store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	const pw = "Kastanienbaum im Herbstwind"
	n.GivePassword(t, p, pw)

	login := func() (int, string) {
		status, body := nodetest.CallAPI(t, http.MethodPost, n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": pw})
		return status, string(body)
	}
	if status, body := login(); status != http.StatusCreated {
		t.Fatalf("login before the cut: %d %s", status, body)
	}
	_, tok := login()
	token := strings.Split(strings.Split(tok, `"session_token":"`)[1], `"`)[0]

	line.cut()
	requests := []struct {
		name, method, path, token string
		body                      any
	}{
		{"password login", http.MethodPost, "/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": pw}},
		{"mailbox", http.MethodGet, "/api/v1/mailbox", token, nil},
		{"access request", http.MethodPost, "/api/v1/access-requests", "", map[string]string{"kvnr": p.KVNR, "postal_code": "10115", "birth_date": "1970-03-14", "method": "letter"}},
	}
	for _, rq := range requests {
		req, err := http.NewRequestWithContext(t.Context(), rq.method, n.URL+rq.path, jsonBody(t, rq.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if rq.token != "" {
			req.Header.Set("Authorization", "Bearer "+rq.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: %d %s, want 503 (or a 4xx that changes nothing)", rq.name, resp.StatusCode, body)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", rq.name)
		}
		if rq.name == "password login" && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("password login during the outage: %d %s, want 503", resp.StatusCode, body)
		}
	}
	if got := readyz(t, n.URL); got != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d, want 503", got)
	}

	line.mend()
	if status, body := login(); status != http.StatusCreated {
		t.Fatalf("login after the line is back: %d %s", status, body)
	}
	if got := readyz(t, n.URL); got != http.StatusOK {
		t.Errorf("readyz after the outage: %d, want 200", got)
	}
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func readyz(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
