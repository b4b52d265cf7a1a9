package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axe-core checks a page for WCAG 2.1 A and AA violations. It comes from
// the service app's npm devDependencies (internal/serviceapp/node_modules,
// after npm ci) and is injected by the test through DevTools, never
// shipped; without it the check skips, or fails when
// PFORTE_TEST_REQUIRE_TOOLS is set.

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axePath is axe-core's browser build in the app's node_modules.
func axePath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "serviceapp", "node_modules", "axe-core", "axe.min.js")
}

// NeedAxe returns axe-core's source, or skips t without it (fails under
// PFORTE_TEST_REQUIRE_TOOLS).
func NeedAxe(t testing.TB) string {
	t.Helper()
	axeOnce.Do(func() {
		b, err := os.ReadFile(axePath())
		axeSource, axeErr = string(b), err
	})
	if axeErr != nil {
		if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") != "" {
			t.Fatalf("axe-core is required (PFORTE_TEST_REQUIRE_TOOLS is set): run npm ci in internal/serviceapp (%v)", axeErr)
		}
		t.Skipf("axe-core not installed (npm ci in internal/serviceapp): %v", axeErr)
	}
	return axeSource
}

// Violation is one axe-core finding.
type Violation struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// A11y checks the current screen with axe-core against WCAG 2.1 A and AA and
// fails t for every violation; name says which screen it was.
func A11y(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	src := NeedAxe(t)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Evaluated through DevTools, so the page's CSP does not apply to it.
	has, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		t.Fatalf("axe-core on %s: %v", name, err)
	}
	if !has {
		if err := chromedp.Do(sctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("inject axe-core on %s: %v", name, err)
		}
	}
	raw, err := chromedp.Run(sctx, chromedp.Evaluate[[]byte](`axe.run(document, {runOnly: {type: "tag",
		values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html.slice(0, 200))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core on %s: %v", name, err)
	}
	var vs []Violation
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("axe-core result on %s: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("WCAG violation on %s: %s (%s) at %v", name, v.ID, v.Help, v.Nodes)
	}
}
