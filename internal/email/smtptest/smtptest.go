// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests: the mails Pforte sends go through a real SMTP
// conversation, with STARTTLS and login when a test asks for them. Only
// tests import it; the pforte binary does not link it.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one mail the server received.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// Message parses the mail's header and body.
func (m Mail) Message(t testing.TB) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("smtptest: parse mail: %v", err)
	}
	return msg
}

// Options shape the server.
type Options struct {
	// STARTTLS offers STARTTLS with a certificate for 127.0.0.1 that
	// Server.RootCAs trusts.
	STARTTLS bool
	// Username and Password, when set, are the one login the server takes
	// (PLAIN, only after STARTTLS unless STARTTLS is off).
	Username, Password string
	// RejectRecipients refuses every recipient with a 550 reply that
	// repeats the address, as relays do.
	RejectRecipients bool
	// OnMail, when set, runs as each mail is taken, before the reply (a
	// test's clock moves on, as with a slow relay).
	OnMail func()
}

// Server is a running SMTP server on 127.0.0.1.
type Server struct {
	Addr    string
	RootCAs *x509.CertPool

	t    testing.TB
	opts Options
	tls  *tls.Config
	mu   sync.Mutex
	got  []Mail
	srv  *smtp.Server
	wake chan struct{}
}

// Start starts a server on a free loopback port; it stops when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, wake: make(chan struct{}, 1)}
	if opts.STARTTLS {
		s.tls, s.RootCAs = certificate(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = s.tls
	srv.AllowInsecureAuth = s.tls == nil
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop stops the server (the relay is down); Restart brings it back on
// the same address.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart serves again on the same address.
func (s *Server) Restart() {
	s.t.Helper()
	var (
		ln  net.Listener
		err error
	)
	for range 50 { // the old socket may take a moment to free the port
		if ln, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(ln)
}

// Mails returns the mails received so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

// Wait returns once at least n mails arrived, or fails the test after
// timeout.
func (s *Server) Wait(n int, timeout time.Duration) []Mail {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Mails(); len(got) >= n {
			return got
		}
		select {
		case <-s.wake:
		case <-deadline:
			s.t.Fatalf("smtptest: %d mails arrived, want %d", len(s.Mails()), n)
		}
	}
}

type session struct {
	s    *Server
	from string
	to   []string
	auth bool
}

var errAuth = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.opts.Username || password != x.s.opts.Password {
			return errors.New("invalid credentials")
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && !x.auth {
		return errAuth
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.opts.RejectRecipients {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: user unknown"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.opts.OnMail != nil {
		x.s.opts.OnMail()
	}
	x.s.mu.Lock()
	x.s.got = append(x.s.got, Mail{From: x.from, To: x.to, Data: b})
	x.s.mu.Unlock()
	select {
	case x.s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// certificate makes a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func certificate(t testing.TB) (*tls.Config, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
