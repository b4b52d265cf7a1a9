package pforte_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
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
	"internal/access":         {"internal/account", "internal/audit", "internal/dispatch", "internal/eid", "internal/field", "internal/lang", "internal/letter", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/account":        {"internal/audit", "internal/lang", "internal/notice", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/approval":       {"internal/audit", "internal/device", "internal/field", "internal/jsonstrict", "internal/session"},
	"internal/assistant":      {},
	"internal/audit":          {},
	"internal/browsertest":    {}, // starts Chromium for the page tests; tests only
	"internal/device":         {"internal/audit", "internal/egk", "internal/field", "internal/lang", "internal/notice", "internal/password", "internal/proofing", "internal/registry", "internal/seal", "internal/session"},
	"internal/dispatch":       {"internal/audit", "internal/lang", "internal/letter", "internal/notice"},
	"internal/egk":            {"internal/registry"},
	"internal/egk/testca":     {"internal/egk"}, // a test CA for tests and the demo, never a production one
	"internal/eid":            {"internal/proofing"},
	"internal/eid/sim":        {},
	"internal/email":          {"internal/approval", "internal/audit", "internal/field", "internal/lang", "internal/seal", "internal/session"},
	"internal/email/smtptest": {}, // a real SMTP server on loopback; tests only
	"internal/family":         {"internal/approval", "internal/audit", "internal/field", "internal/lang", "internal/profile", "internal/registry", "internal/seal", "internal/session"},
	"internal/field":          {"internal/lang"}, // messages in the person's language
	"internal/jsonstrict":     {},
	"internal/lang":           {},
	"internal/letter":         {"internal/lang"},
	"internal/load":           {"internal/account", "internal/password", "internal/proofing", "internal/registry", "internal/session"},
	"internal/loadtest":       {},
	"internal/mailbox":        {"internal/audit", "internal/lang", "internal/notice", "internal/session"},
	"internal/maintenance":    {},
	"internal/notice":         {"internal/lang"},
	"internal/password":       {},
	"internal/phone":          {"internal/lang", "internal/letter"},
	"internal/profile":        {"internal/approval", "internal/device", "internal/dispatch", "internal/field", "internal/lang", "internal/notice", "internal/registry", "internal/seal", "internal/session"},
	"internal/proofing":       {"internal/registry"},
	"internal/registry":       {"internal/seal"},
	"internal/scale":          {},
	"internal/seal":           {},
	"internal/seal/reseal":    {"internal/seal"},
	"internal/session":        {},
	"internal/signkey":        {},
	"internal/staff":          {"internal/audit", "internal/seal"},
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
		if skipDir(".", path, d) {
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

// skipDir reports the folders below root whose Go files are not the
// module's code: hidden ones, node_modules and testdata.
func skipDir(root, path string, d fs.DirEntry) bool {
	return d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "node_modules" || d.Name() == "testdata")
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

// maxMethods is where STYLE.md asks to split a type.
const maxMethods = 25

// methodsDictated are the types whose method set a library's interface
// dictates, each with that interface: they may have more than maxMethods
// methods. An entry no longer needed is an error, so the list stays true.
var methodsDictated = map[string]string{
	"internal/oidc.storage": "op.Storage of github.com/zitadel/oidc/v3 (with op.CanSetUserinfoFromRequest, " +
		"op.CanGetPrivateClaimsFromRequest and op.CanTerminateSessionFromRequest)",
}

// TestArchTypeSize fails on a type with more than maxMethods methods
// declared in the module's non-test files, unless methodsDictated lists it.
func TestArchTypeSize(t *testing.T) {
	counts, err := methodCounts(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) < 50 {
		t.Fatalf("found %d types with methods; the walk is broken", len(counts))
	}
	for _, msg := range typeSizeProblems(counts, methodsDictated) {
		t.Error(msg)
	}
	// The largest types, for the record (go test -v -run TestArchTypeSize .).
	types := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		if c := counts[b] - counts[a]; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, typ := range types[:5] {
		t.Logf("%s: %d methods", typ, counts[typ])
	}
}

// typeSizeProblems reports the types of counts with more than maxMethods
// methods that dictated does not list, and the entries of dictated that
// are not needed (any more).
func typeSizeProblems(counts map[string]int, dictated map[string]string) []string {
	var out []string
	for _, typ := range slices.Sorted(maps.Keys(counts)) {
		if _, ok := dictated[typ]; counts[typ] > maxMethods && !ok {
			out = append(out, fmt.Sprintf("%s: %d methods; split it by role (at most %d)", typ, counts[typ], maxMethods))
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(dictated)) {
		if counts[typ] <= maxMethods {
			out = append(out, fmt.Sprintf("%s: %d methods; remove it from methodsDictated (%s)", typ, counts[typ], dictated[typ]))
		}
	}
	return out
}

// methodCounts counts the methods declared on each type in the non-test Go
// files below root, by "dir.Type" with dir relative to root ("Type" at
// root). A method
// declared in several files (for different build constraints) counts once.
func methodCounts(root string) (map[string]int, error) {
	methods := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipDir(root, path, d) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) == 0 {
				continue
			}
			if name, ok := receiverType(fd.Recv.List[0].Type); ok {
				typ := name // a type at root
				if dir != "." {
					typ = filepath.ToSlash(dir) + "." + name
				}
				if methods[typ] == nil {
					methods[typ] = map[string]bool{}
				}
				methods[typ][fd.Name.Name] = true
			}
		}
		return nil
	})
	counts := make(map[string]int, len(methods))
	for typ, names := range methods {
		counts[typ] = len(names)
	}
	return counts, err
}

