package serviceapp_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
)

// gzipped is the size of b compressed as the server sends it.
func gzipped(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// TestBundleSize reports what a phone downloads for the first screen (the
// page, the bundle, the stylesheet) and the QR decoder loaded for reading a
// letter, gzipped; and keeps the first screen under a budget.
func TestBundleSize(t *testing.T) {
	sum := func(files ...string) (raw, gz int) {
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join("dist", f))
			if err != nil {
				t.Fatal(err)
			}
			raw += len(b)
			gz += gzipped(t, b)
		}
		return raw, gz
	}
	chunks, _ := filepath.Glob("dist/chunks/*.js")
	first := []string{"index.html", "app.js", "app.css", "sw.js"}
	var lazy []string
	for _, c := range chunks {
		b, _ := os.ReadFile(c)
		name, _ := filepath.Rel("dist", c)
		if bytes.Contains(b, []byte("jsQR")) || len(b) > 50_000 {
			lazy = append(lazy, name)
		} else {
			first = append(first, name)
		}
	}
	raw, gz := sum(first...)
	lraw, lgz := sum(lazy...)
	t.Logf("first screen: %d bytes, %d gzipped; QR decoder: %d bytes, %d gzipped", raw, gz, lraw, lgz)
	if os.Getenv("PFORTE_FIGURES") != "" {
		fmt.Printf("FIGURE bundle_first_screen_gzip %d bytes (index.html, app.js, app.css, sw.js, %d bytes before gzip)\n", gz, raw)
		fmt.Printf("FIGURE bundle_qr_decoder_gzip %d bytes (jsQR chunk, loaded only to read a letter)\n", lgz)
	}
	if gz > 80_000 {
		t.Errorf("the first screen needs %d bytes gzipped, budget 80000", gz)
	}
}

// TestBrowserColdLoad measures the time to the first screen on a cold load
// over loopback: a new browser profile (no cache, no service worker), from
// the navigation's start to the app's first screen (the performance mark
// pforte-first-screen).
func TestBrowserColdLoad(t *testing.T) {
	ctx := browsertest.Start(t)
	srv := newAppServer(t)
	start := time.Now()
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	wall := time.Since(start)
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByName("pforte-first-screen")[0].startTime`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold load to the first screen: %.0f ms after the navigation started (%v measured from the test)", ms, wall)
	if os.Getenv("PFORTE_FIGURES") != "" {
		fmt.Printf("FIGURE cold_load_first_screen_ms %.0f ms (headless Chromium, new profile, loopback)\n", ms)
	}
	if ms <= 0 || ms > 10_000 {
		t.Errorf("first screen after %.0f ms", ms)
	}
}
