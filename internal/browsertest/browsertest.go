// Package browsertest starts the headless Chromium that page tests drive
// (with chromedp) and checks a page with axe-core (axe.go). It owns nothing
// else: each test writes its own steps.
//
// The browser is Debian's chromium, named by PFORTE_TEST_BROWSER; without it
// the test skips (or fails when PFORTE_TEST_REQUIRE_TOOLS is set, as in CI), so
// `go test ./...` needs no browser. Nothing downloads one.
package browsertest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Env names the environment variable holding the Chromium binary.
const Env = "PFORTE_TEST_BROWSER"

// Start starts a headless Chromium for t, or skips t when Env is unset. The
// browser is running when Start returns (so steps may use contexts derived
// with a timeout) and stops when t ends; everything it does must finish
// within 60 seconds.
func Start(t *testing.T) context.Context {
	t.Helper()
	return StartWith(t, Options{})
}

// Options change how StartWith starts the browser.
type Options struct {
	// Timeout bounds everything the browser does (default 60 seconds).
	Timeout time.Duration
	// Flags are further command-line flags, e.g. a fake camera.
	Flags []chromedp.ExecAllocatorOption
	// Language is what the browser asks for in Accept-Language and uses as
	// its own locale (default "de-DE,de": the pages' first language). A
	// browser left to itself asks for its build's or machine's language,
	// which differs between machines.
	Language string
}

// StartWith is Start with options.
func StartWith(t *testing.T, o Options) context.Context {
	t.Helper()
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	path := os.Getenv(Env)
	if path == "" {
		if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal(Env + " must name a Chromium binary (PFORTE_TEST_REQUIRE_TOOLS is set)")
		}
		t.Skip(Env + " does not name a Chromium binary")
	}
	if o.Language == "" {
		o.Language = "de-DE,de"
	}
	ctx, cancel := context.WithTimeout(t.Context(), o.Timeout)
	t.Cleanup(cancel)
	locale, _, _ := strings.Cut(o.Language, ",")
	flags := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", locale),
		chromedp.Flag("accept-lang", o.Language),
		chromedp.Env("LANGUAGE=" + locale),
		chromedp.UserDataDir(t.TempDir()),
	}, o.Flags...)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, flags...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(ctx)
	t.Cleanup(cancelCtx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
