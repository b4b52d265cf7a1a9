package letter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestGoldenPasswordLetter(t *testing.T) {
	got, err := testRenderer(t).Render(testLetter(KindPassword))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	pdfPath := filepath.Join("testdata", "password_letter.pdf")
	sumPath := pdfPath + ".sha256"
	sum := sha256.Sum256(got)
	gotSum := hex.EncodeToString(sum[:]) + "  password_letter.pdf\n"
	if *update {
		if err := os.WriteFile(pdfPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sumPath, []byte(gotSum), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(pdfPath)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	wantSum, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatalf("read golden checksum: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Render differs from %s: got sha256 %s, want %s (run with -update if the change is intended)",
			pdfPath, strings.Fields(gotSum)[0], strings.Fields(string(wantSum))[0])
	}
	if gotSum != string(wantSum) {
		t.Errorf("checksum: got %q, want %q", gotSum, wantSum)
	}
}

func TestDeterministic(t *testing.T) {
	r := testRenderer(t)
	render := func(l Letter) []byte {
		t.Helper()
		b, err := r.Render(l)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		return b
	}
	first := render(testLetter(KindPassword))
	// Other letters in between must not change the next one.
	for _, k := range allKinds {
		render(testLetter(k))
	}
	if !bytes.Equal(first, render(testLetter(KindPassword))) {
		t.Error("rendering the same letter twice gave different bytes")
	}
	if !bytes.Equal(first, testRendererBytes(t, testLetter(KindPassword))) {
		t.Error("a second renderer gave different bytes")
	}

	changes := map[string]func(*Letter){
		"date":     func(l *Letter) { l.Date = l.Date.AddDate(0, 0, 1) },
		"password": func(l *Letter) { l.InitialPassword = "M4TQ7ZXPK9RW" },
		"url":      func(l *Letter) { l.ActivationURL = testURL + "x" },
		"id":       func(l *Letter) { l.ID = "PB-2026-000124" },
	}
	for name, change := range changes {
		l := testLetter(KindPassword)
		change(&l)
		if bytes.Equal(first, render(l)) {
			t.Errorf("changing the %s did not change the bytes", name)
		}
	}
}

func testRendererBytes(t *testing.T, l Letter) []byte {
	t.Helper()
	b, err := testRenderer(t).Render(l)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b
}

func TestDateInLocation(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	l := testLetter(KindPassword)
	l.Date = time.Date(2026, time.November, 29, 23, 30, 0, 0, time.UTC) // 30 November in Berlin
	var texts []string
	for _, r := range []*Renderer{testRenderer(t), testRenderer(t, WithLocation(berlin))} {
		b, err := r.Render(l)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		texts = append(texts, string(b))
	}
	if texts[0] == texts[1] {
		t.Error("WithLocation did not change the letter")
	}
}

func TestConcurrentRender(t *testing.T) {
	r := testRenderer(t)
	want := make(map[Kind][]byte)
	for _, k := range allKinds {
		b, err := r.Render(testLetter(k))
		if err != nil {
			t.Fatalf("Render(%s): %v", k, err)
		}
		want[k] = b
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(allKinds))
	for range 4 {
		for _, k := range allKinds {
			wg.Go(func() {
				b, err := r.Render(testLetter(k))
				switch {
				case err != nil:
					errs <- err
				case !bytes.Equal(b, want[k]):
					errs <- fmt.Errorf("%s: concurrent render differs", k)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEveryKindOnePage(t *testing.T) {
	r := testRenderer(t)
	for _, k := range allKinds {
		for _, lg := range lang.All() {
			t.Run(k.String()+"/"+string(lg), func(t *testing.T) {
				// The longest values each kind accepts must still fit on one
				// page, in every language.
				l := testLetter(k)
				l.Language = lg
				l.Salutation = strings.Repeat("Ä", maxSalutationLen)
				l.Recipient.Lines = []string{"Herrn", "Prof. Dr. Jürgen Müller-Lüdenscheidt", "c/o Straßenbahn-Betriebshof Süd", "Hinterhaus, 3. Obergeschoss links", "Großer Kurfürstendamm 123a", "12345 Berlin-Charlottenburg"}
				if l.DeviceName != "" {
					l.DeviceName = strings.Repeat("Ö", maxDeviceNameLen)
				}
				if l.InitialPassword != "" {
					l.InitialPassword = strings.Repeat("W", MaxPasswordLen)
				}
				if l.ActivationURL != "" {
					l.ActivationURL = "https://portal.beispiel-kasse.de/app/activate#" + strings.Repeat("A", MaxURLLen-46)
				}
				var buf bytes.Buffer
				res, err := r.RenderBatch(&buf, []Letter{l})
				if err != nil {
					t.Fatalf("RenderBatch: %v", err)
				}
				if res.Pages != 1 || res.Entries[0].PageCount != 1 {
					t.Errorf("pages = %d, page count = %d, want 1 and 1", res.Pages, res.Entries[0].PageCount)
				}
			})
		}
	}
}

// TestNoSecretInWindow checks, with the positions the renderer reports while
// drawing, that password and QR code stay out of the envelope window, inside
// the middle third of the page, and that the QR code is large enough and
// crosses no fold.
func TestNoSecretInWindow(t *testing.T) {
	lay := pageLayout
	if lay.window != (rect{X: 20, Y: 45, W: 85, H: 45}) {
		t.Fatalf("window = %+v, want DIN 5008 form B (20, 45, 85 x 45)", lay.window)
	}
	urls := map[string]string{
		"short url":   testURL,
		"longest url": "https://portal.beispiel-kasse.de/app/activate#" + strings.Repeat("z", MaxURLLen-46),
	}
	for _, k := range []Kind{KindPassword, KindActivation, KindPasswordReset} {
		for name, u := range urls {
			for _, lg := range lang.All() {
				t.Run(k.String()+"/"+name+"/"+string(lg), func(t *testing.T) {
					testSecretsPlaced(t, k, u, lg)
				})
			}
		}
	}
}

func testSecretsPlaced(t *testing.T, k Kind, u string, lg lang.Language) {
	lay := pageLayout
	r := testRenderer(t)
	drawn := map[string]rect{}
	r.drawn = func(what string, at rect) { drawn[what] = at }
	l := testLetter(k)
	l.ActivationURL = u
	l.Language = lg
	if k != KindActivation {
		l.InitialPassword = strings.Repeat("W", MaxPasswordLen)
	}
	if _, err := r.Render(l); err != nil {
		t.Fatalf("Render: %v", err)
	}
	want := []string{"qr"}
	if k != KindActivation {
		want = append(want, "password")
	}
	if len(drawn) != len(want) {
		t.Fatalf("drawn secrets = %v, want %v", drawn, want)
	}
	for _, what := range want {
		at, ok := drawn[what]
		if !ok {
			t.Fatalf("%s was not drawn", what)
		}
		if at.overlaps(lay.window) {
			t.Errorf("%s at %+v overlaps the window %+v", what, at, lay.window)
		}
		if at.Y < 105 || at.bottom() > 210 {
			t.Errorf("%s at %+v leaves the middle third (105 to 210 mm)", what, at)
		}
		if at.X < lay.secretBox.X || at.right() > lay.secretBox.right() || at.Y < lay.secretBox.Y || at.bottom() > lay.secretBox.bottom() {
			t.Errorf("%s at %+v leaves the secret block %+v", what, at, lay.secretBox)
		}
	}
	qr := drawn["qr"]
	if qr.W < 25 || qr.H < 25 {
		t.Errorf("QR code is %.1f x %.1f mm, want at least 25 mm", qr.W, qr.H)
	}
	if pw, ok := drawn["password"]; ok && pw.overlaps(lay.qrSlot) {
		t.Errorf("password at %+v runs into the QR code's quiet zone %+v", pw, lay.qrSlot)
	}
	// The quiet zone: four modules on every side inside the slot.
	// A code has at least 21 modules, so a module is at most
	// qr.W/21; the margin must hold four of the real modules.
	s := lay.qrSlot
	margin := min(qr.X-s.X, s.right()-qr.right(), qr.Y-s.Y, s.bottom()-qr.bottom())
	modules := int(math.Round(qr.W * float64(lay.qrQuietZone) / margin))
	if modules < 21 || margin < 4*qr.W/float64(modules)-1e-9 {
		t.Errorf("quiet zone %.2f mm is less than four modules", margin)
	}
}

func TestRenderBatch(t *testing.T) {
	r := testRenderer(t)
	var letters []Letter
	for i, k := range allKinds {
		l := testLetter(k)
		l.ID = fmt.Sprintf("B-%03d", i+1)
		l.Date = l.Date.Add(time.Duration(i) * time.Hour)
		letters = append(letters, l)
	}
	var buf bytes.Buffer
	res, err := r.RenderBatch(&buf, letters)
	if err != nil {
		t.Fatalf("RenderBatch: %v", err)
	}
	if res.Pages != len(letters) {
		t.Errorf("Pages = %d, want %d", res.Pages, len(letters))
	}
	var want []ManifestEntry
	for i, l := range letters {
		want = append(want, ManifestEntry{
			LetterID: l.ID, KVNR: l.KVNR, Kind: l.Kind, AddressLines: l.Recipient.Lines,
			FirstPage: i + 1, PageCount: 1,
		})
	}
	if diff := cmp.Diff(want, res.Entries); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}

	// Fonts are embedded once per batch, not once per letter.
	single, err := r.Render(letters[0])
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got, limit := buf.Len(), len(single)*len(letters)/2; got > limit {
		t.Errorf("batch of %d letters is %d bytes, want at most %d (half the single letters)", len(letters), got, limit)
	}

	var again bytes.Buffer
	if _, err := r.RenderBatch(&again, letters); err != nil {
		t.Fatalf("RenderBatch: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("the same batch rendered twice gave different bytes")
	}
}

func TestRenderBatchInvalid(t *testing.T) {
	r := testRenderer(t)
	bad := testLetter(KindPassword)
	bad.InitialPassword = ""
	dup := testLetter(KindPasswordChanged)
	tests := []struct {
		name    string
		letters []Letter
		mention string
	}{
		{"empty", nil, "no letters"},
		{"too many", make([]Letter, MaxBatchLetters+1), "at most"},
		{"invalid letter", []Letter{testLetter(KindActivation), bad}, "letter 2"},
		{"duplicate id", []Letter{testLetter(KindPassword), dup}, "used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := r.RenderBatch(&buf, tt.letters)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("RenderBatch: %v, want ErrInvalid mentioning %q", err, tt.mention)
			}
			if buf.Len() != 0 {
				t.Errorf("RenderBatch wrote %d bytes for an invalid batch", buf.Len())
			}
		})
	}
}
