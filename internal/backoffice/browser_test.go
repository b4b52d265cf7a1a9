package backoffice_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// atPath waits until the page's path is path and its document is loaded.
func atPath(path string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			loc, err := chromedp.Location()(ctx, tg)
			if err == nil {
				if u, perr := url.Parse(loc); perr == nil && u.Path == path {
					if _, err := chromedp.WaitReady("body")(ctx, tg); err == nil {
						return chromedp.Void{}, nil
					}
				}
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatalf("read main: %v", err)
	}
	return s
}

// TestBrowserWalk walks a supervisor through the back office in Chromium:
// login with password and code, search, the person view, ending the
// person's sessions, the review queue, the four-eyes page and the audit
// view; axe-core finds no WCAG 2.1 A/AA violation on any page.
func TestBrowserWalk(t *testing.T) {
	ctx := browsertest.Start(t)
	browsertest.NeedAxe(t)
	n := nodetest.Start(t, nodetest.Options{})
	in := n.Insure(t, 1)
	p := in.Person
	n.BindPhone(t, p, in.Password, "135790")
	portalSession(t, n, p)
	cr, err := n.Staff.Add(t.Context(), "bernd", "Bernd Beispiel", staff.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "login page", chromedp.Navigate(n.URL+"/backoffice/"), atPath("/backoffice/anmelden"), chromedp.WaitVisible("#kennung"))
	browsertest.A11y(t, ctx, "login")
	do(t, ctx, "wrong code",
		chromedp.SendKeys("#kennung", "bernd"), chromedp.SendKeys("#passwort", string(cr.Password)), chromedp.SendKeys("#code", "000000"),
		chromedp.Click("main button[type=submit]"), chromedp.WaitVisible(`//p[@role='alert'][contains(., 'fehlgeschlagen')]`))
	browsertest.A11y(t, ctx, "failed login")
	do(t, ctx, "log in",
		chromedp.SetValue("#kennung", "bernd"), chromedp.SendKeys("#passwort", string(cr.Password)),
		chromedp.SendKeys("#code", staff.Code(cr.Secret, time.Now())),
		chromedp.Click("main button[type=submit]"), atPath("/backoffice/"), chromedp.WaitVisible(`//h1[contains(., 'Übersicht')]`))
	browsertest.A11y(t, ctx, "start page")
	do(t, ctx, "search by KVNR",
		chromedp.Navigate(n.URL+"/backoffice/suche"), chromedp.WaitVisible("#kvnr"),
		chromedp.SendKeys("#kvnr", p.KVNR), chromedp.Click("#kvnr ~ p button"),
		chromedp.WaitVisible(`//table/caption[contains(., 'Gefundene Personen')]`))
	browsertest.A11y(t, ctx, "search result")
	do(t, ctx, "open the person",
		chromedp.Click(`//a[contains(., '`+p.KVNR+`')]`), atPath(fmt.Sprintf("/backoffice/personen/%d", p.ID)),
		chromedp.WaitVisible(`//h2[contains(., 'Geräte')]`))
	if got := mainText(t, ctx); !strings.Contains(got, "Testtelefon") || !strings.Contains(got, p.KVNR) {
		t.Errorf("person view:\n%s", got)
	}
	browsertest.A11y(t, ctx, "person view")
	do(t, ctx, "end all sessions",
		chromedp.SendKeys("#grund-sitzungen", "Anruf: Passwort weitergegeben"),
		chromedp.Click(`//button[contains(., 'Alle Sitzungen beenden')]`),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Alle Sitzungen der Person sind beendet')]`))
	browsertest.A11y(t, ctx, "person view after an act")
	if live, _ := n.Sessions.List(t.Context(), p.ID); len(live) != 0 {
		t.Errorf("%d sessions left", len(live))
	}
	for _, page := range []struct{ path, heading string }{
		{"/backoffice/briefe", "Briefe prüfen"}, {"/backoffice/vier-augen", "Vier-Augen-Anträge"}, {"/backoffice/protokoll", "Prüfpfad"},
	} {
		do(t, ctx, page.path, chromedp.Navigate(n.URL+page.path), chromedp.WaitVisible(`//h1[contains(., '`+page.heading+`')]`))
		browsertest.A11y(t, ctx, page.path)
	}
	do(t, ctx, "verify the trail", chromedp.Click(`//button[contains(., 'audit verify')]`),
		chromedp.WaitVisible(`//p[@role='status'][contains(., 'Prüfung bestanden')]`))
	browsertest.A11y(t, ctx, "audit verify result")
	do(t, ctx, "a bad filter", chromedp.Navigate(n.URL+"/backoffice/protokoll?von=gestern"),
		chromedp.WaitVisible(`//p[@role='alert'][contains(., 'TT.MM.JJJJ')]`))
	browsertest.A11y(t, ctx, "audit view with a bad filter")
	es, err := n.Store.SearchAudit(t.Context(), store.AuditFilter{Event: "staff.sessions_ended"}, 10)
	if err != nil || len(es) != 1 {
		t.Errorf("audit of the act: %d, %v", len(es), err)
	}
}

// TestBrowserRefusesForeignForms: in a real browser, a page of another
// origin cannot post the back office's forms (CSRF): the cross-origin check
// refuses them before anything is done. (Framing is refused by the headers
// TestCrossOriginRefused checks.)
func TestBrowserRefusesForeignForms(t *testing.T) {
	ctx := browsertest.Start(t)
	n := nodetest.Start(t, nodetest.Options{})
	in := n.Insure(t, 1)
	p := in.Person
	portalSession(t, n, p)
	cr, err := n.Staff.Add(t.Context(), "bernd", "Bernd Beispiel", staff.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "log in", chromedp.Navigate(n.URL+"/backoffice/anmelden"), chromedp.WaitVisible("#kennung"),
		chromedp.SendKeys("#kennung", "bernd"), chromedp.SendKeys("#passwort", string(cr.Password)),
		chromedp.SendKeys("#code", staff.Code(cr.Secret, time.Now())),
		chromedp.Click("main button[type=submit]"), atPath("/backoffice/"))
	// Another origin (localhost is another site than 127.0.0.1).
	target := n.URL + fmt.Sprintf("/backoffice/personen/%d/sitzungen-beenden", p.ID)
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!DOCTYPE html><html lang="de"><title>x</title><form id="f" method="post" action="%s">`+
			`<input name="grund" value="gefälscht"><button id="go">go</button></form>`, target)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	do(t, ctx, "a foreign form", chromedp.Navigate(evilURL+"/form"), chromedp.WaitVisible("#go"), chromedp.Click("#go"),
		chromedp.WaitVisible(`//h1[contains(., 'Anfrage abgelehnt')]`))
	if live, _ := n.Sessions.List(t.Context(), p.ID); len(live) != 1 {
		t.Errorf("the foreign form ended sessions: %d left", len(live))
	}
	if es, _ := n.Store.SearchAudit(t.Context(), store.AuditFilter{Event: "staff.sessions_ended"}, 10); len(es) != 0 {
		t.Errorf("a foreign form was carried out: %d entries", len(es))
	}
}
