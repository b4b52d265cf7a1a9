package serviceapp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// What the person does with a letter: read its initial password, take a
// photo of it, hold the phone's camera over its QR code.

var initialPasswordRE = regexp.MustCompile(`Initialpasswort:\s+((?:[A-Z2-9]{4} ?){4})`)

// initialPassword reads the initial password printed in the letter.
func initialPassword(t *testing.T, pdf string) string {
	t.Helper()
	text, err := exec.Command(needTool(t, "pdftotext"), "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := initialPasswordRE.FindSubmatch(text)
	if m == nil {
		t.Fatalf("no initial password in the letter:\n%s", text)
	}
	return string(m[1])
}

// letterPhoto renders the letter's first page as a PNG (what a photo of
// the letter shows), and returns its path and the page.
func letterPhoto(t *testing.T, pdf string) (string, image.Image) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "seite")
	if out, err := exec.Command(needTool(t, "pdftoppm"), "-r", "150", "-png", "-singlefile", "-f", "1", "-l", "1", pdf, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + ".png", img
}

// qrArea finds the QR code on the page and returns a square around it with
// its quiet zone.
func qrArea(t *testing.T, page image.Image) image.Rectangle {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(page)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code on the letter: %v", err)
	}
	minX, minY, maxX, maxY := 1e9, 1e9, -1e9, -1e9
	for _, p := range res.GetResultPoints() {
		minX, minY = min(minX, p.GetX()), min(minY, p.GetY())
		maxX, maxY = max(maxX, p.GetX()), max(maxY, p.GetY())
	}
	// The points are the finder patterns' centres: add their size and the
	// quiet zone.
	pad := (maxX - minX) * 0.35
	return image.Rect(int(minX-pad), int(minY-pad), int(maxX+pad), int(maxY+pad)).Intersect(page.Bounds())
}

// writeCameraFile writes the letter's QR code, as a camera held over the
// letter sees it, as a Y4M video for Chromium's fake camera
// (--use-file-for-fake-video-capture): 640×480, 4:2:0, a few frames.
func writeCameraFile(t *testing.T, path string, page image.Image, area image.Rectangle) {
	t.Helper()
	const w, h = 640, 480
	frame := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			frame.Set(x, y, color.White)
		}
	}
	// Scale the QR area to 400 px high, centred.
	side := 400.0
	scale := side / float64(area.Dy())
	ox, oy := (w-int(float64(area.Dx())*scale))/2, (h-int(side))/2
	for y := range int(side) {
		for x := range int(float64(area.Dx()) * scale) {
			sx, sy := area.Min.X+int(float64(x)/scale), area.Min.Y+int(float64(y)/scale)
			frame.Set(ox+x, oy+y, page.At(sx, sy))
		}
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	yPlane := make([]byte, w*h)
	uPlane := make([]byte, w*h/4)
	vPlane := make([]byte, w*h/4)
	for y := range h {
		for x := range w {
			r, g, b, _ := frame.At(x, y).RGBA()
			rf, gf, bf := float64(r>>8), float64(g>>8), float64(b>>8)
			yPlane[y*w+x] = clamp8(0.299*rf + 0.587*gf + 0.114*bf)
			if x%2 == 0 && y%2 == 0 {
				i := (y/2)*(w/2) + x/2
				uPlane[i] = clamp8(128 - 0.168736*rf - 0.331264*gf + 0.5*bf)
				vPlane[i] = clamp8(128 + 0.5*rf - 0.418688*gf - 0.081312*bf)
			}
		}
	}
	for range 5 {
		bw.WriteString("FRAME\n")
		bw.Write(yPlane)
		bw.Write(uPlane)
		bw.Write(vPlane)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func clamp8(v float64) byte {
	return byte(max(0, min(255, v+0.5)))
}

// setCamera grants or denies the app the camera.
func setCamera(t *testing.T, ctx context.Context, origin string, setting browser.PermissionSetting) {
	t.Helper()
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "camera"}, Setting: setting, Origin: origin}); err != nil {
		t.Fatalf("camera permission: %v", err)
	}
}

// qrText reads the letter's QR code (the activation URL).
func qrText(t *testing.T, page image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(page)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code on the letter: %v", err)
	}
	return res.GetText()
}