// receiverType returns the name of a receiver's type: T of T, *T, (T),
// T[X] and T[K, V].
func receiverType(e ast.Expr) (string, bool) {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name, true
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		default:
			return "", false
		}
	}
}

// TestArchTypeSizeCounts checks the counter on made-up files.
func TestArchTypeSizeCounts(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"p/p.go": "package p\ntype T struct{}\nfunc (T) A() {}\nfunc (*T) B() {}\n" +
			"type G[X any] struct{}\nfunc (G[X]) A() {}\nfunc (*G[X]) B() {}\nfunc (g (*G[X])) C() {}\n" +
			"type H[K comparable, V any] struct{}\nfunc (h *H[K, V]) A() {}\nfunc F() {}\n",
		"p/t_linux.go":    "//go:build linux\n\npackage p\nfunc (T) D() {}\n",
		"p/t_windows.go":  "//go:build windows\n\npackage p\nfunc (T) D() {}\n",
		"p/p_test.go":     "package p\nfunc (T) E() {}\n",
		"p/testdata/x.go": "package x\ntype T struct{}\nfunc (T) Z() {}\n",
		"p/.hidden/h.go":  "package h\ntype T struct{}\nfunc (T) Z() {}\n",
		"q/q.go":          "package q\ntype T struct{}\nfunc (T) A() {}\n",
		"root.go":         "package root\ntype R int\nfunc (R) A() {}\n",
		"p/notgo.go.orig": "package p\nfunc (T) Y() {}\n",
		"q/doc_of_q.go":   "// Package q is made up.\npackage q\n",
		"q/interfaces.go": "package q\ntype I interface{ A(); B() }\n",
		"q/funcs_on_q.go": "package q\nfunc A() {}\nvar _ = func() {}\n",
	}
	for name, src := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := methodCounts(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"p.T": 3, "p.G": 3, "p.H": 1, "q.T": 1, "R": 1}
	if !maps.Equal(got, want) {
		t.Errorf("methodCounts = %v, want %v", got, want)
	}
}

// TestArchTypeSizeRules tests the limit on made-up counts.
func TestArchTypeSizeRules(t *testing.T) {
	counts := map[string]int{"a.Big": maxMethods + 1, "a.Limit": maxMethods, "lib.Dictated": 40, "lib.Shrunk": 10}
	dictated := map[string]string{"lib.Dictated": "x.Iface", "lib.Shrunk": "y.Iface", "lib.Gone": "z.Iface"}
	got := typeSizeProblems(counts, dictated)
	want := []string{
		"a.Big: 26 methods; split it by role (at most 25)",
		"lib.Gone: 0 methods; remove it from methodsDictated (z.Iface)",
		"lib.Shrunk: 10 methods; remove it from methodsDictated (y.Iface)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("typeSizeProblems = %q, want %q", got, want)
	}
}
