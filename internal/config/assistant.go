package config

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/session"
)

// AssistantSettings is the assistant section of the configuration.
type AssistantSettings struct {
	// PhoneHours says when the service telephone (insurer.phone) is
	// staffed, as a German phrase; the hand-over names it.
	PhoneHours string `yaml:"phone_hours"`
	// Retention is how long a conversation is kept for a hand-over.
	Retention time.Duration `yaml:"retention"`
	// MinConfidence is the confidence (0 to 1) below which the assistant
	// hands over instead of answering.
	MinConfidence float64 `yaml:"min_confidence"`
	// RatePerIP and BurstPerIP bound the questions of one client address
	// (page and API together; token bucket, in memory per node).
	RatePerIP  float64 `yaml:"rate_per_ip"`
	BurstPerIP int     `yaml:"burst_per_ip"`
}

func defaultAssistant() AssistantSettings {
	return AssistantSettings{PhoneHours: "montags bis freitags von 8 bis 18 Uhr",
		Retention: assistant.DefaultRetention, MinConfidence: assistant.DefaultMinConfidence, RatePerIP: 2, BurstPerIP: 20}
}

// validateAssistant checks the keys the assistant adds.
func (c *Config) validateAssistant() []string {
	var p []string
	if h := strings.TrimSpace(c.Assistant.PhoneHours); h == "" || len([]rune(h)) > 200 {
		p = append(p, "assistant.phone_hours: required, at most 200 characters")
	}
	if c.Assistant.Retention < time.Minute || c.Assistant.Retention > assistant.MaxRetention {
		p = append(p, fmt.Sprintf("assistant.retention: %v is not between 1m and %v", c.Assistant.Retention, assistant.MaxRetention))
	}
	if v := c.Assistant.MinConfidence; math.IsNaN(v) || v <= 0 || v >= 1 {
		p = append(p, fmt.Sprintf("assistant.min_confidence: %v is not between 0 and 1 (exclusive)", v))
	}
	if r := c.Assistant.RatePerIP; !(r > 0) || math.IsInf(r, 0) {
		p = append(p, fmt.Sprintf("assistant.rate_per_ip: %v is not a positive number", r))
	}
	if c.Assistant.BurstPerIP < 1 {
		p = append(p, fmt.Sprintf("assistant.burst_per_ip: %d is not at least 1", c.Assistant.BurstPerIP))
	}
	if c.Letters.DeliveryDays < 1 || c.Letters.DeliveryDays > 30 {
		p = append(p, fmt.Sprintf("letters.delivery_days: %d is not between 1 and 30", c.Letters.DeliveryDays))
	}
	return p
}

// AssistantConfig is what the assistant tells people, taken from the
// settings the node enforces: its answers name no limit of their own.
func (c *Config) AssistantConfig() assistant.Config {
	return assistant.Config{
		InsurerName:           c.Insurer.Name,
		Phone:                 c.Insurer.Phone,
		OpeningHours:          c.Assistant.PhoneHours,
		LetterDays:            c.Letters.DeliveryDays,
		LetterLimit:           c.Letters.PersonLimit,
		LetterWindowDays:      int(dispatch.DefaultPersonWindow / (24 * time.Hour)),
		InitialPasswordDays:   int(account.DefaultInitialValidity / (24 * time.Hour)),
		PasswordMinLength:     c.Password.MinLength,
		PasswordChangesPerDay: c.Password.MaxChangesPerDay,
		PINAttempts:           c.Device.PINLimit,
		MaxDevices:            c.Device.MaxDevices,
		ApprovalMinutes:       int(math.Ceil(c.Approvals.TTL.Minutes())),
		EIDMinutes:            int(session.EIDFreshness / time.Minute),
		MinConfidence:         c.Assistant.MinConfidence,
		Retention:             c.Assistant.Retention,
	}
}
