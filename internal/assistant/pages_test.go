package assistant_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/node/nodetest"
)

// TestAssistantLinksArePortalPages checks that every portal page an answer
// links to is a page a node serves (GET): a
// renamed or removed page turns this red instead of sending people to a
// dead link.
func TestAssistantLinksArePortalPages(t *testing.T) {
	pages := map[string]bool{}
	routes := map[string]http.Handler{}
	for _, p := range nodetest.Start(t, nodetest.Options{}).Patterns() {
		routes[p] = nil
	}
	a, err := assistant.New(assistant.Config{InsurerName: "K", Phone: "0800", OpeningHours: "immer", LetterDays: 5, LetterLimit: 3,
		LetterWindowDays: 30, InitialPasswordDays: 30, PasswordMinLength: 10, PasswordChangesPerDay: 5, PINAttempts: 3, MaxDevices: 3,
		ApprovalMinutes: 5, EIDMinutes: 15}, assistant.KnowledgeBase(), assistant.KeepNothing{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for p := range assistantapi.NewPage(assistantapi.Config{}, a, noSessions{}, nil, nil).Routes() {
		routes[p] = nil
	}
	for pattern := range routes {
		if path, ok := strings.CutPrefix(pattern, "GET "); ok {
			pages[strings.TrimSuffix(path, "{$}")] = true
		}
	}
	if len(pages) < 10 {
		t.Fatalf("found %d portal pages; the route table changed shape", len(pages))
	}
	for _, e := range a.Entries() {
		if !e.Link.App() && !pages[e.Link.Href] {
			t.Errorf("%s:%d: entry %q links to %s, which the portal does not serve", e.File, e.Line, e.ID, e.Link.Href)
		}
	}
}

type noSessions struct{}

func (noSessions) SessionLevel(*http.Request) (string, string, bool) { return "", "", false }
