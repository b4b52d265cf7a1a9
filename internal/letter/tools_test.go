package letter

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// needTool returns the path of a poppler-utils program. Without it the test
// is skipped, or fails when PFORTE_TEST_REQUIRE_TOOLS=1 (as in CI).
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (PFORTE_TEST_REQUIRE_TOOLS=1): install poppler-utils", name)
		}
		t.Skipf("%s not installed (poppler-utils)", name)
	}
	return path
}

// writePDF writes b to a temporary file and returns its path.
func writePDF(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pdfText runs pdftotext on the PDF with extra arguments and returns the text
// with every run of white space collapsed to one space.
func pdfText(t *testing.T, pdf string, args ...string) string {
	t.Helper()
	tool := needTool(t, "pdftotext")
	args = append(append([]string{"-enc", "UTF-8"}, args...), pdf, "-")
	out, err := exec.CommandContext(t.Context(), tool, args...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestPDFText(t *testing.T) {
	r := testRenderer(t)
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			l := testLetter(k)
			b, err := r.Render(l)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			text := pdfText(t, writePDF(t, b))
			want := []string{
				letterText(testSender(), l).subject,
				l.Salutation,
				"29. November 2026",
				"Brief-Nr. " + l.ID,
				"Rufen Sie uns", "0800 123 456 7",
				"Beispiel-Krankenkasse Süd", "Königstraße 12",
				"Mit freundlichen Grüßen",
			}
			want = append(want, l.Recipient.Lines...) // umlauts, ß and € in the address
			switch k {
			case KindPassword:
				want = append(want, "Initialpasswort: K7PX 9MRT 4QWZ", "gültig bis 29. Dezember 2026", "portal.beispiel-kasse.de")
			case KindPasswordReset:
				want = append(want, "Rücksetzcode: K7PX 9MRT 4QWZ", "portal.beispiel-kasse.de")
			case KindActivation:
				want = append(want, "gültig bis 29. Dezember 2026", "portal.beispiel-kasse.de")
			case KindDeviceBound, KindPINLocked:
				want = append(want, "28. November 2026 um 15:03 Uhr", "„Pixel 8 von Änne“")
			default:
				want = append(want, "28. November 2026 um 15:03 Uhr")
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("pdftotext output lacks %q:\n%s", w, text)
				}
			}
			// The QR code carries the URL; the text shows only its host.
			for _, secret := range []string{testURL, "q2Xr8vN4kP1sT6wY9bC3dF", "/app/activate"} {
				if strings.Contains(text, secret) {
					t.Errorf("pdftotext output contains %q", secret)
				}
			}
			if k != KindPassword && strings.Contains(text, "Initialpasswort:") {
				t.Errorf("%s letter prints a password label", k)
			}
		})
	}
}

// TestWindowText reads the text inside the envelope window from the PDF: only
// the return line and the address may be there.
func TestWindowText(t *testing.T) {
	l := testLetter(KindPassword)
	b, err := testRenderer(t).Render(l)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	w := pageLayout.window
	pt := func(mm float64) string { return fmt.Sprintf("%d", int(mm*72/25.4)) }
	text := pdfText(t, writePDF(t, b), "-r", "72", "-x", pt(w.X), "-y", pt(w.Y), "-W", pt(w.W), "-H", pt(w.H))
	want := strings.Join(append([]string{testSender().returnLine()}, l.Recipient.Lines...), " ")
	if text != want {
		t.Errorf("text in the window = %q, want %q", text, want)
	}
}

func TestQRCodeDecodes(t *testing.T) {
	tool := needTool(t, "pdftoppm")
	urls := []string{
		testURL,
		"https://portal.beispiel-kasse.de/app/activate#" + strings.Repeat("Zq9", (MaxURLLen-46)/3),
	}
	for _, k := range []Kind{KindPassword, KindActivation} {
		for _, u := range urls {
			t.Run(fmt.Sprintf("%s/%d", k, len(u)), func(t *testing.T) {
				l := testLetter(k)
				l.ActivationURL = u
				b, err := testRenderer(t).Render(l)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				pdf := writePDF(t, b)
				prefix := filepath.Join(t.TempDir(), "page")
				const dpi = 200
				if out, err := exec.CommandContext(t.Context(), tool, "-r", fmt.Sprint(dpi), "-png", "-singlefile", pdf, prefix).CombinedOutput(); err != nil {
					t.Fatalf("pdftoppm: %v: %s", err, out)
				}
				f, err := os.Open(prefix + ".png")
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				page, err := png.Decode(f)
				if err != nil {
					t.Fatalf("decode PNG: %v", err)
				}
				// Look only where the layout puts the code, with some margin.
				s := pageLayout.qrSlot
				px := func(mm float64) int { return int(mm * dpi / 25.4) }
				area := image.Rect(px(s.X-3), px(s.Y-3), px(s.right()+3), px(s.bottom()+3))
				img := page.(interface {
					SubImage(image.Rectangle) image.Image
				}).SubImage(area)
				bmp, err := gozxing.NewBinaryBitmapFromImage(img)
				if err != nil {
					t.Fatalf("bitmap: %v", err)
				}
				res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
				if err != nil {
					t.Fatalf("decode QR code: %v", err)
				}
				if got := res.GetText(); got != u {
					t.Errorf("QR code = %q, want %q", got, u)
				}
				// The code's link is what the code carries.
				if link, err := ActivationLink(b); err != nil || link != res.GetText() {
					t.Errorf("ActivationLink = %q, %v; want the QR code's %q", link, err, res.GetText())
				}
			})
		}
	}
}

func TestBatchPagesHoldTheirLetters(t *testing.T) {
	r := testRenderer(t)
	var letters []Letter
	for i, k := range allKinds {
		l := testLetter(k)
		l.ID = fmt.Sprintf("B-%03d", i+1)
		letters = append(letters, l)
	}
	var buf bytes.Buffer
	res, err := r.RenderBatch(&buf, letters)
	if err != nil {
		t.Fatalf("RenderBatch: %v", err)
	}
	pdf := writePDF(t, buf.Bytes())
	for _, e := range res.Entries {
		p := fmt.Sprint(e.FirstPage)
		text := pdfText(t, pdf, "-f", p, "-l", p)
		if !strings.Contains(text, "Brief-Nr. "+e.LetterID) {
			t.Errorf("page %s lacks letter %s:\n%s", p, e.LetterID, text)
		}
	}
}
