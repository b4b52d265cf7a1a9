package serviceapp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/serviceapp"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
)

// TestServiceAppHelp asks the assistant in the app against a whole node,
// from the welcome: an answer with the page that does it, how well it fits
// and the disclaimer; a request for a person gets the telephone and its
// hours. axe-core checks each screen.
func TestServiceAppHelp(t *testing.T) {
	ctx := browsertest.Start(t)
	n := nodetest.Start(t, nodetest.Options{Host: "localhost"})
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(n.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	apptest.Do(t, ctx, "open the help", apptest.Tap("Hilfe"))
	apptest.Screen(t, ctx, "Hilfe")
	apptest.A11y(t, ctx, "Hilfe")
	apptest.Do(t, ctx, "ask", apptest.Fill("frage", "Wie lange dauert der Passwortbrief?"), apptest.Tap("Fragen"))
	got := apptest.WaitText(t, ctx, "Werktagen")
	for _, want := range []string{"Zugangsdaten anfordern", "passt sehr wahrscheinlich", "nicht rechtsverbindlich"} {
		if !strings.Contains(got, want) {
			t.Errorf("the answer lacks %q:\n%s", want, got)
		}
	}
	if href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#antwort a").getAttribute("href")`)); err != nil || href != "/zugang" {
		t.Errorf("the answer's link: %q, %v", href, err)
	}
	apptest.A11y(t, ctx, "Hilfe with an answer")
	apptest.Do(t, ctx, "ask for a person", apptest.Fill("frage", "Ich möchte bitte mit einem Menschen sprechen"), apptest.Tap("Fragen"))
	got = apptest.WaitText(t, ctx, "Service-Telefon")
	for _, want := range []string{nodetest.Insurer.Phone, nodetest.Assistant.OpeningHours, "nicht rechtsverbindlich"} {
		if !strings.Contains(got, want) {
			t.Errorf("the hand-over lacks %q:\n%s", want, got)
		}
	}
	apptest.A11y(t, ctx, "Hilfe with a hand-over")
	apptest.Do(t, ctx, "back", apptest.Tap("Zurück"))
	apptest.Screen(t, ctx, "Willkommen")
}

// TestServiceAppHelpShowsTextOnly: whatever an answer holds is shown as
// text. A server (here a hostile one) that sends markup gets it shown
// literally, and only a path of the portal becomes a link.
func TestServiceAppHelpShowsTextOnly(t *testing.T) {
	ctx := browsertest.Start(t)
	mux := http.NewServeMux()
	for pattern, h := range serviceapp.New(serviceapp.Config{InsurerName: "Testkasse", Phone: "0800 000"}).Routes() {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("POST /api/v1/assistant", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"answer":"<img src=x id=boese onerror=alert(1)><b>fett</b>","entry":"x","link":"javascript:alert(1)",` +
			`"link_text":"<i>Klick</i>","confidence":0.9,"handover":null,"disclaimer":"<script>alert(2)</script>nicht rechtsverbindlich"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	apptest.Do(t, ctx, "open the help", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	apptest.Do(t, ctx, "ask", apptest.Tap("Hilfe"), apptest.Fill("frage", "Frage"), apptest.Tap("Fragen"))
	got := apptest.WaitText(t, ctx, "<b>fett</b>")
	if !strings.Contains(got, "<script>alert(2)</script>nicht rechtsverbindlich") || !strings.Contains(got, "<i>Klick</i>") {
		t.Errorf("the answer is not shown as text:\n%s", got)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#antwort *:not(section):not(h2):not(p)").length`))
	if err != nil || n != 0 {
		t.Errorf("the answer made %d elements of its own (%v)", n, err)
	}
}
