package serviceapp_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/store"
)

// The tests in this file and in life_test.go, eid_test.go,
// failures_test.go and settings_test.go drive the service app in Chromium
// against a whole node (package nodetest): the app as a person uses it,
// the server's state checked after each step.

const (
	svcPassword = "Kastanienbaum im Herbstwind"
	svcPIN      = "482915"
	svcPIN2     = "730518"
	// cibaDetails are what the Kasse-App asks a payment to be approved
	// with.
	cibaDetails = `[{"type":"payment_initiation","amount":"42.00","currency":"EUR","creditor":"Apotheke am Markt","iban":"DE02120300000000202051"}]`
)

// appNode is a whole node for the service app's browser tests: the portal,
// the API and the app on http://localhost:PORT (WebAuthn takes a host name,
// not an IP address, as relying party), letters kept as PDF files, the eID
// simulator with identities from a generated register as the
// identification partner, and the CIBA client Kasse-App.
type appNode struct {
	*nodetest.Node
	// eidPerson is the person the simulator's first identity matches;
	// others have no account either, and an address a letter may go to.
	eidPerson store.Person
	others    []store.Person
}

// startAppNode starts the node; tune changes its configuration.
func startAppNode(t *testing.T, tune ...func(*node.Config)) *appNode {
	t.Helper()
	nn := nodetest.Start(t, nodetest.Options{Host: "localhost",
		// Seed 11: the first adult member, whom the simulator's first
		// identity matches, has an address verified recently, so a letter
		// to it goes out at once.
		Register: &nodetest.Register{Persons: 40, Seed: 11},
		Clients:  []oidc.ClientConfig{nodetest.KasseAppClient()},
		Config: func(c *node.Config) {
			for _, f := range tune {
				f(c)
			}
		}})
	n := &appNode{Node: nn, eidPerson: nn.PersonOf(t, nn.Identities[0])}
	for _, p := range nn.Registered {
		if p.ID != n.eidPerson.ID && p.Relation == store.RelationMember && len(p.BirthDate) == len("2006-01-02") &&
			time.Since(p.AddressVerifiedAt) < 300*24*time.Hour {
			n.others = append(n.others, p)
		}
	}
	if len(n.others) == 0 {
		t.Fatal("no adult members in the generated register")
	}
	return n
}

// requestLetter asks for a password letter for p through the API and
// returns the letter's PDF.
func (n *appNode) requestLetter(t *testing.T, p store.Person) string {
	t.Helper()
	seen := len(n.Letters.Paths())
	status, body := nodetest.CallAPI(t, http.MethodPost, n.URL+"/api/v1/access-requests", "", map[string]string{"kvnr": p.KVNR,
		"postal_code": p.PostalCode, "birth_date": p.BirthDate, "method": "letter"})
	if status != http.StatusAccepted {
		t.Fatalf("access request: %d %s", status, body)
	}
	return n.Letters.Wait(t, seen+1)[seen]
}

// germanDate writes an ISO date as TT.MM.JJJJ.
func germanDate(iso string) string {
	return iso[8:10] + "." + iso[5:7] + "." + iso[0:4]
}

// svc bundles the steps the service app tests repeat.
type svc struct {
	t   *testing.T
	ctx context.Context
	n   *appNode
}

func (s svc) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	apptest.Do(s.t, s.ctx, what, steps...)
}

func (s svc) screen(heading string) string {
	s.t.Helper()
	text := apptest.Screen(s.t, s.ctx, heading)
	apptest.A11y(s.t, s.ctx, heading)
	return text
}

func (s svc) wait(text string) string {
	s.t.Helper()
	return apptest.WaitText(s.t, s.ctx, text)
}

func tap(text string) chromedp.Action[chromedp.Void] { return apptest.Tap(text) }

// strength waits until the meter rates the typed password as good or strong.
func (s svc) strength() {
	s.t.Helper()
	sctx, cancel := context.WithTimeout(s.ctx, apptest.StepTimeout)
	defer cancel()
	for {
		got, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.getElementById("staerke-text").textContent`))
		if err == nil && (got == "Stärke: gut" || got == "Stärke: stark") {
			return
		}
		select {
		case <-sctx.Done():
			s.t.Fatalf("the strength meter says %q (%v)", got, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shownText is the approval text the app shows.
func (s svc) shownText() string {
	s.t.Helper()
	got, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.getElementById("freigabe-text").textContent`))
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

// pendingOf returns the person's pending approval of action.
func (s svc) pendingOf(p store.Person, action string) store.Approval {
	s.t.Helper()
	list, err := s.n.Approvals.Pending(s.t.Context(), p.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, a := range list {
		if a.Action == action {
			return a
		}
	}
	s.t.Fatalf("no pending %s", action)
	return store.Approval{}
}

// login logs in with pin on the login screen and waits for the approvals.
func (s svc) login(pin string) {
	s.t.Helper()
	s.do("log in", apptest.Fill("pin", pin), tap("Anmelden"))
	s.screen("Freigaben")
	s.wait("Verbunden: neue Anfragen erscheinen sofort.")
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

// figure prints a measured figure when PFORTE_FIGURES is set.
func figure(name string, v float64, unit, what string) {
	if os.Getenv("PFORTE_FIGURES") != "" {
		fmt.Printf("FIGURE %s %.0f %s (%s)\n", name, v, unit, what)
	}
}
