package config

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/email"
)

// MailSettings is the mail section: the SMTP relay that carries notices by
// e-mail. Without a relay, e-mail notices are off and the portal offers no
// e-mail address.
type MailSettings struct {
	// Relay is the relay's host:port.
	Relay string `yaml:"relay"`
	// From is the sender address; FromName the name beside it (default:
	// the insurer's name).
	From     string `yaml:"from"`
	FromName string `yaml:"from_name"`
	// Username logs in to the relay with the password in PasswordFile.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// RequireSTARTTLS is "true", "false" or "" (the default: true unless
	// the relay is loopback). Only a loopback relay may go without.
	RequireSTARTTLS string `yaml:"require_starttls"`
	// CAFile holds the CA certificates (PEM) that verify the relay; empty:
	// the system's.
	CAFile string `yaml:"ca_file"`
	// The retry schedule: the wait after the first failure, doubling up to
	// RetryMax; a mail fails after MaxAttempts.
	RetryFirst  time.Duration `yaml:"retry_first"`
	RetryMax    time.Duration `yaml:"retry_max"`
	MaxAttempts int           `yaml:"max_attempts"`
	// Interval is how often a node looks for due mails (it also sends at
	// once after a change queued one).
	Interval time.Duration `yaml:"interval"`
}

func defaultMail() MailSettings {
	return MailSettings{RetryFirst: time.Minute, RetryMax: 2 * time.Hour, MaxAttempts: 12, Interval: 30 * time.Second}
}

// requireSTARTTLS resolves the setting's default.
func (m MailSettings) requireSTARTTLS() bool {
	switch m.RequireSTARTTLS {
	case "false":
		return false
	case "true":
		return true
	}
	return !email.Loopback(m.Relay)
}

// validate checks the mail section.
func (m MailSettings) validate() []string {
	if m.Relay == "" {
		return nil
	}
	var p []string
	if host, port, err := net.SplitHostPort(m.Relay); err != nil || host == "" || port == "" {
		p = append(p, fmt.Sprintf("mail.relay: %q is not host:port", m.Relay))
	}
	switch m.RequireSTARTTLS {
	case "", "true", "false":
	default:
		p = append(p, fmt.Sprintf("mail.require_starttls: %q is not true or false", m.RequireSTARTTLS))
	}
	if !m.requireSTARTTLS() && !email.Loopback(m.Relay) {
		p = append(p, "mail.require_starttls: only a loopback relay may go without STARTTLS")
	}
	if a, err := mail.ParseAddress(m.From); err != nil || a.Name != "" || a.Address != m.From {
		p = append(p, fmt.Sprintf("mail.from: %q is not an e-mail address", m.From))
	}
	if (m.Username == "") != (m.PasswordFile == "") {
		p = append(p, "mail.username and mail.password_file: set both or neither")
	}
	if m.RetryFirst < time.Second || m.RetryMax < m.RetryFirst || m.RetryMax > 24*time.Hour {
		p = append(p, "mail.retry_first and mail.retry_max: want 1s <= retry_first <= retry_max <= 24h")
	}
	if m.MaxAttempts < 1 || m.MaxAttempts > 50 {
		p = append(p, fmt.Sprintf("mail.max_attempts: %d is not between 1 and 50", m.MaxAttempts))
	}
	if m.Interval < time.Second || m.Interval > time.Hour {
		p = append(p, fmt.Sprintf("mail.interval: %s is not between 1s and 1h", m.Interval))
	}
	return p
}

// Sender is the sender's configuration, reading the password and CA
// files; nil when no relay is configured. The mails link to portal and
// are signed with the insurer's name and phone.
func (m MailSettings) Sender(portal, insurer, phone string) (*email.SenderConfig, error) {
	if m.Relay == "" {
		return nil, nil
	}
	cfg := email.SenderConfig{Relay: m.Relay, From: m.From, FromName: m.FromName, Username: m.Username,
		RequireSTARTTLS: m.requireSTARTTLS(), PortalURL: portal, InsurerName: insurer, Phone: phone,
		FirstRetry: m.RetryFirst, MaxBackoff: m.RetryMax, MaxAttempts: m.MaxAttempts}
	if cfg.FromName == "" {
		cfg.FromName = insurer
	}
	if m.PasswordFile != "" {
		raw, err := os.ReadFile(m.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("mail.password_file: %v", err)
		}
		cfg.Password = strings.TrimRight(string(raw), "\r\n")
		if cfg.Password == "" {
			return nil, fmt.Errorf("mail.password_file: the file is empty")
		}
	}
	if m.CAFile != "" {
		pem, err := os.ReadFile(m.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail.ca_file: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mail.ca_file: no PEM certificate in it")
		}
	}
	return &cfg, nil
}
