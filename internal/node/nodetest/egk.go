package nodetest

import (
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/egk/testca"
	"github.com/pforte/pforte/internal/node"
)

// Cards is a test eGK world for a node: a test CA whose certificate the
// node trusts, an OCSP responder (httptest, on loopback) that answers with
// the CA's key, and a CRL file of the CA. Revoke makes the responder, or
// the CRL, call a card revoked.
type Cards struct {
	CA      *testca.CA
	OCSP    *httptest.Server
	CRLFile string

	mu          sync.Mutex
	ocspRevoked map[string]bool
	asked       int
}

// NewCards starts the responder and writes an empty CRL; both end with the
// test.
func NewCards(t testing.TB) *Cards {
	t.Helper()
	now := time.Now()
	ca, err := testca.New("Test eGK-CA TEST-ONLY", now.AddDate(0, 0, -1), now.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	c := &Cards{CA: ca, CRLFile: filepath.Join(t.TempDir(), "egk.crl"), ocspRevoked: map[string]bool{}}
	c.writeCRL(t)
	c.OCSP = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := ca.OCSPResponse(body, func(s *big.Int) egk.CertStatus {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.asked++
			if c.ocspRevoked[s.Text(16)] {
				return egk.StatusRevoked
			}
			return egk.StatusGood
		}, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(resp)
	}))
	t.Cleanup(c.OCSP.Close)
	return c
}

// Configure makes the node trust the CA and ask the responder and the CRL.
func (c *Cards) Configure(cfg *node.Config) {
	cfg.EGK = &egk.Config{Anchors: [][]byte{c.CA.Cert}, OCSPURL: c.OCSP.URL, CRLFile: c.CRLFile}
}

// Card issues a card for kvnr and returns it as the app's software card.
func (c *Cards) Card(t testing.TB, kvnr string) (*appclient.SoftwareCard, *big.Int) {
	t.Helper()
	card, err := c.CA.Issue(testca.CardSpec{KVNR: kvnr})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := card.Software()
	if err != nil {
		t.Fatal(err)
	}
	return sc, card.Serial
}

// RevokeOCSP makes the responder answer revoked for serial.
func (c *Cards) RevokeOCSP(serial *big.Int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ocspRevoked[serial.Text(16)] = true
}

// RevokeCRL writes a new CRL that lists serials (the node reads it again
// because it changed).
func (c *Cards) RevokeCRL(t testing.TB, serials ...*big.Int) {
	t.Helper()
	c.writeCRL(t, serials...)
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(c.CRLFile, later, later); err != nil {
		t.Fatal(err)
	}
}

// Asked is how many statuses the responder gave.
func (c *Cards) Asked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked
}

func (c *Cards) writeCRL(t testing.TB, serials ...*big.Int) {
	t.Helper()
	now := time.Now()
	b, err := c.CA.CRLPEM(serials, now.Add(-time.Minute), now.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.CRLFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
