package node_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// phonePIN is the PIN of the phones the guards bind.
const phonePIN = "482915"

// exchange is one request to the node and its answer, as the node saw them.
type exchange struct {
	method, path, query string
	header              http.Header // the request's
	body                []byte      // the request's
	status              int
	respHeader          http.Header
	respBody            []byte
}

// traffic records every request to a node and every answer, whatever client
// sent it.
type traffic struct {
	mu  sync.Mutex
	all []exchange
}

func (tr *traffic) exchanges() []exchange {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]exchange(nil), tr.all...)
}

func (tr *traffic) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.all = append(tr.all, exchange{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(),
			body: body, status: rw.status, respHeader: w.Header().Clone(), respBody: rw.body.Bytes()})
	})
}

type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// guardedNode is a node of the whole-node guards: the persons of
// nodetest.Insure, one with a password (person), the others without an
// account.
type guardedNode struct {
	*nodetest.Node
	// a is the node's graph (its Letters is the letter service, which
	// nodetest's Letters hides).
	a        *node.Node
	person   store.Person
	others   []store.Person
	password string
	phone    *nodetest.Phone
}

func startGuardedNode(t *testing.T, o nodetest.Options) *guardedNode {
	t.Helper()
	n := nodetest.Start(t, o)
	in := n.Insure(t, 1)
	return &guardedNode{Node: n, a: n.Node, person: in.Person, others: in.Others, password: in.Password}
}

// bindPhone binds the reference app client as the person's phone, with an
// activation letter's code and the password (level substantial).
func (n *guardedNode) bindPhone(t *testing.T) {
	t.Helper()
	n.phone = n.BindPhone(t, n.person, n.password, phonePIN)
}

// loginWithPhone signs the person in to the client "bonus" through the
// portal, confirmed on the phone (nodetest.Node.LoginWithPhone).
func (n *guardedNode) loginWithPhone(t *testing.T, b *nodetest.Browserless, authURL string) *url.URL {
	t.Helper()
	return n.LoginWithPhone(t, b, authURL, n.person, n.password, n.phone)
}

// watchedNode is a guardedNode whose log (level debug) and traffic the
// test reads, with the core system's outbox open to outboxToken.
type watchedNode struct {
	*guardedNode
	traffic     *traffic
	outboxToken string
}

// startWatchedNode starts a node with the client "bonus" (one person with a
// password, others without an account), logging at level debug into its
// log (Node.Logs) and recording its traffic.
func startWatchedNode(t *testing.T, redirect string) *watchedNode {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	outboxToken := "core-" + strings.Repeat("x", 4) + base64.StdEncoding.EncodeToString(key)
	tr := &traffic{}
	n := startGuardedNode(t, nodetest.Options{Clients: nodetest.StandardClients(redirect)[:1], Wrap: tr.wrap,
		Config: func(c *node.Config) {
			c.OutboxToken = outboxToken
			// The OpenID provider library logs through the default
			// logger, as it does in a served process
			// (environment.useLogger). No test of this package runs in
			// parallel.
			prev := slog.Default()
			slog.SetDefault(c.Logger)
			t.Cleanup(func() { slog.SetDefault(prev) })
		}})
	return &watchedNode{guardedNode: n, traffic: tr, outboxToken: outboxToken}
}
