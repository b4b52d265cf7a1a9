package node_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
)

// hostileServer serves every route of a node (API and portal) over HTTPS on
// a fresh store, with the command's default login limits (1 a second, a
// burst of 10, per client address). It returns the node's URL, its route
// patterns and a client without cookies that trusts its certificate.
func hostileServer(t testing.TB) (string, []string, *http.Client) {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{TLS: true, Config: func(c *node.Config) {
		c.LoginRate, c.LoginBurst = 1, 10
	}})
	client := n.Client(t)
	client.Jar = nil
	return n.URL, n.Patterns(), client
}

// concrete turns a route pattern into a method and a path, filling wildcards.
func concrete(pattern, fill string) (string, string) {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return method, b.String()
		}
		j := strings.IndexByte(path[i:], '}')
		b.WriteString(path[:i])
		b.WriteString(fill)
		path = path[i+j+1:]
	}
}

var hostileBodies = []string{
	"", "{}", "[]", "null", "\"x\"", "{\"kvnr\":", strings.Repeat("[", 10000),
	"{\"kvnr\":\"\xff\xfe\",\"password\":\"x\"}", "kvnr=%ff&password=%00&birth_date=99.99.9999",
	"{\"device_id\":\"../../etc\",\"challenge_id\":\"ch\",\"device_signature\":\"!!\",\"pin_signature\":\"\"}",
	"{\"purpose\":\"approve\",\"device_id\":\"x\",\"approval_id\":\"y:z\"}",
	"{\"street\":\"" + strings.Repeat("ä", 5000) + "\",\"postal_code\":\"1\"}",
	"{\"iban\":\"DE\\u0000\"}", "new_password=" + strings.Repeat("a", 20000),
}

// TestNoInputCausesA5xx sends hostile bodies, paths and credentials to every
// route of a node; every answer must be below 500.
func TestNoInputCausesA5xx(t *testing.T) {
	base, patterns, client := hostileServer(t)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	seen := map[int]int{}
	for _, pattern := range patterns {
		for _, fill := range []string{"x", "%ff%fe", strings.Repeat("a", 300), "apr_unknown", "dev_..%2f"} {
			for _, body := range hostileBodies {
				for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "text/plain"} {
					method, path := concrete(pattern, fill)
					req, err := http.NewRequest(method, base+path+"?after=-1&limit=99999&state=%ff", bytes.NewReader([]byte(body)))
					if err != nil {
						continue // a path that is not a URL never reaches the server
					}
					req.Header.Set("Content-Type", ct)
					req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 43))
					req.Header.Set("Cookie", "__Host-pforte_session=garbage; __Host-pforte_eid=x; __Host-pforte_ticket=y; __Host-pforte_stepup=z")
					req.Header.Set("Origin", base)
					resp, err := client.Do(req)
					if err != nil {
						t.Fatalf("%s %s: %v", method, path, err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					seen[resp.StatusCode]++
					if resp.StatusCode >= 500 {
						t.Errorf("%s %s (%s, %q…): %d", method, path, ct, body[:min(len(body), 40)], resp.StatusCode)
					}
				}
			}
		}
	}
	// The requests reached the handlers: refusals of several kinds came back.
	if len(patterns) < 40 || seen[400] == 0 || seen[401] == 0 || seen[404] == 0 {
		t.Errorf("%d routes; answers by status: %v", len(patterns), seen)
	}
	t.Logf("%d routes; answers by status: %v", len(patterns), seen)
}

// FuzzRoutes sends fuzzed bodies to fuzzed routes; nothing may answer 5xx.
func FuzzRoutes(f *testing.F) {
	for i, b := range hostileBodies {
		f.Add(uint8(i), "x", b)
	}
	base, patterns, client := hostileServer(f)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.Fuzz(func(t *testing.T, route uint8, fill, body string) {
		method, path := concrete(patterns[int(route)%len(patterns)], fill)
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", []string{"application/json", "application/x-www-form-urlencoded"}[rand.IntN(2)])
		resp, err := client.Do(req)
		if err != nil {
			return // the client refused the request (e.g. an invalid path)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s %q: %d", method, path, body, resp.StatusCode)
		}
	})
}
