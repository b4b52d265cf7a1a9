package letter

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/lang"
)

// TestLettersInBothLanguages renders every kind in German and in English and
// reads the PDFs back: each has its language's text and labels and none of
// the other's, names and addresses print as given, and no text is missing
// from the catalogue.
func TestLettersInBothLanguages(t *testing.T) {
	r := testRenderer(t)
	// Words of each language's labels that the other language never prints.
	only := map[lang.Language][]string{
		lang.German:  {"Mit freundlichen Grüßen", "Brief-Nr.", "Telefon 0800", "Datum 29. November", "Internet www."},
		lang.English: {"Kind regards", "Letter no.", "Phone 0800", "Date 29 November", "Website www."},
	}
	for _, k := range allKinds {
		for _, lg := range lang.All() {
			t.Run(k.String()+"/"+string(lg), func(t *testing.T) {
				l := testLetter(k)
				l.Language = lg
				if lg == lang.English {
					l.Salutation = "Dear Ms Dr Müller-Lüdenscheidt,"
				}
				b, err := r.Render(l)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				text := pdfText(t, writePDF(t, b))
				c := letterText(testSender(), l)
				want := []string{c.subject, l.Salutation, c.alertBold, c.alertRest, lg.Date(l.Date),
					lg.T("letter.footer.letter_no", l.ID), lg.T("letter.closing")}
				want = append(want, c.intro...)
				want = append(want, c.steps...)
				want = append(want, c.after...)
				want = append(want, only[lg]...)
				want = append(want, l.Recipient.Lines...) // umlauts, ß and € as given
				if c.stepsTitle != "" {
					want = append(want, c.stepsTitle)
				}
				switch k {
				case KindPassword:
					want = append(want, lg.T("letter.secret.initial_password")+" K7PX 9MRT 4QWZ")
				case KindPasswordReset:
					want = append(want, lg.T("letter.secret.reset_code")+" K7PX 9MRT 4QWZ")
				case KindActivation:
					want = append(want, lg.T("letter.secret.qr_heading"))
				case KindDeviceBound, KindDeviceRemoved, KindPINLocked:
					want = append(want, "Pixel 8 von Änne", lg.DateTime(testEvent))
				default:
					want = append(want, lg.DateTime(testEvent))
				}
				if k.hasSecrets() {
					want = append(want, lg.T("letter.secret.valid_until", lg.Date(testUntil)), lg.T("letter.secret.qr_caption"))
				}
				for _, w := range want {
					if !strings.Contains(text, w) {
						t.Errorf("pdftotext output lacks %q:\n%s", w, text)
					}
				}
				other := lang.English
				if lg == lang.English {
					other = lang.German
				}
				for _, w := range append(only[other], "⟦", "%!") {
					if strings.Contains(text, w) {
						t.Errorf("a %s letter prints %q:\n%s", lg, w, text)
					}
				}
				if lg == lang.English && !strings.Contains(text, "German time") && !k.hasSecrets() {
					t.Errorf("an English notice gives a time without saying it is German time:\n%s", text)
				}
			})
		}
	}
}

// TestGermanLetterUnchanged pins the German words the other packages and the
// print service rely on.
func TestGermanLetterUnchanged(t *testing.T) {
	for _, l := range []Letter{testLetter(KindPassword), func() Letter { l := testLetter(KindPassword); l.Language = lang.German; return l }()} {
		b, err := testRenderer(t).Render(l)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		text := pdfText(t, writePDF(t, b))
		for _, w := range []string{
			"Ihre Zugangsdaten für das Online-Portal und die Service-App",
			"Initialpasswort: K7PX 9MRT 4QWZ",
			"gültig bis 29. Dezember 2026",
			"So geht es weiter: 1. Öffnen Sie das Portal unter www.beispiel-kasse.de.",
			"Haben Sie diesen Brief nicht angefordert? Rufen Sie uns an: 0800 123 456 7",
			"Telefon 0800 123 456 7 · www.beispiel-kasse.de",
			"Brief-Nr. PB-2026-000123",
		} {
			if !strings.Contains(text, w) {
				t.Errorf("pdftotext output lacks %q:\n%s", w, text)
			}
		}
	}
}

