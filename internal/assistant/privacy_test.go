package assistant

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestAssistantMask(t *testing.T) {
	tests := []struct {
		in     string
		secret []string // must not survive
		want   []Sensitive
	}{
		{"Meine KVNR ist X110411675, wie bekomme ich Zugang?", []string{"X110411675", "110411675"}, []Sensitive{SensitiveKVNR}},
		{"kvnr a 1234 5678 9 geht nicht", []string{"1234", "5678"}, []Sensitive{SensitiveKVNR}},
		{"Neue IBAN DE89 3704 0044 0532 0130 00 eintragen", []string{"3704", "DE89", "0532"}, []Sensitive{SensitiveIBAN}},
		{"iban de89370400440532013000 ändern", []string{"370400440532013000"}, []Sensitive{SensitiveIBAN}},
		{"Ich bin am 14.03.1970 geboren", []string{"14.03.1970", "1970"}, []Sensitive{SensitiveDate}},
		{"geboren 1970-03-14", []string{"1970-03-14"}, []Sensitive{SensitiveDate}},
		{"Geburtstag 3. März 1985", []string{"1985", "März 1985"}, []Sensitive{SensitiveDate}},
		{"meine PIN 482913 geht nicht", []string{"482913"}, []Sensitive{SensitiveNumber}},
		{"PIN 48 29 13 gesperrt", []string{"48 29 13"}, []Sensitive{SensitiveNumber}},
		{"Freigabe-PIN ist 482913", []string{"482913"}, []Sensitive{SensitiveSecret}},
		{"mein Passwort ist Sommer2024! und geht nicht", []string{"Sommer2024"}, []Sensitive{SensitiveSecret}},
		{"Mein Kennwort lautet „Hallo Welt“", []string{"Hallo"}, []Sensitive{SensitiveSecret}},
		{"Passwort: geheim123", []string{"geheim123"}, []Sensitive{SensitiveSecret}},
		{"Initialpasswort ABCD EFGH JKLM NPQR geht nicht", []string{"ABCD", "NPQR"}, []Sensitive{SensitiveSecret}},
		{"der code abcd-efgh-2345-6789 ist falsch", []string{"abcd", "6789"}, []Sensitive{SensitiveSecret}},
		{"Aktivierungscode x7Kp2mQ9vR4tW8yZ1bN3cD geht nicht", []string{"x7Kp2mQ9vR4tW8yZ1bN3cD"}, []Sensitive{SensitiveSecret}},
		{"Schreibt mir an max.muster@example.org", []string{"max.muster@example.org", "example.org"}, []Sensitive{SensitiveEmail}},
		{"Ruft mich an: 0171 2345678", []string{"0171", "2345678"}, []Sensitive{SensitiveNumber}},
		{"Voll breite PIN １２３４５６", []string{"123456", "１２３４５６"}, []Sensitive{SensitiveNumber}},
	}
	for _, tc := range tests {
		got, kinds := mask(neutralise(tc.in))
		for _, s := range tc.secret {
			if strings.Contains(got, s) {
				t.Errorf("mask(%q) = %q, still holds %q", tc.in, got, s)
			}
		}
		for _, k := range tc.want {
			if !slices.Contains(kinds, k) {
				t.Errorf("mask(%q) found %v, want %s among them", tc.in, kinds, k)
			}
		}
		if again, more := mask(got); len(more) > 0 || again != got {
			t.Errorf("masking %q again changed it: %q %v", got, again, more)
		}
	}
}

// TestAssistantMaskKeepsQuestions checks that ordinary questions pass
// masking unchanged, so that masking does not cost answers.
func TestAssistantMaskKeepsQuestions(t *testing.T) {
	for _, q := range []string{
		"Wie lange dauert der Passwortbrief?",
		"Mein Passwort ist abgelaufen, was nun?",
		"Die Freigabe-PIN ist gesperrt",
		"Mein Kennwort ist falsch",
		"Kann ich 3 Geräte verbinden?",
		"Was bedeutet Vertrauensniveau substantiell?",
		"Mein Kind ist 15, braucht es einen eigenen Zugang?",
		"Der Code ist abgelaufen",
		"Was steht im Brief vom 3. März?",
	} {
		if got, kinds := mask(q); got != q || len(kinds) > 0 {
			t.Errorf("mask(%q) = %q %v, want it unchanged", q, got, kinds)
		}
	}
}

func TestAssistantNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Wie\x00 lange\x1b[31m dauert\u200b der\u202e Brief?\r\n", "Wie lange [31m dauert der Brief?"},
		{"<script>alert(1)</script>Passwort <b>vergessen</b>", "alert(1) Passwort vergessen"},
		{"&lt;img src=x onerror=alert(1)&gt; Brief", "Brief"},
		{"Passwort\xff\xfe vergessen", "Passwort vergessen"},
		{"  viel   \t Platz  ", "viel Platz"},
		{"a < b > c", "a c"},
		{"1 < 2", "1 2"},
		{"Ｐａｓｓｗｏｒｔ", "Passwort"},
	}
	for _, tc := range tests {
		if got := neutralise(tc.in); got != tc.want {
			t.Errorf("neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// neutralised reports whether s holds nothing neutralise removes.
func neutralised(s string) bool {
	for _, r := range s {
		if r == '<' || r == '>' || r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r != ' ' && unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
