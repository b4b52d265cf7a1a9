package dispatch_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// pdfSink keeps the letters delivered to it.
type pdfSink struct {
	mu   sync.Mutex
	pdfs map[string][]byte
}

func (s *pdfSink) Deliver(_ context.Context, id string, pdf []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pdfs == nil {
		s.pdfs = map[string][]byte{}
	}
	s.pdfs[id] = pdf
	return nil
}

func (s *pdfSink) pdf(id string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pdfs[id]
}

// pdfText is the text of pdf, white space collapsed. Without pdftotext
// (poppler-utils) the test is skipped, or fails under
// PFORTE_TEST_REQUIRE_TOOLS.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("pdftotext is required (PFORTE_TEST_REQUIRE_TOOLS is set): install poppler-utils")
		}
		t.Skip("pdftotext not installed (poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), tool, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// choose stores the person's language choice; "" leaves them without an
// account.
func choose(t *testing.T, st store.Store, p store.Person, choice string) {
	t.Helper()
	if choice == "" {
		return
	}
	if _, err := st.UpdateAccount(t.Context(), p.ID, time.Now(), func(a *store.Account, _ bool) error {
		a.Language = choice
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// wantLanguage checks a letter's stored language and what its PDF says.
func wantLanguage(t *testing.T, st store.Store, pdf []byte, id string, want lang.Language, subject map[lang.Language]string) {
	t.Helper()
	l, err := st.LetterByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := lang.Parse(l.Language); got != want && !(want == lang.German && l.Language == "") {
		t.Errorf("letter stored in %q, want %q", l.Language, want)
	}
	text := pdfText(t, pdf)
	for lg, s := range subject {
		if has := strings.Contains(text, s); has != (lg == want) {
			t.Errorf("letter in %s: has %q = %v:\n%s", want, s, has, text)
		}
	}
}

var passwordSubject = map[lang.Language]string{
	lang.German:  "Ihre Zugangsdaten für das Online-Portal und die Service-App",
	lang.English: "Your login details for the online portal and the Service-App",
}

// TestQueueLanguage: a letter with codes is in the person's chosen language,
// otherwise in the request's, otherwise German; the choice wins.
func TestQueueLanguage(t *testing.T) {
	tests := []struct {
		name      string
		choice    string
		requested lang.Language
		want      lang.Language
	}{
		{"no choice, no request language", "", "", lang.German},
		{"no choice, German request", "", lang.German, lang.German},
		{"no choice, English request", "", lang.English, lang.English},
		{"English choice, German request", "en", lang.German, lang.English},
		{"German choice, English request", "de", lang.English, lang.German},
		{"English choice, no request language", "en", "", lang.English},
		{"unknown choice, English request", "fr", lang.English, lang.English},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := &pdfSink{}
			d, st, p := setupWith(t, dispatch.Config{}, sk)
			p = withSalutation(t, st, p)
			choose(t, st, p, tt.choice)
			q, err := d.Queue(t.Context(), p, letter.KindPassword, tt.requested, dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
				ActivationURL: "https://portal.example/app/activate#code"}, store.LetterCodes{}, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
			if err != nil {
				t.Fatal(err)
			}
			pdf := sk.pdf(q.Letter.ID)
			wantLanguage(t, st, pdf, q.Letter.ID, tt.want, passwordSubject)
			greeting := map[lang.Language]string{lang.German: "Guten Tag Herr Dr. Weiß,", lang.English: "Dear Mr Dr Weiß,"}[tt.want]
			if text := pdfText(t, pdf); !strings.Contains(text, greeting) {
				t.Errorf("letter lacks %q:\n%s", greeting, text)
			}
		})
	}
}

func withSalutation(t *testing.T, st store.Store, p store.Person) store.Person {
	t.Helper()
	p, err := st.UpdatePerson(t.Context(), p.ID, func(q *store.Person) error {
		q.Salutation = "Herr"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExportKeepsTheLanguage: a batch exported later, and a letter released
// from review, print in the language decided at request time, even after the
// person chose another.
func TestExportKeepsTheLanguage(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	ctx := t.Context()
	q, err := d.Queue(ctx, p, letter.KindPassword, lang.English, dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, store.LetterCodes{}, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	choose(t, st, p, "de")
	var pdf, manifest bytes.Buffer
	if b, err := d.Export(ctx, &pdf, &manifest, 10); err != nil || b.Letters != 1 {
		t.Fatalf("export = %+v, %v", b, err)
	}
	wantLanguage(t, st, pdf.Bytes(), q.Letter.ID, lang.English, passwordSubject)
}

func TestReleaseKeepsTheLanguage(t *testing.T) {
	sk := &pdfSink{}
	d, st, p := setupWith(t, dispatch.Config{}, sk)
	ctx := t.Context()
	p, err := st.UpdatePerson(ctx, p.ID, func(q *store.Person) error {
		q.AddressVerifiedAt, q.AddressVerifiedBy = time.Time{}, ""
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q, err := d.Queue(ctx, p, letter.KindActivation, lang.English, dispatch.Secrets{ActivationURL: "https://portal.example/app/activate#c"}, store.LetterCodes{},
		time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
	if err != nil || !q.InReview {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	choose(t, st, p, "de")
	if err := d.Release(ctx, q.Letter.ID, "Sachbearbeiterin A", "Anschrift telefonisch bestätigt"); err != nil {
		t.Fatal(err)
	}
	wantLanguage(t, st, sk.pdf(q.Letter.ID), q.Letter.ID, lang.English, map[lang.Language]string{
		lang.German: "Ihr QR-Code für die Service-App", lang.English: "Your QR code for the Service-App"})
}

// TestNoticesInTheAccountLanguage: notices travel through package notice to
// dispatch in the language the person chose, German without a choice.
func TestNoticesInTheAccountLanguage(t *testing.T) {
	for _, tt := range []struct {
		choice string
		want   lang.Language
	}{{"", lang.German}, {"de", lang.German}, {"en", lang.English}, {"fr", lang.German}} {
		t.Run("choice "+tt.choice, func(t *testing.T) {
			sk := &pdfSink{}
			clock := func() time.Time { return time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC) }
			d, st, p := setupAt(t, dispatch.Config{}, sk, clock)
			choose(t, st, p, tt.choice)
			k, err := seal.GenerateKey("n1")
			if err != nil {
				t.Fatal(err)
			}
			ring, err := seal.NewKeyring(k)
			if err != nil {
				t.Fatal(err)
			}
			svc := notice.New(st, ring, []notice.Channel{notice.ChannelFunc(d.DeliverNotice)}, clock, notice.Config{},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			n, err := notice.NewMaker(ring, clock, nil).Make(p.ID, notice.PasswordChanged, notice.Details{})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.QueueNotice(t.Context(), n); err != nil {
				t.Fatal(err)
			}
			if res, err := svc.Deliver(t.Context()); err != nil || res.Sent != 1 {
				t.Fatalf("deliver = %+v, %v", res, err)
			}
			letters, err := st.PersonLetters(t.Context(), p.ID)
			if err != nil || len(letters) != 1 {
				t.Fatalf("letters %v, %v", letters, err)
			}
			wantLanguage(t, st, sk.pdf(letters[0].ID), letters[0].ID, tt.want, map[lang.Language]string{
				lang.German: "Ihr Passwort wurde geändert", lang.English: "Your password was changed"})
		})
	}
}
