package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// appNode is a whole node for the service app's browser tests: the portal,
// the API and the app on http://localhost:PORT (WebAuthn takes a host name,
// not an IP address, as relying party), letters written as PDF files, the
// eID simulator as the identification partner and the CIBA client of the
// OpenID tests.
type appNode struct {
	a       *app
	st      *sqlstore.Store
	base    string // http://localhost:PORT
	letters string // the folder the letters are written to
	// eidPerson is the person the simulator's first identity matches;
	// others have no account either, and an address a letter may go to.
	eidPerson store.Person
	others    []store.Person
	issuer    string
}

// startAppNode starts the node; tune changes its configuration.
func startAppNode(t *testing.T, tune ...func(*Config)) *appNode {
	t.Helper()
	ctx := t.Context()
	st := sqltest.SQLite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	k, _ := seal.GenerateKey("t1")
	cfg := defaultConfig()
	cfg.DataKeys = k.Encode()
	cfg.Audit.Key = testAuditKeyText
	cfg.PublicURL = base
	cfg.Password.MemoryKiB, cfg.Password.Time = 8*1024, 1
	cfg.HTTP.LoginRatePerIP, cfg.HTTP.LoginBurstPerIP = 1_000_000, 1_000_000
	cfg.OIDC.SubjectKey = newSubjectKey()
	cfg.OIDC.Clients = []oidc.ClientConfig{{ID: cibaID, Name: "Kasse-App", Secret: cibaSecret, CIBA: true,
		Scopes: []string{oidc.ScopeProfile}, AuthorizationDetailsTypes: []string{"payment_initiation", "claim_submission"}}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	var csv bytes.Buffer
	if err := registry.Generate(&csv, 40, 11, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	ring, _ := cfg.keyring()
	im := registry.NewImporter(st, ring, importAuditor{audit.New(st, testAuditKey(), time.Now, logger)}, time.Now)
	if _, err := im.Import(ctx, bytes.NewReader(csv.Bytes()), registry.ImportOptions{BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simCfg, _, err := startSimulator(ctx, st, simLn, base, logger)
	if err != nil {
		t.Fatal(err)
	}
	cfg.EID = simCfg.EID
	for _, f := range tune {
		f(&cfg)
	}
	if problems := cfg.validate(needs{keys: true, http: true}); len(problems) > 0 {
		t.Fatal(problems)
	}
	letters := filepath.Join(t.TempDir(), "letters")
	a, err := buildApp(ctx, cfg, logger, st, folderSink{dir: letters})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(cfg.serverConfig(), logger, st, nil)
	a.api.SetDraining(srv.Draining())
	a.mount(srv)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	go a.notices.Run(ctx, time.Second)

	n := &appNode{a: a, st: st, base: base, letters: letters, issuer: base + "/oidc"}
	page, err := st.ListPersons(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The simulator's first identity is the first adult member with a full
	// birth date (simIdentities).
	for _, p := range page {
		if p, err = st.PersonByID(ctx, p.ID); err != nil { // all fields
			t.Fatal(err)
		}
		if n.eidPerson.ID == 0 && p.Relation == store.RelationMember && len(p.BirthDate) == len("2006-01-02") {
			n.eidPerson = p
		} else if p.Relation == store.RelationMember && len(p.BirthDate) == len("2006-01-02") && time.Since(p.AddressVerifiedAt) < 300*24*time.Hour {
			n.others = append(n.others, p)
		}
	}
	if n.eidPerson.ID == 0 || len(n.others) == 0 {
		t.Fatal("no adult members in the generated register")
	}
	return n
}

// germanDate writes an ISO date as TT.MM.JJJJ.
func germanDate(iso string) string {
	return iso[8:10] + "." + iso[5:7] + "." + iso[0:4]
}

// newLetter waits up to 10 s for a letter not in seen and returns its path.
func (n *appNode) newLetter(t *testing.T, seen []string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		all, _ := filepath.Glob(filepath.Join(n.letters, "*.pdf"))
		for _, l := range all {
			if !slices.Contains(seen, l) {
				return l
			}
		}
	}
	t.Fatalf("no new letter in %s within 10 s", n.letters)
	return ""
}

func (n *appNode) letterFiles() []string {
	all, _ := filepath.Glob(filepath.Join(n.letters, "*.pdf"))
	return all
}

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

// storedDevice is what the app keeps in IndexedDB, as the test reads it.
type storedDevice struct {
	Keys            []string `json:"keys"`
	Fields          []string `json:"fields"`
	ID              string   `json:"id"`
	Extractable     bool     `json:"extractable"`
	Exported        bool     `json:"exported"`
	WrapExtractable bool     `json:"wrapExtractable"`
	WrapExported    bool     `json:"wrapExported"`
	PublicKey       string   `json:"pub"`
	Biometric       bool     `json:"biometric"`
	PINLocked       bool     `json:"pinLocked"`
}

// readStore reads the app's IndexedDB in the page.
func readStore(t *testing.T, ctx context.Context) storedDevice {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, apptest.StepTimeout)
	defer cancel()
	d, err := chromedp.Run(sctx, chromedp.Evaluate[storedDevice](`(async () => {
		const db = await new Promise((res, rej) => { const r = indexedDB.open("pforte-service-app"); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
		const req = (f) => new Promise((res, rej) => { const q = f(db.transaction("state").objectStore("state")); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
		const keys = await req((s) => s.getAllKeys());
		const d = await req((s) => s.get("device"));
		const b = await req((s) => s.get("biometric"));
		db.close();
		if (!d) return {keys, fields: [], biometric: !!b};
		const tryExport = (f, k) => crypto.subtle.exportKey(f, k).then(() => true, () => false);
		const pub = new Uint8Array(await crypto.subtle.exportKey("raw", d.publicKey));
		return {keys, fields: Object.keys(d).sort(), id: d.id, extractable: d.privateKey.extractable,
			exported: await tryExport("pkcs8", d.privateKey) || await tryExport("jwk", d.privateKey),
			wrapExtractable: d.wrapKey.extractable, wrapExported: await tryExport("raw", d.wrapKey),
			pub: btoa(String.fromCharCode(...pub)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
			biometric: !!b, pinLocked: d.pinLocked};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the app's store: %v", err)
	}
	return d
}

// checkStore checks the rules of what the app keeps: the device key and the
// key that encrypts s are not extractable, and nothing that tests a PIN
// (PIN key, seed) is kept outside the biometric record.
func checkStore(t *testing.T, n *appNode, d storedDevice) {
	t.Helper()
	if d.Extractable || d.Exported {
		t.Errorf("the device key is extractable (%v) or exported (%v)", d.Extractable, d.Exported)
	}
	if d.WrapExtractable || d.WrapExported {
		t.Errorf("the key that encrypts s is extractable (%v) or exported (%v)", d.WrapExtractable, d.WrapExported)
	}
	want := []string{"id", "kdf", "level", "model", "name", "pinLocked", "privateKey", "publicKey", "secretCT", "secretIV", "wrapKey"}
	if !slices.Equal(d.Fields, want) {
		t.Errorf("the app stores %v, want exactly %v", d.Fields, want)
	}
	dev, err := n.st.DeviceByID(t.Context(), store.DeviceID(d.ID))
	if err != nil {
		t.Fatalf("the stored device %q is not bound: %v", d.ID, err)
	}
	if got := appclient.B64(dev.DeviceKey); got != d.PublicKey {
		t.Errorf("the server holds device key %s, the app %s", got, d.PublicKey)
	}
}

// watchConsole fails the test for every uncaught exception in the page.
func watchConsole(t *testing.T, ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() && !strings.Contains(m.String(), "Failed to fetch") {
				t.Errorf("uncaught exception in the app: %s", m)
			}
		}
	}()
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

// requestLetter asks for a password letter for p through the API and
// returns the letter's PDF.
func (n *appNode) requestLetter(t *testing.T, p store.Person) string {
	t.Helper()
	seen := n.letterFiles()
	status, body := tokenPostJSON(t, n.base+"/api/v1/access-requests", map[string]string{"kvnr": p.KVNR, "postal_code": p.PostalCode,
		"birth_date": p.BirthDate, "method": "letter"})
	if status != http.StatusAccepted {
		t.Fatalf("access request: %d %v", status, body)
	}
	return n.newLetter(t, seen)
}

// tokenPostJSON posts a JSON body and decodes the JSON answer.
func tokenPostJSON(t *testing.T, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
