// Package apptest drives the service app (package serviceapp) in the headless
// Chromium of package browsertest, for tests only: waiting for a screen,
// reading it, and checking it with axe-core for WCAG 2.1 A and AA
// violations (package browsertest).
package apptest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
)

// StepTimeout bounds one step in the browser.
const StepTimeout = 30 * time.Second

// Do runs the steps within StepTimeout or fails t, saying where the app is.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, Where(ctx))
	}
}

// Where describes the app's screen for a failure message.
func Where(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 1200 {
		body = body[:1200] + "…"
	}
	return fmt.Sprintf("at %s: %q", loc, body)
}

// Screen waits until the app shows a screen whose heading contains heading,
// and returns the text of its main element.
func Screen(t testing.TB, ctx context.Context, heading string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	for {
		got, err := chromedp.Run(sctx, chromedp.Evaluate[string](`(() => { const h = document.querySelector("main h1"); return h ? h.textContent : ""; })()`))
		if err == nil && strings.Contains(got, heading) {
			text, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
			if err == nil {
				return text
			}
		}
		select {
		case <-sctx.Done():
			t.Fatalf("waiting for the screen %q: %v (%s)", heading, sctx.Err(), Where(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitText waits until the main element's text contains want and returns it.
func WaitText(t testing.TB, ctx context.Context, want string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	for {
		text, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : ""`))
		if err == nil && strings.Contains(text, want) {
			return text
		}
		select {
		case <-sctx.Done():
			t.Fatalf("waiting for %q: %v (%s)", want, sctx.Err(), Where(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Button is the selector of the button whose text is text.
func Button(text string) string {
	return fmt.Sprintf(`//button[normalize-space()=%q]`, text)
}

// Tap taps the button whose text is text. When the app renders its screen
// anew between finding the button and tapping it, the button is found
// again (a person taps the button they see): no touch was sent then.
func Tap(text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			_, err := chromedp.Tap(Button(text))(ctx, tg)
			if err == nil || !replaced(err) {
				return chromedp.Void{}, err
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("%w (the button was replaced while it was tapped)", err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// replaced reports whether err says the node a query found left the page
// before the action on it.
func replaced(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "Node is detached from document")
}

// Fill types value into the input with id (after clearing it).
func Fill(id, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).value = ""`, id))(ctx, tg); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.SendKeys(chromedp.ID(id), value)(ctx, tg)
	}
}

// NeedAxe returns axe-core's source, or skips t without it
// (browsertest.NeedAxe).
func NeedAxe(t testing.TB) string { t.Helper(); return browsertest.NeedAxe(t) }

// A11y checks the current screen with axe-core against WCAG 2.1 A and AA
// (browsertest.A11y).
func A11y(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	browsertest.A11y(t, ctx, name)
}
