package letter

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/lang"
)

func TestGroupPassword(t *testing.T) {
	tests := []struct{ in, want string }{
		{"K7PX9MRT4QWZ", "K7PX 9MRT 4QWZ"},
		{"ABCDEFGHJKLMN", "ABCD EFGH JKLM N"},
		{"ABCD", "ABCD"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := groupPassword(tt.in); got != tt.want {
			t.Errorf("groupPassword(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRecipientValidation(t *testing.T) {
	r := testRenderer(t)
	tests := []struct {
		name  string
		lines []string
		ok    bool
	}{
		{"typical", []string{"Herrn Jürgen Müller", "Hauptstraße 1", "12345 Berlin"}, true},
		{"one line", []string{"Postfach 12 34 56"}, true},
		{"six lines", []string{"a", "b", "c", "d", "e", "f"}, true},
		{"forty characters", []string{strings.Repeat("ß", 40)}, true},
		{"forty capitals shrink", []string{"HERRN PROF. DR. JÜRGEN MÜLLER-LÜDENSCHEI"}, true},
		{"umlauts and euro", []string{"Café €uro Öl-Äpfel", "Überweg 3"}, true},
		{"none", nil, false},
		{"seven lines", []string{"a", "b", "c", "d", "e", "f", "g"}, false},
		{"forty-one characters", []string{strings.Repeat("a", 41)}, false},
		{"empty line", []string{"Herrn Müller", "", "12345 Berlin"}, false},
		{"leading space", []string{" Herrn Müller"}, false},
		{"control character", []string{"Herrn\tMüller"}, false},
		{"invalid utf-8", []string{"M\xfcller"}, false},
		{"not in font", []string{"Herrn 王"}, false},
		{"outside BMP", []string{"Herrn 𝔐"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLetter(KindPasswordChanged)
			l.Recipient = Recipient{Lines: tt.lines}
			_, err := r.Render(l)
			if tt.ok && err != nil {
				t.Fatalf("Render: %v, want no error", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Render: %v, want an error wrapping ErrInvalid", err)
			}
		})
	}
}

func TestRecipientTooWideForWindow(t *testing.T) {
	// Forty characters of the widest letters do not fit even at 8 pt.
	l := testLetter(KindPasswordChanged)
	l.Recipient = Recipient{Lines: []string{strings.Repeat("WM", 20)}}
	_, err := testRenderer(t).Render(l)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Render: %v, want ErrInvalid", err)
	}
}

func TestLetterValidation(t *testing.T) {
	r := testRenderer(t)
	tests := []struct {
		name   string
		kind   Kind
		modify func(*Letter)
		ok     bool
	}{
		{"password", KindPassword, func(*Letter) {}, true},
		{"longest password", KindPassword, func(l *Letter) { l.InitialPassword = strings.Repeat("W", MaxPasswordLen) }, true},
		{"empty salutation", KindPassword, func(l *Letter) { l.Salutation = "" }, true},
		{"no kvnr", KindPassword, func(l *Letter) { l.KVNR = "" }, true},
		{"pin locked without device", KindPINLocked, func(l *Letter) { l.DeviceName = "" }, true},
		{"english", KindPassword, func(l *Letter) { l.Language = lang.English }, true},
		{"german", KindPassword, func(l *Letter) { l.Language = lang.German }, true},
		{"unknown language", KindPassword, func(l *Letter) { l.Language = "fr" }, false},
		{"language as a tag", KindPassword, func(l *Letter) { l.Language = "en-GB" }, false},
		{"no id", KindPassword, func(l *Letter) { l.ID = "" }, false},
		{"id with space", KindPassword, func(l *Letter) { l.ID = "PB 1" }, false},
		{"id too long", KindPassword, func(l *Letter) { l.ID = strings.Repeat("a", MaxIDLen+1) }, false},
		{"unknown kind", Kind(99), func(*Letter) {}, false},
		{"zero kind", Kind(0), func(*Letter) {}, false},
		{"no date", KindPassword, func(l *Letter) { l.Date = time.Time{} }, false},
		{"bad kvnr", KindPassword, func(l *Letter) { l.KVNR = "x11041167" }, false},
		{"short password", KindPassword, func(l *Letter) { l.InitialPassword = "ABCDEFGHJKL" }, false},
		{"long password", KindPassword, func(l *Letter) { l.InitialPassword = strings.Repeat("A", MaxPasswordLen+1) }, false},
		{"password with space", KindPassword, func(l *Letter) { l.InitialPassword = "ABCD EFGH JKLM" }, false},
		{"password with umlaut", KindPassword, func(l *Letter) { l.InitialPassword = "ABCDÄFGHJKLMN" }, false},
		{"no url", KindPassword, func(l *Letter) { l.ActivationURL = "" }, false},
		{"relative url", KindPassword, func(l *Letter) { l.ActivationURL = "/app/activate#x" }, false},
		{"ftp url", KindPassword, func(l *Letter) { l.ActivationURL = "ftp://x.example/a" }, false},
		{"url too long", KindPassword, func(l *Letter) { l.ActivationURL = testURL + strings.Repeat("a", MaxURLLen) }, false},
		{"no valid until", KindPassword, func(l *Letter) { l.ValidUntil = time.Time{} }, false},
		{"valid until before date", KindPassword, func(l *Letter) { l.ValidUntil = l.Date.Add(-time.Hour) }, false},
		{"activation with password", KindActivation, func(l *Letter) { l.InitialPassword = testPassword }, false},
		{"notice with url", KindPasswordChanged, func(l *Letter) { l.ActivationURL = testURL }, false},
		{"notice with valid until", KindAddressChanged, func(l *Letter) { l.ValidUntil = testUntil }, false},
		{"password letter with device", KindPassword, func(l *Letter) { l.DeviceName = "Pixel" }, false},
		{"device bound without device", KindDeviceBound, func(l *Letter) { l.DeviceName = "" }, false},
		{"device bound without time", KindDeviceBound, func(l *Letter) { l.ChangedAt = time.Time{} }, false},
		{"password letter with changed at", KindPassword, func(l *Letter) { l.ChangedAt = testEvent }, false},
		{"salutation too long", KindPassword, func(l *Letter) { l.Salutation = strings.Repeat("a", 81) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLetter(tt.kind)
			l.Kind = tt.kind
			tt.modify(&l)
			_, err := r.Render(l)
			if tt.ok && err != nil {
				t.Fatalf("Render: %v, want no error", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Render: %v, want an error wrapping ErrInvalid", err)
				}
				if msg := err.Error(); strings.Contains(msg, l.InitialPassword) && l.InitialPassword != "" {
					t.Errorf("error %q contains the password", msg)
				}
			}
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	l := testLetter(KindPassword)
	l.InitialPassword = "short"
	l.ActivationURL = ""
	l.Recipient.Lines = append(l.Recipient.Lines, "", strings.Repeat("x", 41))
	_, err := testRenderer(t).Render(l)
	for _, want := range []string{"initial password", "activation url", "recipient line 5", "recipient line 6"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Render error %v does not mention %q", err, want)
		}
	}
}

func TestSenderValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Sender)
		ok     bool
	}{
		{"valid", func(*Sender) {}, true},
		{"own return line", func(s *Sender) { s.ReturnLine = "BKK Süd · Postfach 10 · 70001 Stuttgart" }, true},
		{"no name", func(s *Sender) { s.Name = "" }, false},
		{"no phone", func(s *Sender) { s.Phone = "" }, false},
		{"no web", func(s *Sender) { s.Web = "" }, false},
		{"control character", func(s *Sender) { s.Street = "Königstraße\n12" }, false},
		{"web too wide for info block", func(s *Sender) { s.Web = "www." + strings.Repeat("w", 50) + ".de" }, false},
		{"return line too wide", func(s *Sender) { s.ReturnLine = strings.Repeat("W", 80) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSender()
			tt.modify(&s)
			_, err := NewRenderer(s)
			if tt.ok && err != nil {
				t.Fatalf("NewRenderer: %v, want no error", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("NewRenderer: %v, want an error wrapping ErrInvalid", err)
			}
		})
	}
}

func TestLetterRedacts(t *testing.T) {
	l := testLetter(KindPassword)
	secrets := []string{
		l.InitialPassword, groupPassword(l.InitialPassword), l.ActivationURL, "q2Xr8vN4kP1sT6wY9bC3dF",
		l.KVNR, "Müller", "München",
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("queued", "letter", l, "recipient", l.Recipient)
	var jsonLogged bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLogged, nil)).Info("queued", "letter", l)
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", l),
		"%+v":       fmt.Sprintf("%+v", l),
		"%#v":       fmt.Sprintf("%#v", l),
		"%s":        fmt.Sprintf("%s", l),
		"%v ptr":    fmt.Sprintf("%v", &l),
		"slice":     fmt.Sprintf("%+v", []Letter{l}),
		"recipient": fmt.Sprintf("%+v", l.Recipient),
		"slog text": logged.String(),
		"slog json": jsonLogged.String(),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output %q contains %q", name, out, s)
			}
		}
		if name != "recipient" && !strings.Contains(out, l.ID) {
			t.Errorf("%s output %q lacks the letter id", name, out)
		}
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range allKinds {
		s := k.String()
		if seen[s] || strings.HasPrefix(s, "kind(") {
			t.Errorf("Kind(%d).String() = %q: duplicate or unnamed", int(k), s)
		}
		seen[s] = true
	}
	if got, want := Kind(42).String(), "kind(42)"; got != want {
		t.Errorf("Kind(42).String() = %q, want %q", got, want)
	}
}

// FuzzActivationLink: reading a link from any bytes never panics, and what it
// returns is an activation URL.
func FuzzActivationLink(f *testing.F) {
	f.Add([]byte("/URI (https://p.example/app/activate#abc)"))
	f.Add([]byte("/URI (https://p.example/other) /URI (https://p.example/app/activate#x\\)y)"))
	f.Add([]byte("/URI (unterminated"))
	f.Add([]byte("/URI (a(b)c\\\\)"))
	f.Fuzz(func(t *testing.T, pdf []byte) {
		link, err := ActivationLink(pdf)
		if err == nil && (!strings.Contains(link, "/app/activate#") || len(link) > maxLinkLen) {
			t.Errorf("ActivationLink(%q) = %q", pdf, link)
		}
	})
}

func TestActivationLinkEscapes(t *testing.T) {
	got, err := ActivationLink([]byte(`<< /URI (https://p.example/x) >> << /URI (https://p.example/app/activate#a\)b\\c) >>`))
	if err != nil || got != `https://p.example/app/activate#a)b\c` {
		t.Errorf("ActivationLink = %q, %v", got, err)
	}
	if _, err := ActivationLink([]byte("no link")); !errors.Is(err, ErrNoActivationLink) {
		t.Errorf("no link: %v", err)
	}
}
