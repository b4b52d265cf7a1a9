package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// TestOpenAPIDescribesEveryAPIRoute: every route the API serves, with every
// part enabled, is in /api/openapi.json with its method.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	k, _ := seal.GenerateKey("t1")
	cfg := defaultConfig()
	cfg.DataKeys = k.Encode()
	cfg.Audit.Key = testAuditKeyText
	st := sqltest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	a, err := buildNode(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), st)
	if err != nil {
		t.Fatal(err)
	}
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
