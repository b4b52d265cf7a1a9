package access_test

import (
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/proofing"
)

// TestLetterQRCodeCarriesAWorkingActivationCode reads the QR code back from the
// rendered letter (pdftoppm, then a QR decoder) and checks that the code it
// carries is the person's live activation code, usable exactly once.
func TestLetterQRCodeCarriesAWorkingActivationCode(t *testing.T) {
	tool := needTool(t, "pdftoppm")
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	if err := a.RequestLetter(t.Context(), me); err != nil {
		t.Fatal(err)
	}
	var pdf []byte
	for _, b := range sink.pdfs {
		pdf = b
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), tool, "-r", "200", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	file, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	img, err := png.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code on the letter: %v", err)
	}
	u, err := url.Parse(res.GetText())
	if err != nil || u.Host != "portal.example" || !strings.HasSuffix(u.Path, "/app/activate") || len(u.Fragment) != 22 {
		t.Fatalf("QR code carries %q", res.GetText())
	}
	ot, err := f.st.ConsumeOneTime(t.Context(), access.ActivationKind, proofing.CodeDigest(u.Fragment), f.clk.now())
	if err != nil {
		t.Fatalf("the letter's activation code is not live: %v", err)
	}
	if ot.Subject != "person:"+strconv.FormatInt(int64(f.person.ID), 10) {
		t.Errorf("activation code belongs to %q", ot.Subject)
	}
	if _, err := f.st.ConsumeOneTime(t.Context(), access.ActivationKind, proofing.CodeDigest(u.Fragment), f.clk.now()); err == nil {
		t.Error("the activation code worked twice")
	}
}