// TestDefaultSalutation: without a salutation the letter greets in its
// language.
func TestDefaultSalutation(t *testing.T) {
	for lg, want := range map[lang.Language]string{lang.German: "Guten Tag,", lang.English: "Dear Sir or Madam,", "": "Guten Tag,"} {
		l := testLetter(KindPasswordChanged)
		l.Language, l.Salutation = lg, ""
		b, err := testRenderer(t).Render(l)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if text := pdfText(t, writePDF(t, b)); !strings.Contains(text, want) {
			t.Errorf("%q: lacks %q:\n%s", lg, want, text)
		}
	}
}

// TestPDFLanguage: a letter's PDF names its language for screen readers; a
// batch is German.
func TestPDFLanguage(t *testing.T) {
	r := testRenderer(t)
	for lg, want := range map[lang.Language]string{"": "/Lang (de-DE)", lang.German: "/Lang (de-DE)", lang.English: "/Lang (en-GB)"} {
		l := testLetter(KindActivation)
		l.Language = lg
		b, err := r.Render(l)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%q: the PDF lacks %s", lg, want)
		}
	}
	l := testLetter(KindActivation)
	l.Language = lang.English
	var buf bytes.Buffer
	if _, err := r.RenderBatch(&buf, []Letter{l}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("/Lang (de-DE)")) {
		t.Error("the batch PDF is not German")
	}
}

// TestMixedBatch: one batch holds letters in both languages, each page in
// its letter's language.
func TestMixedBatch(t *testing.T) {
	var letters []Letter
	for i, lg := range []lang.Language{lang.German, lang.English, lang.German} {
		l := testLetter(KindDeviceBound)
		l.ID = "B-" + string(rune('1'+i))
		l.Language = lg
		letters = append(letters, l)
	}
	var buf bytes.Buffer
	res, err := testRenderer(t).RenderBatch(&buf, letters)
	if err != nil {
		t.Fatalf("RenderBatch: %v", err)
	}
	pdf := writePDF(t, buf.Bytes())
	for i, e := range res.Entries {
		p := strconv.Itoa(e.FirstPage)
		text := pdfText(t, pdf, "-f", p, "-l", p)
		subject := letterText(testSender(), letters[i]).subject
		if !strings.Contains(text, subject) {
			t.Errorf("page %s lacks %q:\n%s", p, subject, text)
		}
	}
}

// TestValuesAreNeverFormats: what a person or the insurer typed (a device
// name, the sender's phone and web address) is an argument of a text, never
// part of its format, in every language: printf verbs in it print as typed.
func TestValuesAreNeverFormats(t *testing.T) {
	sender := testSender()
	sender.Phone = "0800 %d 100%%"
	sender.Web = "www.%s.de"
	r, err := NewRenderer(sender)
	if err != nil {
		t.Fatal(err)
	}
	const device = "Pixel %s %[1]d %v"
	for _, k := range []Kind{KindDeviceBound, KindDeviceRemoved, KindPINLocked, KindPassword} {
		for _, lg := range lang.All() {
			l := testLetter(k)
			l.Language = lg
			if l.DeviceName != "" {
				l.DeviceName = device
			}
			b, err := r.Render(l)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			text := pdfText(t, writePDF(t, b))
			want := []string{sender.Phone, sender.Web}
			if l.DeviceName != "" {
				want = append(want, device)
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s/%s: %q is not printed as typed:\n%s", k, lg, w, text)
				}
			}
			if strings.Contains(text, "%!") {
				t.Errorf("%s/%s: a value was read as a format:\n%s", k, lg, text)
			}
		}
	}
}
