package serviceapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
)

// TestHealthCardIsExplained: the web app cannot read the health card; from
// the welcome it explains what the native app does with it and offers the
// ways it has, the letter and the Online-Ausweis.
func TestHealthCardIsExplained(t *testing.T) {
	ctx := browsertest.Start(t)
	n := nodetest.Start(t, nodetest.Options{Host: "localhost"})
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(n.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	apptest.Do(t, ctx, "ask about the card", apptest.Tap("Mit der Gesundheitskarte?"))
	got := apptest.Screen(t, ctx, "Mit der Gesundheitskarte verbinden")
	for _, want := range []string{"Browser kann die Gesundheitskarte nicht lesen", "Brief", "Online-Ausweis", "CAN"} {
		if !strings.Contains(got, want) {
			t.Errorf("the card screen lacks %q:\n%s", want, got)
		}
	}
	apptest.A11y(t, ctx, "card screen")
	apptest.Do(t, ctx, "register instead", apptest.Tap("Registrieren (Brief oder Online-Ausweis)"))
	apptest.Screen(t, ctx, "Registrieren")
}
