package assistant

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Config is what the assistant says about the running installation and how
// it behaves. The facts (the first group) are filled into the answers of the
// knowledge base; they come from the node's configuration and have no
// defaults here, because a default that differs from the running
// configuration would be a wrong answer. The behaviour fields take the
// defaults below when zero.
type Config struct {
	// InsurerName is the Krankenkasse's name ({{.Insurer}}).
	InsurerName string
	// Phone is the service telephone number ({{.Phone}}); OpeningHours says
	// when it is staffed ({{.OpeningHours}}), as a German phrase such as
	// "Montag bis Freitag von 8 bis 18 Uhr".
	Phone        string
	OpeningHours string
	// LetterDays is how many working days a letter usually takes
	// ({{.LetterDays}}).
	LetterDays int
	// LetterLimit is how many letters with codes a person may receive
	// within LetterWindowDays days ({{.LetterLimit}}, {{.LetterWindowDays}}).
	LetterLimit      int
	LetterWindowDays int
	// InitialPasswordDays is how long an initial password from a letter is
	// valid ({{.InitialPasswordDays}}).
	InitialPasswordDays int
	// PasswordMinLength is the shortest password the policy accepts
	// ({{.PasswordMinLength}}).
	PasswordMinLength int
	// PasswordChangesPerDay bounds password changes per account and day
	// ({{.PasswordChangesPerDay}}).
	PasswordChangesPerDay int
	// PINAttempts is how many wrong Freigabe-PIN proofs lock the PIN
	// ({{.PINAttempts}}).
	PINAttempts int
	// MaxDevices is how many phones a person may bind ({{.MaxDevices}}).
	MaxDevices int
	// ApprovalMinutes is how long an approval request can be answered
	// ({{.ApprovalMinutes}}).
	ApprovalMinutes int
	// EIDMinutes is how long an eID identification counts as fresh: to
	// choose a password after it, to bind a phone or unlock a PIN with it
	// ({{.EIDMinutes}}).
	EIDMinutes int

	// MinConfidence is the confidence (0 to 1) below which the assistant
	// does not answer but offers the hand-over (default DefaultMinConfidence).
	MinConfidence float64
	// Retention is how long a conversation is kept for a hand-over
	// (default DefaultRetention; {{.Retention}} in words).
	Retention time.Duration
	// MaxQuestionRunes bounds a question; a longer one is refused with an
	// answer that says so (default DefaultMaxQuestionRunes).
	MaxQuestionRunes int
	// NoMailbox says that the node cannot hand over by mailbox: every
	// hand-over then names the telephone and its hours only, at every
	// level, offers no message, and nothing is kept.
	NoMailbox bool
}

// Defaults of the behaviour fields of Config.
const (
	DefaultMinConfidence    = 0.4
	DefaultRetention        = 24 * time.Hour
	DefaultMaxQuestionRunes = 500
)

// MaxRetention is the longest Retention Validate accepts: conversations
// exist for a hand-over, not as an archive.
const MaxRetention = 90 * 24 * time.Hour

func (c Config) withDefaults() Config {
	if c.MinConfidence == 0 {
		c.MinConfidence = DefaultMinConfidence
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxQuestionRunes == 0 {
		c.MaxQuestionRunes = DefaultMaxQuestionRunes
	}
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() []error {
	c = c.withDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("assistant: "+format, args...)) }
	if strings.TrimSpace(c.InsurerName) == "" {
		add("insurer name: required (answers name the Krankenkasse)")
	}
	if strings.TrimSpace(c.Phone) == "" {
		add("phone: required (the hand-over names it)")
	}
	if strings.TrimSpace(c.OpeningHours) == "" {
		add("opening hours: required (the hand-over names them)")
	}
	for _, f := range []struct {
		name     string
		v        int
		min, max int
	}{
		{"letter days", c.LetterDays, 1, 30},
		{"letter limit", c.LetterLimit, 1, 10},
		{"letter window days", c.LetterWindowDays, 1, 365},
		{"initial password days", c.InitialPasswordDays, 1, 60},
		{"password min length", c.PasswordMinLength, 8, 128},
		{"password changes per day", c.PasswordChangesPerDay, 1, 100},
		{"pin attempts", c.PINAttempts, 1, 5},
		{"max devices", c.MaxDevices, 1, 10},
		{"approval minutes", c.ApprovalMinutes, 1, 60},
		{"eid minutes", c.EIDMinutes, 1, 60},
		{"max question runes", c.MaxQuestionRunes, 50, 5000},
	} {
		if f.v < f.min || f.v > f.max {
			add("%s: %d is not between %d and %d", f.name, f.v, f.min, f.max)
		}
	}
	if math.IsNaN(c.MinConfidence) || c.MinConfidence <= 0 || c.MinConfidence >= 1 {
		add("min confidence: %v is not between 0 and 1 (exclusive)", c.MinConfidence)
	}
	if c.Retention < time.Minute || c.Retention > MaxRetention {
		add("retention: %v is not between 1m and %v", c.Retention, MaxRetention)
	}
	return errs
}

// facts is what the answer templates of the knowledge base may name.
type facts struct {
	Insurer               string
	Phone                 string
	OpeningHours          string
	LetterDays            int
	LetterLimit           int
	LetterWindowDays      int
	InitialPasswordDays   int
	PasswordMinLength     int
	PasswordChangesPerDay int
	PINAttempts           int
	MaxDevices            int
	ApprovalMinutes       int
	EIDMinutes            int
	Retention             string
}

func (c Config) facts() facts {
	return facts{
		Insurer: c.InsurerName, Phone: c.Phone, OpeningHours: c.OpeningHours,
		LetterDays: c.LetterDays, LetterLimit: c.LetterLimit, LetterWindowDays: c.LetterWindowDays, InitialPasswordDays: c.InitialPasswordDays,
		PasswordMinLength: c.PasswordMinLength, PasswordChangesPerDay: c.PasswordChangesPerDay,
		PINAttempts: c.PINAttempts, MaxDevices: c.MaxDevices, ApprovalMinutes: c.ApprovalMinutes, EIDMinutes: c.EIDMinutes,
		Retention: germanDuration(c.Retention),
	}
}

// germanDuration says d in German words: "24 Stunden", "7 Tage", "90 Minuten".
func germanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + " Tage"
	case d >= 2*time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " Stunden"
	case d == time.Hour:
		return "eine Stunde"
	default:
		return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " Minuten"
	}
}

// errConfig wraps the problems Validate found.
func errConfig(errs []error) error {
	return fmt.Errorf("assistant: invalid configuration: %w", errors.Join(errs...))
}
