package oidc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// chromeStepTimeout bounds one step in Chromium (a page, a redirect chain,
// a wait for the waiting page's next reload).
const chromeStepTimeout = 15 * time.Second

// chromeDo runs the steps within chromeStepTimeout or fails the test,
// saying where the browser is.
func chromeDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, chromeWhere(ctx))
	}
}

// chromeWhere describes the browser's page for a failure message: its
// address and the start of its text.
func chromeWhere(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "location unknown: " + err.Error()
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return fmt.Sprintf("at %s: %q", loc, body)
}

// chromeWaitURL waits until the browser's address satisfies match and its
// document has loaded, and returns the address. A navigation in flight makes
// single reads fail, so it polls.
func chromeWaitURL(t *testing.T, ctx context.Context, what string, match func(*url.URL) bool) *url.URL {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	for {
		loc, err := chromedp.Run(sctx, chromedp.Location())
		if err == nil {
			if u, perr := url.Parse(loc); perr == nil && match(u) {
				state, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.readyState`))
				if err == nil && state == "complete" {
					return u
				}
			}
		}
		select {
		case <-sctx.Done():
			t.Fatalf("waiting for %s: %v (%s)", what, sctx.Err(), chromeWhere(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// chromeAtPath matches a page of the portal (or anywhere) by its path.
func chromeAtPath(path string) func(*url.URL) bool {
	return func(u *url.URL) bool { return u.Path == path }
}

// chromePage is what the test checks on every portal page it fills in.
type chromePage struct {
	Lang   string `json:"lang"`
	H1     int    `json:"h1"`
	Weiter string `json:"weiter"` // the hidden field naming where the login continues
}

// chromeInspect reads the page's language, its number of h1 elements and
// the hidden "weiter" field.
func chromeInspect(t *testing.T, ctx context.Context) chromePage {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	p, err := chromedp.Run(sctx, chromedp.Evaluate[chromePage](`({
		lang: document.documentElement.lang,
		h1: document.querySelectorAll("h1").length,
		weiter: (document.querySelector("input[name=weiter]") || {}).value || ""})`))
	if err != nil {
		t.Fatalf("inspect the page: %v (%s)", err, chromeWhere(ctx))
	}
	return p
}

// chromeNumber reads the number the waiting page asks to tap. The page
// reloads itself every two seconds, so a read that meets a reload retries.
func chromeNumber(t *testing.T, ctx context.Context) int {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	for {
		s, err := chromedp.Run(sctx, chromedp.Evaluate[string](`(document.querySelector("p.number") || {}).textContent || ""`))
		if err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return n
			}
		}
		select {
		case <-sctx.Done():
			t.Fatalf("no number on the waiting page: %v (%s)", sctx.Err(), chromeWhere(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// chromeHistory returns the addresses of the tab's history entries up to
// the current one, oldest first.
func chromeHistory(t *testing.T, ctx context.Context) []string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	h, err := chromedp.Run(sctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatalf("navigation history: %v", err)
	}
	var urls []string
	for i, e := range h.Entries {
		if int64(i) <= h.CurrentIndex {
			urls = append(urls, e.URL)
		}
	}
	return urls
}

// chromeLogin signs in at the portal's login page the browser is on: KVNR
// and password, then the phone taps the number the waiting page shows. It
// checks the login page (German, one h1, the hidden field leading back to
// the sign-in) and returns the address the browser lands on at the
// relying party.
func (n *oidcNode) chromeLogin(t *testing.T, ctx context.Context, isCallback func(*url.URL) bool) *url.URL {
	t.Helper()
	chromeWaitURL(t, ctx, "the login page", chromeAtPath("/anmelden"))
	chromeDo(t, ctx, "the login form", chromedp.WaitVisible("#kvnr"), chromedp.WaitVisible("#password"))
	p := chromeInspect(t, ctx)
	if p.Lang != "de" || p.H1 != 1 {
		t.Errorf("login page: lang %q with %d h1 elements, want \"de\" with one", p.Lang, p.H1)
	}
	if !strings.HasPrefix(p.Weiter, "app-") {
		t.Errorf("login page: hidden weiter = %q, want the sign-in's key app-…", p.Weiter)
	}
	chromeDo(t, ctx, "log in with the password",
		chromedp.SendKeys("#kvnr", n.person.KVNR),
		chromedp.SendKeys("#password", n.password),
		chromedp.Click("main button[type=submit]"),
	)
	chromeWaitURL(t, ctx, "the phone confirmation page", chromeAtPath("/anmelden/freigabe"))
	if p := chromeInspect(t, ctx); p.Lang != "de" || p.H1 != 1 {
		t.Errorf("waiting page: lang %q with %d h1 elements, want \"de\" with one", p.Lang, p.H1)
	}
	number := chromeNumber(t, ctx)
	a, _ := n.pending(t, approval.ActionPortalLogin)
	if err := n.App().Approve(t.Context(), n.phone.Device, a, phonePIN, "pin", number); err != nil {
		t.Fatalf("the phone approves %d: %v", number, err)
	}
	// The waiting page reloads itself and goes on to the relying party;
	// the login page again would be a loop.
	u := chromeWaitURL(t, ctx, "the relying party's callback", func(u *url.URL) bool {
		return isCallback(u) || u.Path == "/anmelden"
	})
	if !isCallback(u) {
		t.Fatalf("after the phone's approval the browser is back at the login page %s, want the relying party", u)
	}
	return u
}

// TestOIDCCodeFlowInChromium runs TestOIDCCodeFlow's code flow with a real
// Chromium rendering the pages: the login page, the waiting page that
// reloads itself until the phone approved, the redirect back to the relying
// party; then refresh rotation and reuse detection, single sign-on with the
// live portal session, RP-initiated logout, and prompt=login.
func TestOIDCCodeFlowInChromium(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		ctx := browsertest.Start(t)
		rp := nodetest.RPServer(t)
		redirect := rp.URL + "/callback"
		n := newOIDCNode(t, st, redirect)
		n.bindPhone(t)
		party := nodetest.NewRelyingParty(t, n.issuer, redirect)
		rpHost := strings.TrimPrefix(rp.URL, "http://")
		isCallback := func(u *url.URL) bool { return u.Host == rpHost && u.Path == "/callback" }
		substantial := oauth2.SetAuthURLParam("acr_values", "http://eidas.europa.eu/LoA/substantial")
		tokenURL := party.Provider.Endpoint().TokenURL
		refresh := func(rt string) (int, map[string]any) {
			return nodetest.TokenPost(t, tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		}

		// The first sign-in: login page, password, phone, back to the RP.
		s := party.Start(substantial)
		chromeDo(t, ctx, "open the authorization request", chromedp.Navigate(s.URL))
		back := n.chromeLogin(t, ctx, isCallback)
		tok, idt, claims := party.Finish(t, s, back)
		checkPhoneLogin(t, claims, n.person.KVNR)

		// Refresh rotates; reusing the first refresh token revokes the
		// family, so the rotated one stops working too.
		first := tok.RefreshToken
		if first == "" {
			t.Fatal("no refresh token for offline_access")
		}
		next, err := party.Refresh(first)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if next.RefreshToken == "" || next.RefreshToken == first {
			t.Fatal("refresh did not rotate the refresh token")
		}
		if status, body := refresh(first); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse of the first refresh token: %d %v, want 400 invalid_grant", status, body)
		}
		if status, body := refresh(next.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("rotated refresh token after the reuse: %d %v, want 400 invalid_grant", status, body)
		}

		// A second sign-in in the same browser uses the live portal
		// session: the redirects lead straight back, no page in between.
		before := chromeHistory(t, ctx)
		s = party.Start(substantial)
		chromeDo(t, ctx, "open the second authorization request", chromedp.Navigate(s.URL))
		back = chromeWaitURL(t, ctx, "the relying party's callback (single sign-on)", isCallback)
		if after := chromeHistory(t, ctx); len(after) != len(before)+1 {
			t.Errorf("the second sign-in showed pages: history %v after %v, want only the callback added", after, before)
		}
		tok2, idt2, claims2 := party.Finish(t, s, back)
		if idt2.Subject != idt.Subject || claims2.AuthTime != claims.AuthTime {
			t.Errorf("single sign-on: sub/auth_time %q/%d, want the first sign-in's %q/%d",
				idt2.Subject, claims2.AuthTime, idt.Subject, claims.AuthTime)
		}

		// RP-initiated logout ends the portal session and the client's tokens.
		raw, _ := tok2.Extra("id_token").(string)
		logout := n.issuer + "/end_session?" + url.Values{"id_token_hint": {raw},
			"post_logout_redirect_uri": {redirect + "/abgemeldet"}, "state": {"bye"}}.Encode()
		chromeDo(t, ctx, "log out", chromedp.Navigate(logout))
		u := chromeWaitURL(t, ctx, "the post-logout redirect", func(u *url.URL) bool {
			return u.Host == rpHost && u.Path == "/callback/abgemeldet"
		})
		if got := u.Query().Get("state"); got != "bye" {
			t.Errorf("post-logout redirect %s: state %q, want \"bye\"", u, got)
		}
		chromeDo(t, ctx, "open the account page", chromedp.Navigate(n.base+"/konto"))
		chromeWaitURL(t, ctx, "the login page after the logout", func(u *url.URL) bool {
			if u.Path == "/konto" {
				t.Fatalf("after the logout the account page still shows (%s)", chromeWhere(ctx))
			}
			return u.Path == "/anmelden"
		})
		if status, body := refresh(tok2.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh after the logout: %d %v, want 400 invalid_grant", status, body)
		}

		// Signed in again, prompt=login still shows the login page, and
		// the new login counts.
		s = party.Start(substantial)
		chromeDo(t, ctx, "open the third authorization request", chromedp.Navigate(s.URL))
		party.Finish(t, s, n.chromeLogin(t, ctx, isCallback))
		s = party.Start(substantial, oauth2.SetAuthURLParam("prompt", "login"))
		asked := time.Now().Truncate(time.Second)
		chromeDo(t, ctx, "open the authorization request with prompt=login", chromedp.Navigate(s.URL))
		chromeWaitURL(t, ctx, "the login page for prompt=login", func(u *url.URL) bool {
			if isCallback(u) && u.Query().Get("state") == s.State {
				t.Fatalf("prompt=login returned to the relying party without a login: %s", u)
			}
			return u.Path == "/anmelden"
		})
		_, _, claims4 := party.Finish(t, s, n.chromeLogin(t, ctx, isCallback))
		if at := time.Unix(claims4.AuthTime, 0); at.Before(asked) {
			t.Errorf("prompt=login: auth_time %v is before the request (%v), want the new login's", at, asked)
		}
	})
}
