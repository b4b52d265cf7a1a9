package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// SenderStore is what the sender needs of the store.
type SenderStore interface {
	ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutMail, error)
	FinishMail(ctx context.Context, id string, status store.OutMailStatus, now time.Time, reason string) error
	RetryMail(ctx context.Context, id string, next time.Time, reason string) error
	EmailByPerson(ctx context.Context, id store.PersonID) (store.Email, error)
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
}

// SenderConfig is the relay and the queue's schedule. Zero fields of the
// schedule take the defaults.
type SenderConfig struct {
	// Relay is the SMTP relay's host:port.
	Relay string
	// From is the sender address; FromName the name shown with it (the
	// insurer's).
	From, FromName string
	// Username and Password log in to the relay (PLAIN or LOGIN, only
	// over TLS); empty Username: no login.
	Username, Password string
	// RequireSTARTTLS refuses to send unless the relay offers STARTTLS.
	// Only a loopback relay may go without (package config enforces it).
	RequireSTARTTLS bool
	// RootCAs verify the relay's certificate; nil: the system's.
	RootCAs *x509.CertPool
	// PortalURL is the portal's address, for the links in the mails.
	PortalURL string
	// InsurerName and Phone sign the mails.
	InsurerName, Phone string

	Lease       time.Duration // how long a claimed mail is held by one node, default 2 minutes
	Batch       int           // mails claimed (and sent over one connection) at once, default 50
	FirstRetry  time.Duration // wait after the first failure, default 1 minute; doubles each time
	MaxBackoff  time.Duration // longest wait between attempts, default 2 hours
	MaxAttempts int           // attempts before a mail is failed, default 12
	Timeout     time.Duration // relay connection timeout, default 30 seconds
}

func (c SenderConfig) withDefaults() SenderConfig {
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 50
	}
	if c.FirstRetry <= 0 {
		c.FirstRetry = time.Minute
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 2 * time.Hour
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	// A lease must leave room for at least one send.
	c.Lease = max(c.Lease, 2*c.Timeout+leaseMargin)
	return c
}

// Loopback reports whether the relay host:port names the loopback
// interface (localhost or a loopback IP).
func Loopback(relay string) bool {
	host, _, err := net.SplitHostPort(relay)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sender delivers the mail queue through the relay.
// leaseMargin is kept free at the end of a lease for marking the last
// mail sent.
const leaseMargin = 10 * time.Second

type Sender struct {
	store  SenderStore
	sealer Sealer
	audit  Auditor
	cfg    SenderConfig
	now    func() time.Time
	logger *slog.Logger
	kick   chan struct{}
}

// NewSender returns a sender. It refuses a relay without STARTTLS that is
// not loopback, whatever the configuration says.
func NewSender(st SenderStore, sealer Sealer, aud Auditor, cfg SenderConfig, now func() time.Time, logger *slog.Logger) (*Sender, error) {
	if _, _, err := net.SplitHostPort(cfg.Relay); err != nil {
		return nil, fmt.Errorf("email: relay %q: want host:port", cfg.Relay)
	}
	if !cfg.RequireSTARTTLS && !Loopback(cfg.Relay) {
		return nil, fmt.Errorf("email: relay %q: STARTTLS may only be off for a loopback relay", cfg.Relay)
	}
	if cfg.From == "" || cfg.PortalURL == "" {
		return nil, errors.New("email: sender needs a from address and the portal's address")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{store: st, sealer: sealer, audit: aud, cfg: cfg.withDefaults(), now: now, logger: logger,
		kick: make(chan struct{}, 1)}, nil
}

// Result counts what one Drain did.
type Result struct {
	Sent, Retried, Failed, Dropped int
	// Postponed were claimed but not begun: the lease would have run out
	// during their send. They are sent on a later pass.
	Postponed int
}

// backoff is the wait after the n-th failed attempt.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.cfg.FirstRetry
	for i := 1; i < attempts && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

// Drain sends the mails due now, batch by batch over one relay connection
// each, until none is due. A mail the relay did not take stays queued.
func (s *Sender) Drain(ctx context.Context) (Result, error) {
	var res Result
	for {
		claimed := s.now()
		batch, err := s.store.ClaimMails(ctx, claimed, s.cfg.Lease, s.cfg.Batch)
		if err != nil {
			return res, fmt.Errorf("email: claim: %w", err)
		}
		if len(batch) == 0 {
			return res, nil
		}
		s.sendBatch(ctx, batch, claimed.Add(s.cfg.Lease), &res)
		if len(batch) < s.cfg.Batch || res.Postponed > 0 {
			return res, nil
		}
	}
}

// sendBatch composes each mail and sends the composed ones over one
// connection, while the claim holds: a send is begun only when it can end
// (within the relay timeout, and a margin for marking it sent) before the
// lease runs out. The rest stay queued under the lease and are claimed
// again after it, by this node or another; so no two nodes send one mail
// at once, however slow the relay. (A node that dies between the relay's
// answer and marking the mail sent leaves it to be sent again: at least
// once, not exactly once.)
func (s *Sender) sendBatch(ctx context.Context, batch []store.OutMail, held time.Time, res *Result) {
	var (
		msgs []*gomail.Msg
		of   []store.OutMail
	)
	for _, m := range batch {
		msg, reason, err := s.compose(ctx, m)
		switch {
		case err != nil:
			s.retry(ctx, m, err, res)
		case msg == nil:
			res.Dropped++
			if err := s.store.FinishMail(ctx, m.ID, store.OutMailDropped, s.now(), reason); err != nil {
				s.logger.Error("mail drop", slog.String("mail", m.ID), slog.Any("error", err))
			}
		default:
			msgs, of = append(msgs, msg), append(of, m)
		}
	}
	if len(msgs) == 0 {
		return
	}
	client, err := s.client()
	if err == nil {
		err = client.DialWithContext(ctx)
	}
	if err != nil {
		for _, m := range of {
			s.retry(ctx, m, fmt.Errorf("relay: %w", err), res)
		}
		return
	}
	defer func() { _ = client.Close() }()
	for i, msg := range msgs {
		if s.now().Add(s.cfg.Timeout + leaseMargin).After(held) {
			res.Postponed += len(msgs) - i
			return
		}
		if err := client.Send(msg); err != nil {
			s.retry(ctx, of[i], relayError(err), res)
			continue
		}
		res.Sent++
		if err := s.store.FinishMail(ctx, of[i].ID, store.OutMailSent, s.now(), ""); err != nil {
			s.logger.Error("mail finish", slog.String("mail", of[i].ID), slog.Any("error", err))
		}
	}
}

// relayError is what the log and the queue keep of a failed send: the
// relay's replies often repeat the recipient's address, which is personal
// data, so of a send error only its kind and SMTP code are kept.
func relayError(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return fmt.Errorf("relay: %s (SMTP %d, temporary %v)", se.Reason, se.ErrorCode(), se.IsTemp())
	}
	return fmt.Errorf("relay: %w", err)
}

// retry keeps m queued after a failed attempt, or fails it at the limit.
func (s *Sender) retry(ctx context.Context, m store.OutMail, cause error, res *Result) {
	now := s.now()
	reason := cause.Error()
	if m.Attempts >= s.cfg.MaxAttempts {
		res.Failed++
		s.logger.Error("mail failed", slog.String("mail", m.ID), slog.String("kind", string(m.Kind)),
			slog.Int("attempts", m.Attempts), slog.String("error", reason))
		if err := s.store.FinishMail(ctx, m.ID, store.OutMailFailed, now, reason); err != nil {
			s.logger.Error("mail fail", slog.String("mail", m.ID), slog.Any("error", err))
		}
		_ = s.audit.Record(ctx, audit.Event{Actor: "system", Event: "email.failed", Subject: "person:" + pid(m.PersonID),
			Details: map[string]any{"mail": m.ID, "kind": string(m.Kind), "attempts": m.Attempts}})
		return
	}
	res.Retried++
	s.logger.Warn("mail retry", slog.String("mail", m.ID), slog.String("kind", string(m.Kind)),
		slog.Int("attempts", m.Attempts), slog.String("error", reason))
	if err := s.store.RetryMail(ctx, m.ID, now.Add(s.backoff(m.Attempts)), reason); err != nil {
		s.logger.Error("mail retry", slog.String("mail", m.ID), slog.Any("error", err))
	}
}

// client returns a client for the relay: STARTTLS mandatory unless the
// configuration allows a loopback relay without.
func (s *Sender) client() (*gomail.Client, error) {
	host, portText, _ := net.SplitHostPort(s.cfg.Relay)
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("relay port %q", portText)
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12})}
	if s.cfg.RequireSTARTTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(host, opts...)
}

