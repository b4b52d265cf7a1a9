package letter

import (
	"testing"
	"time"
)

// The fixtures below are synthetic: no real person, insurer or code.

func testSender() Sender {
	return Sender{
		Name:       "Beispiel-Krankenkasse Süd",
		Street:     "Königstraße 12",
		PostalCity: "70173 Stuttgart",
		Phone:      "0800 123 456 7",
		Web:        "www.beispiel-kasse.de",
	}
}

var (
	testDate  = time.Date(2026, time.November, 29, 9, 30, 0, 0, time.UTC)
	testUntil = time.Date(2026, time.December, 29, 22, 59, 0, 0, time.UTC) // 23:59 in Germany
	testEvent = time.Date(2026, time.November, 28, 14, 3, 0, 0, time.UTC)  // 15:03 in Germany
)

const (
	testPassword = "K7PX9MRT4QWZ"
	testURL      = "https://portal.beispiel-kasse.de/app/activate#q2Xr8vN4kP1sT6wY9bC3dF"
)

func testRecipient() Recipient {
	return Recipient{Lines: []string{
		"Frau Dr. Änne Müller-Lüdenscheidt",
		"c/o Café Größenwahn €",
		"Straße des 17. Juni 5",
		"80331 München",
	}}
}

// testLetter returns a valid letter of kind k.
func testLetter(k Kind) Letter {
	l := Letter{
		ID:         "PB-2026-000123",
		Kind:       k,
		Date:       testDate,
		Recipient:  testRecipient(),
		Salutation: "Sehr geehrte Frau Dr. Müller-Lüdenscheidt,",
		KVNR:       "X110411675",
	}
	switch k {
	case KindPassword, KindPasswordReset:
		l.InitialPassword = testPassword
		l.ActivationURL = testURL
		l.ValidUntil = testUntil
	case KindActivation:
		l.ActivationURL = testURL
		l.ValidUntil = testUntil
	case KindDeviceBound, KindDeviceRemoved:
		l.DeviceName = "Pixel 8 von Änne"
		l.ChangedAt = testEvent
	case KindPINLocked:
		l.DeviceName = "Pixel 8 von Änne"
		l.ChangedAt = testEvent
	case KindPasswordChanged, KindAddressChanged, KindBankChanged, KindLoginLocked:
		l.ChangedAt = testEvent
	}
	return l
}

var allKinds = []Kind{KindPassword, KindActivation, KindDeviceBound, KindPasswordChanged, KindAddressChanged, KindPINLocked, KindPasswordReset,
	KindBankChanged, KindDeviceRemoved, KindLoginLocked}

func testRenderer(t testing.TB, opts ...Option) *Renderer {
	t.Helper()
	r, err := NewRenderer(testSender(), opts...)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}
