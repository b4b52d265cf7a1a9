package assistant

import (
	"bytes"
	"testing"
	"time"
)

// testConfig is a complete configuration with values unlike the defaults
// of the node, so a test sees that answers take them from here.
func testConfig() Config {
	return Config{
		InsurerName: "Testkasse", Phone: "0800 111 222", OpeningHours: "montags bis freitags von 8 bis 18 Uhr",
		LetterDays: 4, LetterLimit: 2, LetterWindowDays: 31, InitialPasswordDays: 33, PasswordMinLength: 11,
		PasswordChangesPerDay: 4, PINAttempts: 4, MaxDevices: 2, ApprovalMinutes: 6, EIDMinutes: 14,
	}
}

// fixedClock is a clock a test moves by hand.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func newTestAssistant(t testing.TB, conv Conversations) (*Assistant, *fixedClock) {
	t.Helper()
	clock := &fixedClock{t: time.Date(2027, 3, 14, 10, 0, 0, 0, time.UTC)}
	if conv == nil {
		conv = NewMemoryConversations(100)
	}
	a, err := New(testConfig(), KnowledgeBase(), conv, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	return a, clock
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// fixedNow is a clock for tests that do not move time.
func fixedNow() time.Time { return time.Date(2027, 3, 14, 10, 0, 0, 0, time.UTC) }