// compose makes the mail m stands for, or nil (with the reason) when there
// is nothing to send any more.
func (s *Sender) compose(ctx context.Context, m store.OutMail) (*gomail.Msg, string, error) {
	e, err := s.store.EmailByPerson(ctx, m.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "no address", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("email: %w", err)
	}
	var t text
	var to []byte
	switch m.Kind {
	case store.OutMailConfirm:
		if e.Pending.IsZero() || hex.EncodeToString(e.PendingHash) != m.Ref {
			return nil, "link replaced or used", nil
		}
		if !s.now().Before(e.PendingUntil) {
			return nil, "link expired", nil
		}
		if to, err = s.sealer.OpenFor(e.Pending, placePending(m.PersonID)); err != nil {
			return nil, "", fmt.Errorf("email: open: %w", err)
		}
		tok, err := s.sealer.OpenFor(e.PendingToken, placeToken(m.PersonID))
		if err != nil {
			return nil, "", fmt.Errorf("email: open: %w", err)
		}
		t = confirmText(s.cfg, string(tok), e.PendingUntil)
	case store.OutMailMessage:
		if e.Address.IsZero() || !e.Notify {
			return nil, "no confirmed address or notices off", nil
		}
		if to, err = s.sealer.OpenFor(e.Address, placeAddress(m.PersonID)); err != nil {
			return nil, "", fmt.Errorf("email: open: %w", err)
		}
		unsub, err := s.sealer.OpenFor(e.Unsubscribe, placeUnsub(m.PersonID))
		if err != nil {
			return nil, "", fmt.Errorf("email: open: %w", err)
		}
		p, err := s.store.PersonByID(ctx, m.PersonID)
		if err != nil {
			return nil, "", fmt.Errorf("email: person: %w", err)
		}
		t = messageText(s.cfg, p, string(unsub))
	default:
		return nil, "unknown kind", nil
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.cfg.FromName, s.cfg.From); err != nil {
		return nil, "", fmt.Errorf("email: from: %w", err)
	}
	if err := msg.To(string(to)); err != nil {
		return nil, "address refused", nil
	}
	msg.Subject(t.subject)
	msg.SetDateWithValue(s.now())
	msg.SetMessageIDWithValue(m.ID + "@" + domainOf(s.cfg.From))
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	if t.unsubscribe != "" {
		msg.SetGenHeader(gomail.Header("List-Unsubscribe"), "<"+t.unsubscribe+">")
		msg.SetGenHeader(gomail.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, t.body)
	return msg, "", nil
}

func domainOf(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok {
		return d
	}
	return "pforte.invalid"
}

// Kick asks Run to drain now; it never blocks.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run drains every interval and on Kick until ctx ends.
func (s *Sender) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("mail drain", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}
