package pforte_test

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// domainGraph is the one place the design's graph of domain packages is
// written down: each domain package and the domain packages it may import
// (the store, HTTP packages and the rest have their own rules in
// importRules). A new domain package, or a new edge between two, is a change
// to this table, made on purpose and reviewed as such.
var domainGraph = map[string][]string{
	"internal/access":      {"internal/account", "internal/audit", "internal/dispatch", "internal/eid", "internal/field", "internal/lang", "internal/letter", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/account":     {"internal/audit", "internal/lang", "internal/notice", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/approval":    {"internal/audit", "internal/device", "internal/field", "internal/jsonstrict", "internal/session"},
	"internal/assistant":   {},
	"internal/audit":       {},
	"internal/browsertest": {}, // starts Chromium for the page tests; tests only
	"internal/device":      {"internal/audit", "internal/field", "internal/notice", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/dispatch":    {"internal/audit", "internal/lang", "internal/letter", "internal/notice"},
	"internal/eid":         {"internal/proofing"},
	"internal/eid/sim":     {},
	"internal/field":       {},
	"internal/jsonstrict":  {},
	"internal/lang":        {},
	"internal/letter":      {"internal/lang"},
	"internal/load":        {"internal/account", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/maintenance": {},
	"internal/notice":      {"internal/lang"},
	"internal/password":    {},
	"internal/phone":       {"internal/lang", "internal/letter"},
	"internal/profile":     {"internal/approval", "internal/device", "internal/dispatch", "internal/field", "internal/notice", "internal/registry", "internal/seal", "internal/session"},
	"internal/proofing":    {"internal/registry"},
	"internal/registry":    {"internal/seal"},
	"internal/seal":        {},
	"internal/seal/reseal": {"internal/seal"},
	"internal/session":     {},
	"internal/signkey":     {},
}

// graphProblems reports the domain packages missing from graph and the
// domain-to-domain imports of edges that graph does not draw.
func graphProblems(graph map[string][]string, domains []string, edges []edge) []string {
	var out []string
	for _, d := range domains {
		if _, ok := graph[d]; !ok {
			out = append(out, d+": a domain package missing from domainGraph (write down what it may import)")
		}
	}
	for _, e := range edges {
		if !e.local || !isDomain(e.from) || !isDomain(e.to) {
			continue
		}
		if allowed, ok := graph[e.from]; ok && !slices.Contains(allowed, e.to) {
			out = append(out, fmt.Sprintf("%s imports %s: an edge domainGraph does not draw", e.from, e.to))
		}
	}
	return out
}

// TestArchDomainGraph checks the domain packages' imports against domainGraph.
func TestArchDomainGraph(t *testing.T) {
	m := mustLoad(t)
	var domains []string
	var edges []edge
	for _, p := range m.sortedPkgs() {
		if isDomain(p.dir) {
			domains = append(domains, p.dir)
		}
		edges = append(edges, m.edges(p)...)
	}
	if len(domains) < 10 {
		t.Fatalf("found %d domain packages; the walker is broken", len(domains))
	}
	for _, msg := range graphProblems(domainGraph, domains, edges) {
		t.Error(msg)
	}
}

// TestArchDomainGraphRules tests the graph check on made-up packages.
func TestArchDomainGraphRules(t *testing.T) {
	graph := map[string][]string{"internal/profile": {"internal/approval"}, "internal/approval": {}}
	got := graphProblems(graph, []string{"internal/profile", "internal/approval", "internal/newthing"}, []edge{
		{"internal/profile", "internal/approval", true},      // drawn
		{"internal/approval", "internal/profile", true},      // not drawn
		{"internal/profile", "internal/store", true},         // the store is not a domain package
		{"internal/profile", "internal/web", true},           // HTTP: importRules' business
		{"internal/profile", "github.com/x/approval", false}, // not the module's
	})
	want := []string{
		"internal/newthing: a domain package missing from domainGraph (write down what it may import)",
		"internal/approval imports internal/profile: an edge domainGraph does not draw",
	}
	if !slices.Equal(got, want) {
		t.Errorf("graphProblems = %q, want %q", got, want)
	}
}

// maxFileLines is where STYLE.md asks to split a file.
const maxFileLines = 800

// TestArchFileLength fails on a Go file of more than maxFileLines lines.
func TestArchFileLength(t *testing.T) {
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		n, err := countLines(path)
		if err != nil {
			return err
		}
		if n > maxFileLines {
			t.Errorf("%s: %d lines; split it (at most %d)", filepath.ToSlash(path), n, maxFileLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("found %d Go files; the walk is broken", files)
	}
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}
