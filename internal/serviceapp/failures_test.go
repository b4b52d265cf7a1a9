package serviceapp_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// intercept lets the browser's requests to urlPattern (at stage) be
// answered by answer until stop is called; answer returns false to let a
// request through unchanged.
func (s svc) intercept(urlPattern string, stage fetch.RequestStage, answer func(ctx context.Context, ev *fetch.EventRequestPaused) bool) (stop func()) {
	s.t.Helper()
	paused := chromedp.Events(s.ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(s.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: urlPattern, RequestStage: stage}}}); err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	go func() {
		for ev, err := range paused {
			if err != nil || ctx.Err() != nil {
				return
			}
			if !answer(ctx, &ev) {
				chromedp.Call(s.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}
		}
	}()
	return func() {
		cancel()
		if _, err := chromedp.Call(s.ctx, fetch.Disable, struct{}{}); err != nil {
			s.t.Fatal(err)
		}
	}
}

// change asks p's phone to approve an address change.
func (s svc) change(p store.Person, street string) store.Approval {
	s.t.Helper()
	a, err := s.n.Profile.RequestAddressChange(s.t.Context(), p.ID, profile.Address{Street: street, HouseNumber: "1",
		PostalCode: "50667", City: "Köln"}, "test", session.LevelSubstantial)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

func (s svc) status(id string) store.ApprovalStatus {
	s.t.Helper()
	a, err := s.n.Store.ApprovalByID(s.t.Context(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return a.Status
}

// TestServiceAppFailures: what the person sees when things go wrong. A
// letter's code already used; the network lost while an approval is sent
// (before it reached the server, and after: never approved twice, and a
// clear way to retry); an approval that expires while it is open; a server
// answer the app does not understand. Never a blank screen, never English.
func TestServiceAppFailures(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	apptest.NeedAxe(t)
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 6 * time.Minute, Flags: []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true)}})
	n := startAppNode(t, func(c *node.Config) { c.Approvals.TTL = 30 * time.Second })
	s := svc{t, ctx, n}
	p := n.others[0]
	watchConsole(t, ctx)
	letter := s.activateWithPhoto(p)
	s.login(svcPIN)

	// The network fails before the approval reaches the server.
	a := s.change(p, "Erster Weg")
	s.wait("Änderung Ihrer Anschrift")
	s.do("open", tap("Ansehen und beantworten"))
	s.screen("Änderung Ihrer Anschrift")
	var failed atomic.Int32
	stop := s.intercept("*/approve", fetch.RequestStageRequest, func(ctx context.Context, ev *fetch.EventRequestPaused) bool {
		failed.Add(1)
		chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
		return true
	})
	s.do("approve", apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Ihre Antwort ist vielleicht nicht angekommen")
	apptest.A11y(t, ctx, "Senden fehlgeschlagen")
	if failed.Load() != 1 || s.status(a.ID) != store.ApprovalPending {
		t.Fatalf("%d requests failed; the approval is %s", failed.Load(), s.status(a.ID))
	}
	stop()
	s.do("send again", tap("Erneut senden"))
	s.wait("Freigegeben. Vielen Dank.")
	if got := s.status(a.ID); got != store.ApprovalApproved {
		t.Errorf("after sending again the approval is %s", got)
	}

	// The approval reaches the server, its answer is lost: sending again
	// does not approve twice; the app finds out it was approved.
	s.do("back", tap("Zurück zur Übersicht"))
	b := s.change(p, "Zweiter Weg")
	s.wait("Zweiter Weg")
	s.do("open", tap("Ansehen und beantworten"))
	s.screen("Änderung Ihrer Anschrift")
	stop = s.intercept("*/approve", fetch.RequestStageResponse, func(ctx context.Context, ev *fetch.EventRequestPaused) bool {
		chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
		return true
	})
	s.do("approve", apptest.Fill("pin", svcPIN), tap("Freigeben"))
	s.wait("Ihre Antwort ist vielleicht nicht angekommen")
	if got := s.status(b.ID); got != store.ApprovalApproved {
		t.Fatalf("the first answer did not arrive: %s", got)
	}
	stop()
	s.do("send again", tap("Erneut senden"))
	s.wait("Diese Anfrage wurde freigegeben.")
	events, err := n.Store.OutboxAfter(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, e := range events {
		if e.ID == "approval:"+b.ID {
			count++
		}
	}
	if count != 1 {
		t.Errorf("the change went to the outbox %d times, want once", count)
	}

	// An approval that expires while it is open.
	s.do("back", tap("Zurück zur Übersicht"))
	c := s.change(p, "Dritter Weg")
	s.wait("Dritter Weg")
	s.do("open", tap("Ansehen und beantworten"))
	s.screen("Änderung Ihrer Anschrift")
	wait := time.Until(c.ExpiresAt) + 2*time.Second
	time.Sleep(wait)
	s.wait("Diese Anfrage ist abgelaufen. Sie kann nicht mehr freigegeben werden.")
	apptest.A11y(t, ctx, "abgelaufen")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#pin").length`)); n != 0 {
		t.Error("the PIN is still asked for an expired approval")
	}

	// A server answer the app does not understand.
	s.do("back", tap("Zurück zur Übersicht"))
	s.screen("Freigaben")
	s.do("log out", tap("Abmelden"))
	s.screen("Anmelden")
	stop = s.intercept("*/api/v1/app/sessions", fetch.RequestStageRequest, func(ctx context.Context, ev *fetch.EventRequestPaused) bool {
		chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusBadGateway,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html"}},
			Body:            []byte("<html><body>Bad Gateway</body></html>")})
		return true
	})
	s.do("log in", apptest.Fill("pin", svcPIN), tap("Anmelden"))
	text := s.wait("Der Server hat eine Antwort geschickt, die diese App nicht versteht.")
	if strings.Contains(text, "Bad Gateway") || strings.Contains(text, "Error") {
		t.Errorf("the app shows the server's text: %s", text)
	}
	apptest.A11y(t, ctx, "unverstandene Antwort")
	stop()
	s.login(svcPIN)

	// A letter's code already used: on a phone without the app's data.
	_, page := letterPhoto(t, letter)
	used := qrText(t, page)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise((res, rej) => {
		const r = indexedDB.deleteDatabase("pforte-service-app"); r.onsuccess = () => res(true); r.onerror = () => rej(r.error);
		r.onblocked = () => res(true); })`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	s.do("open the used link", chromedp.Navigate(used))
	s.screen("App aktivieren: Anmeldedaten")
	s.do("credentials", apptest.Fill("kvnr", p.KVNR), apptest.Fill("password", svcPassword), tap("Weiter"))
	s.screen("Freigabe-PIN festlegen")
	s.do("the PIN", apptest.Fill("new_pin", svcPIN2), apptest.Fill("new_pin_repeat", svcPIN2), tap("Smartphone verbinden"))
	s.wait("der QR-Code schon benutzt oder nicht mehr gültig")
	apptest.A11y(t, ctx, "Code schon benutzt")
}
