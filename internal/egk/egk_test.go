package egk_test

import (
	"bytes"
	"crypto/elliptic"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/egk/testca"
)

const kvnr = "X110411675"

var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func newCA(t testing.TB) *testca.CA {
	t.Helper()
	ca, err := testca.New("Test eGK-CA", now.AddDate(-5, 0, 0), now.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t testing.TB, ca *testca.CA, spec testca.CardSpec) *testca.Card {
	t.Helper()
	if spec.KVNR == "" {
		spec.KVNR = kvnr
	}
	if spec.NotBefore.IsZero() {
		spec.NotBefore = now.AddDate(-1, 0, 0)
	}
	c, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// crlVerifier is a verifier trusting ca whose revocation source is a CRL
// file revoking revoked.
func crlVerifier(t testing.TB, ca *testca.CA, revoked ...*big.Int) (*egk.Verifier, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "egk.crl")
	writeCRL(t, ca, path, revoked...)
	v, err := egk.New(egk.Config{Anchors: [][]byte{ca.Cert}, CRLFile: path}, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v, path
}

func writeCRL(t testing.TB, ca *testca.CA, path string, revoked ...*big.Int) {
	t.Helper()
	crl, err := ca.CRLPEM(revoked, now.Add(-time.Hour), now.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, crl, 0o644); err != nil {
		t.Fatal(err)
	}
}

func reasonOf(err error) egk.Reason {
	var r *egk.RefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestVerifyGoodCard(t *testing.T) {
	ca := newCA(t)
	v, _ := crlVerifier(t, ca)
	card := issue(t, ca, testca.CardSpec{})
	got, err := v.Verify(card.Cert)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.KVNR != kvnr || got.Serial.Cmp(card.Serial) != 0 || len(got.PublicKey) != 65 {
		t.Errorf("Verify = KVNR %q serial %v key %d bytes; want %q %v 65", got.KVNR, got.Serial, len(got.PublicKey), kvnr, card.Serial)
	}
	if err := v.CheckRevocation(t.Context(), got); err != nil {
		t.Errorf("CheckRevocation: %v", err)
	}
}

// TestVerifyRefuses shows each check of Verify refusing what it must.
func TestVerifyRefuses(t *testing.T) {
	ca := newCA(t)
	other := newCA(t)
	v, _ := crlVerifier(t, ca)
	good := issue(t, ca, testca.CardSpec{})
	unknownOID := []int{1, 3, 6, 1, 4, 1, 99999, 1}
	tampered := bytes.Clone(good.Cert)
	if i := bytes.Index(tampered, []byte("Mustermann")); i < 0 {
		t.Fatal("no surname in the certificate")
	} else {
		tampered[i] = 'N'
	}
	cases := []struct {
		name string
		der  []byte
		want egk.Reason
	}{
		{"truncated", good.Cert[:len(good.Cert)-10], egk.ReasonMalformed},
		{"trailing data", append(bytes.Clone(good.Cert), 0), egk.ReasonMalformed},
		{"oversized", append(bytes.Clone(good.Cert), make([]byte, egk.MaxCertificateSize)...), egk.ReasonMalformed},
		{"empty", nil, egk.ReasonMalformed},
		{"wrong curve", issue(t, ca, testca.CardSpec{Curve: elliptic.P256()}).Cert, egk.ReasonCurve},
		{"unknown critical extension", issue(t, ca, testca.CardSpec{Extra: []egk.Extension{
			testca.Extension(unknownOID, true, []byte{5, 0})}}).Cert, egk.ReasonCriticalExtension},
		{"no digitalSignature", issue(t, ca, testca.CardSpec{KeyUsage: []int{4}}).Cert, egk.ReasonKeyUsage},
		{"no eGK AUT policy", issue(t, ca, testca.CardSpec{NoPolicy: true}).Cert, egk.ReasonNotCard},
		{"unknown issuer", issue(t, other, testca.CardSpec{}).Cert, egk.ReasonUnknownIssuer},
		{"signature does not fit", tampered, egk.ReasonUnknownIssuer},
		{"not yet valid", issue(t, ca, testca.CardSpec{NotBefore: now.Add(time.Hour)}).Cert, egk.ReasonNotYetValid},
		{"expired", issue(t, ca, testca.CardSpec{NotBefore: now.AddDate(-6, 0, 0), NotAfter: now.Add(-time.Second)}).Cert, egk.ReasonExpired},
		{"invalid KVNR", issue(t, ca, testca.CardSpec{KVNR: "A123456789"}).Cert, egk.ReasonNoKVNR},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(c.der)
			if got := reasonOf(err); got != c.want {
				t.Errorf("Verify: %v (reason %q), want reason %q", err, got, c.want)
			}
		})
	}
	// An unknown extension that is not critical is ignored (RFC 5280).
	if _, err := v.Verify(issue(t, ca, testca.CardSpec{Extra: []egk.Extension{
		testca.Extension(unknownOID, false, []byte{5, 0})}}).Cert); err != nil {
		t.Errorf("a non-critical unknown extension: %v", err)
	}
}

func TestCRLRevokesAndIsReadAgainWhenItChanges(t *testing.T) {
	ca := newCA(t)
	card := issue(t, ca, testca.CardSpec{})
	v, path := crlVerifier(t, ca, card.Serial)
	c, err := v.Verify(card.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckRevocation(t.Context(), c); reasonOf(err) != egk.ReasonRevoked {
		t.Fatalf("revoked card: %v, want reason revoked", err)
	}
	writeCRL(t, ca, path) // a new CRL without it
	future := time.Now().Add(time.Minute)
	os.Chtimes(path, future, future)
	if err := v.CheckRevocation(t.Context(), c); err != nil {
		t.Fatalf("after the CRL dropped it: %v", err)
	}
	// A changed file that is no CRL of the anchor: fail closed.
	other := newCA(t)
	writeCRL(t, other, path)
	future = future.Add(time.Minute)
	os.Chtimes(path, future, future)
	if err := v.CheckRevocation(t.Context(), c); !errors.Is(err, egk.ErrRevocationUnavailable) {
		t.Fatalf("a CRL of another CA: %v, want ErrRevocationUnavailable", err)
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	ca := newCA(t)
	card := issue(t, ca, testca.CardSpec{})
	path := filepath.Join(t.TempDir(), "old.crl")
	old, err := ca.CRLPEM(nil, now.AddDate(0, 0, -10), now.AddDate(0, 0, -3))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, old, 0o644)
	for name, cfg := range map[string]egk.Config{
		"no anchors":         {OCSPURL: "http://127.0.0.1:1/ocsp"},
		"no revocation":      {Anchors: [][]byte{ca.Cert}},
		"a card as anchor":   {Anchors: [][]byte{card.Cert}, OCSPURL: "http://127.0.0.1:1/ocsp"},
		"a stale CRL":        {Anchors: [][]byte{ca.Cert}, CRLFile: path},
		"a missing CRL":      {Anchors: [][]byte{ca.Cert}, CRLFile: path + ".missing"},
		"not an http(s) URL": {Anchors: [][]byte{ca.Cert}, OCSPURL: "ftp://x"},
	} {
		if _, err := egk.New(cfg, clock, nil); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// responder is a test OCSP responder: status says what it answers,
// tamper may change the answer's bytes.
type responder struct {
	ca      *testca.CA
	status  func(*big.Int) egk.CertStatus
	failing atomic.Bool
	asked   atomic.Int64
}

func (r *responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.asked.Add(1)
	body, _ := io.ReadAll(req.Body)
	if r.failing.Load() || req.Header.Get("Content-Type") != "application/ocsp-request" {
		http.Error(w, "no", http.StatusInternalServerError)
		return
	}
	resp, err := r.ca.OCSPResponse(body, r.status, now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

func TestOCSP(t *testing.T) {
	ca := newCA(t)
	good := issue(t, ca, testca.CardSpec{})
	revoked := issue(t, ca, testca.CardSpec{})
	unknown := issue(t, ca, testca.CardSpec{})
	status := func(s *big.Int) egk.CertStatus {
		switch {
		case s.Cmp(revoked.Serial) == 0:
			return egk.StatusRevoked
		case s.Cmp(unknown.Serial) == 0:
			return egk.StatusUnknown
		}
		return egk.StatusGood
	}
	r := &responder{ca: ca, status: status}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	v, err := egk.New(egk.Config{Anchors: [][]byte{ca.Cert}, OCSPURL: srv.URL}, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(c *testca.Card) error {
		t.Helper()
		card, err := v.Verify(c.Cert)
		if err != nil {
			t.Fatal(err)
		}
		return v.CheckRevocation(t.Context(), card)
	}
	if err := check(good); err != nil {
		t.Errorf("good: %v", err)
	}
	if err := check(revoked); reasonOf(err) != egk.ReasonRevoked {
		t.Errorf("revoked: %v", err)
	}
	if err := check(unknown); reasonOf(err) != egk.ReasonStatusUnknown {
		t.Errorf("unknown: %v", err)
	}
	r.failing.Store(true)
	if err := check(good); !errors.Is(err, egk.ErrRevocationUnavailable) {
		t.Errorf("responder down: %v, want ErrRevocationUnavailable", err)
	}
	r.failing.Store(false)
	// A responder whose answers another CA signed is not believed.
	r.ca = newCA(t)
	if err := check(good); !errors.Is(err, egk.ErrRevocationUnavailable) {
		t.Errorf("answer signed by another CA: %v, want ErrRevocationUnavailable", err)
	}
}
