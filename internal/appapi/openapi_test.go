package appapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
)

// TestOpenAPIDescribesEveryAPIRoute: every route the API serves, with every
// part enabled, is in /api/openapi.json with its method.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	a := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) {
		// The e-mail routes are there with a relay.
		c.Mail = &email.SenderConfig{Relay: "127.0.0.1:25", From: "postfach@example.de", PortalURL: c.PublicURL}
	}})
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, pattern := range a.Patterns() {
		method, path, _ := strings.Cut(pattern, " ")
		if !strings.HasPrefix(path, "/api/") || path == "/api/openapi.json" {
			continue
		}
		if doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("%s is not described in openapi.json", pattern)
		}
	}
}
