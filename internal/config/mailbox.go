package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pforte/pforte/internal/mailbox"
)

// MailboxSettings is the mailbox section of the configuration.
type MailboxSettings struct {
	// StaffTokenFile holds the bearer token of the staff API (the back
	// office); without it the staff API is closed.
	StaffTokenFile string `yaml:"staff_token_file"`
	// The attachment limits: bytes per file and per message, files per
	// message.
	MaxFileBytes    int64 `yaml:"max_file_bytes"`
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	MaxFiles        int   `yaml:"max_files"`
}

func defaultMailbox() MailboxSettings {
	return MailboxSettings{MaxFileBytes: mailbox.DefaultMaxFileBytes, MaxMessageBytes: mailbox.DefaultMaxMessageBytes,
		MaxFiles: mailbox.DefaultMaxFiles}
}

// validateMailbox checks the keys the mailbox adds.
func (c *Config) validateMailbox() []string {
	var p []string
	m := c.Mailbox
	if m.MaxFileBytes < 1<<10 || m.MaxFileBytes > 50<<20 {
		p = append(p, fmt.Sprintf("mailbox.max_file_bytes: %d is not between 1024 and 52428800", m.MaxFileBytes))
	}
	if m.MaxMessageBytes < m.MaxFileBytes || m.MaxMessageBytes > 100<<20 {
		p = append(p, fmt.Sprintf("mailbox.max_message_bytes: %d is not between mailbox.max_file_bytes and 104857600", m.MaxMessageBytes))
	}
	if m.MaxFiles < 1 || m.MaxFiles > 20 {
		p = append(p, fmt.Sprintf("mailbox.max_files: %d is not between 1 and 20", m.MaxFiles))
	}
	return p
}

// MailboxConfig is the mailbox's limits.
func (c *Config) MailboxConfig() mailbox.Config {
	return mailbox.Config{MaxFileBytes: c.Mailbox.MaxFileBytes, MaxMessageBytes: c.Mailbox.MaxMessageBytes, MaxFiles: c.Mailbox.MaxFiles}
}

// StaffToken reads the staff API's token ("" when not configured).
func (c *Config) StaffToken() (string, error) {
	if c.Mailbox.StaffTokenFile == "" {
		return "", nil
	}
	raw, err := os.ReadFile(c.Mailbox.StaffTokenFile)
	if err != nil {
		return "", fmt.Errorf("mailbox.staff_token_file: %v", err)
	}
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 32 {
		return "", errors.New("mailbox.staff_token_file: the token must have at least 32 characters")
	}
	return tok, nil
}
