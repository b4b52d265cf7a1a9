package nodetest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/pforte/pforte/internal/eid/sim"
)

// The node's client at the eID simulator.
const (
	simClient = "pforte-portal"
	simSecret = "pforte-portal-secret"
)

// startSimulator serves the eID simulator with identities until the test
// ends and returns its issuer URL; portal is the node's base URL.
func startSimulator(t testing.TB, portal string, identities []sim.Identity) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	s, err := sim.New(sim.Config{Insecure: true, Issuer: issuer,
		Clients:    []sim.Client{{ID: simClient, Secret: simSecret, RedirectURIs: []string{portal + "/eid/rueckkehr"}}},
		Identities: identities})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// serveTLS wraps ln in TLS with a certificate for 127.0.0.1 and returns the
// client configuration that trusts it.
func serveTLS(t testing.TB, ln net.Listener) (net.Listener, *tls.Config) {
	t.Helper()
	// httptest's certificate is valid for 127.0.0.1 and example.com.
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	ts.Close()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), &tls.Config{RootCAs: pool}
}
