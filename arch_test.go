// The architecture tests parse every package of the module with go/parser (no go
// command, so they run offline in well under a second) and keep STYLE.md's layout
// true: every package has a doc comment, imports point in the allowed direction,
// no package has a grab-bag name, and go.mod pins modernc.org/libc to the version
// modernc.org/sqlite was built with.
//
// Only non-test files count for the import rules: tests may import anything
// (sqltest, httptest, another package's helpers).
package pforte_test

import (
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// httpPackages are the packages that speak HTTP to browsers, the app and relying
// parties, with their subpackages. They sit above the domain packages.
var httpPackages = []string{
	"internal/web",
	"internal/appapi",
	"internal/assistantapi",
	"internal/mailboxapi",
	"internal/familyapi",
	"internal/oidc",
	"internal/server",
	"internal/answer", // the table of HTTP answers both surfaces share
	"internal/demo",   // the demo's relying party
	"internal/serviceapp",
	"internal/backoffice",
}

// nodePackage wires the domain and HTTP packages into one node; only the
// command (and its own test harness below it) imports it.
const nodePackage = "internal/node"

// configPackage reads the binary's configuration and maps it onto the
// node's: it belongs to the command (it may import what the command
// imports), and only the command imports it.
const configPackage = "internal/config"

// isCommand reports whether dir is the binary or the configuration it reads.
func isCommand(dir string) bool { return under(dir, "cmd") || dir == configPackage }

// testHarnesses are packages only tests import: they start Chromium, open
// test databases, start whole nodes. A harness may import another.
var testHarnesses = []string{
	"internal/browsertest",
	"internal/store/testdb",
	"internal/store/sqlstore/sqltest",
	"internal/node/nodetest",
	"internal/serviceapp/apptest",
}

func isHarness(dir string) bool { return slices.Contains(testHarnesses, dir) }

// netHTTPAllowed lists the domain packages that may import net/http, each with its
// reason. Add a package only when speaking HTTP to an outside party is its job;
// serving HTTP belongs in an HTTP package.
var netHTTPAllowed = map[string]string{
	"internal/eid":      "speaks HTTP to the identification partner",
	"internal/egk":      "asks the configured OCSP responder whether a health card's certificate is revoked",
	"internal/eid/sim":  "simulates the identification partner's HTTP endpoints",
	"internal/phone":    "plays the phone against a node's API (through appclient)",
	"internal/load":     "sends measured load to a node on loopback",
	"internal/loadtest": "sends paced load to a system on loopback or to one staging host named exactly",
}

// bannedNames are package names that say nothing about what the package owns.
var bannedNames = map[string]bool{
	"util": true, "utils": true, "common": true, "helpers": true, "misc": true, "x": true,
}

// under reports whether the slash path p is dir or lies below it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// isHTTP reports whether the module directory dir is an HTTP package.
func isHTTP(dir string) bool {
	return slices.ContainsFunc(httpPackages, func(h string) bool { return under(dir, h) })
}

// isDomain reports whether the module directory dir is a domain package: below
// internal/, neither an HTTP package nor part of the store.
func isDomain(dir string) bool {
	return under(dir, "internal") && !isHTTP(dir) && !under(dir, "internal/store") && !under(dir, nodePackage) && !isHarness(dir) &&
		dir != configPackage
}

// edge is one import of a non-test file: package from imports path to. Paths of
// the module's own packages are relative to the module root ("internal/store");
// local tells them apart from standard-library and third-party paths.
type edge struct {
	from  string
	to    string
	local bool
}

// localUnder matches imports of the module's own packages at or below dir.
func localUnder(dir string) func(edge) bool {
	return func(e edge) bool { return e.local && under(e.to, dir) }
}

// importRule forbids the packages matched by from to make the imports matched by
// to; why is what a failure says.
type importRule struct {
	from func(dir string) bool
	to   func(e edge) bool
	why  string
}

var importRules = []importRule{
	{
		from: func(d string) bool { return !isCommand(d) && !under(d, "internal/store/sqlstore") && !isHarness(d) },
		to:   localUnder("internal/store/sqlstore"),
		why:  "only cmd/... and internal/config (and the test harnesses) may import internal/store/sqlstore",
	},
	{
		from: func(d string) bool { return !isCommand(d) && !under(d, nodePackage) },
		to:   localUnder(nodePackage),
		why:  "only cmd/... and internal/config import internal/node, the wiring of one node",
	},
	{
		from: func(d string) bool { return !under(d, "cmd") },
		to:   localUnder(configPackage),
		why:  "only cmd/... reads the configuration; services get their values from it",
	},
	{
		from: func(d string) bool { return !isHarness(d) },
		to:   func(e edge) bool { return e.local && isHarness(e.to) },
		why:  "test harnesses are imported by tests only",
	},
	{
		from: isDomain,
		to:   func(e edge) bool { return e.local && isHTTP(e.to) },
		why:  "domain packages never import HTTP packages",
	},
	{
		from: func(d string) bool { return d == "internal/store" },
		to:   func(e edge) bool { return e.local },
		why:  "internal/store, the storage contract, imports nothing from the module",
	},
	{
		from: func(d string) bool { return under(d, "internal") },
		to:   localUnder("cmd"),
		why:  "packages under internal/ never import cmd/...",
	},
	{
		from: func(d string) bool { return under(d, "appclient") },
		to:   localUnder("internal"),
		why:  "appclient/ stands alone (a mobile team ports it) and imports nothing from internal/",
	},
	{
		from: func(d string) bool { _, ok := netHTTPAllowed[d]; return isDomain(d) && !ok },
		to:   func(e edge) bool { return !e.local && under(e.to, "net/http") },
		why:  "domain packages do not speak HTTP (allow one in netHTTPAllowed with its reason)",
	},
}

// violations returns one message per rule that e breaks.
func violations(e edge) []string {
	var out []string
	for _, r := range importRules {
		if r.from(e.from) && r.to(e) {
			out = append(out, fmt.Sprintf("%s imports %s: %s", e.from, e.to, r.why))
		}
	}
	return out
}

// docProblem says what is wrong with the package doc comments docs of package name
// in dir, or returns "" when one of them is fine. A command's doc comment may start
// any way; every other package's starts with "Package <name>".
func docProblem(dir, name string, docs []string) string {
	if len(docs) == 0 {
		if name == "main" {
			return dir + ": no doc comment on the package clause of the command"
		}
		return fmt.Sprintf("%s: no package doc comment (want \"// Package %s ...\" in one file)", dir, name)
	}
	if name == "main" {
		return ""
	}
	for _, d := range docs {
		rest, ok := strings.CutPrefix(d, "Package "+name)
		if ok && (rest == "" || unicode.IsSpace(rune(rest[0]))) {
			return ""
		}
	}
	first, _, _ := strings.Cut(docs[0], "\n")
	return fmt.Sprintf("%s: package doc comment starts %q, want \"Package %s ...\"", dir, first, name)
}

// nameProblems reports grab-bag names of the package name in dir.
func nameProblems(dir, name string) []string {
	var out []string
	if bannedNames[name] {
		out = append(out, fmt.Sprintf("%s: package name %q says nothing; name the package after what it owns", dir, name))
	}
	if base := path.Base(dir); base != name && bannedNames[base] {
		out = append(out, fmt.Sprintf("%s: directory name %q says nothing; name it after what it owns", dir, base))
	}
	return out
}

// pkg is one package of the module; only its non-test files count.
type pkg struct {
	dir     string   // slash path relative to the module root
	name    string   // package name
	docs    []string // package doc comments, in file order
	imports []string // imported paths, sorted, unique
}

// module is what the walker found.
type module struct {
	path     string          // module path from go.mod
	pkgs     map[string]*pkg // by dir
	problems []string        // files or directories the walker could not read
}

// sortedPkgs returns the packages ordered by directory.
func (m *module) sortedPkgs() []*pkg {
	var out []*pkg
	for _, p := range m.pkgs {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *pkg) int { return strings.Compare(a.dir, b.dir) })
	return out
}

// edges returns the imports of p with the module's own paths made relative.
func (m *module) edges(p *pkg) []edge {
	var out []edge
	for _, imp := range p.imports {
		e := edge{from: p.dir, to: imp}
		if imp == m.path {
			e.to, e.local = ".", true
		} else if rel, ok := strings.CutPrefix(imp, m.path+"/"); ok {
			e.to, e.local = rel, true
		}
		out = append(out, e)
	}
	return out
}

// loadModule walks the module once for all tests.
var loadModule = sync.OnceValues(func() (*module, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return walk(root)
})

// walk parses the package clause, doc comment and imports of every non-test Go file
// below root, skipping testdata, hidden and underscore directories, pforte-data,
// vendor, nested modules and files built only with the ignore tag.
func walk(root string) (*module, error) {
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("walk: tests must run at the module root: %w", err)
	}
	m := &module{path: modulePath(gomod), pkgs: map[string]*pkg{}}
	if m.path == "" {
		return nil, fmt.Errorf("walk: no module line in %s", filepath.Join(root, "go.mod"))
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			m.problems = append(m.problems, err.Error())
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p == root {
				return nil
			}
			switch {
			case strings.HasPrefix(name, "."), strings.HasPrefix(name, "_"),
				name == "testdata", name == "vendor", name == "pforte-data", name == "node_modules":
				return fs.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return fs.SkipDir // another module
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			m.problems = append(m.problems, err.Error())
			return nil
		}
		if buildIgnored(f) {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(rel)
		pk := m.pkgs[dir]
		if pk == nil {
			pk = &pkg{dir: dir, name: f.Name.Name}
			m.pkgs[dir] = pk
		}
		if pk.name != f.Name.Name {
			m.problems = append(m.problems, fmt.Sprintf("%s: files declare packages %s and %s", dir, pk.name, f.Name.Name))
		}
		if f.Doc != nil {
			if text := strings.TrimSpace(f.Doc.Text()); text != "" {
				pk.docs = append(pk.docs, text)
			}
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				m.problems = append(m.problems, fmt.Sprintf("%s: bad import %s", fset.Position(spec.Pos()), spec.Path.Value))
				continue
			}
			if !slices.Contains(pk.imports, imp) {
				pk.imports = append(pk.imports, imp)
			}
		}
		slices.Sort(pk.imports)
		return nil
	})
	return m, err
}

// buildIgnored reports whether f's build constraint names the ignore tag, the
// convention for files that are never built (generators run by go run).
func buildIgnored(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		for _, c := range cg.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			x, err := constraint.Parse(c.Text)
			if err != nil {
				return false
			}
			ignored := false
			x.Eval(func(tag string) bool { // Eval visits every tag
				ignored = ignored || tag == "ignore"
				return true
			})
			return ignored
		}
	}
	return false
}

// modulePath returns the path on go.mod's module line.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		fields := strings.Fields(stripComment(line))
		if len(fields) == 2 && fields[0] == "module" {
			return unquote(fields[1])
		}
	}
	return ""
}

// requires returns the versions a go.mod requires, by module path. It reads the
// few lines it needs by hand (golang.org/x/mod is not a dependency): single
// require lines and require blocks.
func requires(gomod []byte) map[string]string {
	out := map[string]string{}
	block := ""
	for line := range strings.Lines(string(gomod)) {
		line = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(stripComment(line))
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case block != "":
			if fields[0] == ")" {
				block = ""
			} else if block == "require" && len(fields) >= 2 {
				out[unquote(fields[0])] = fields[1]
			}
		case len(fields) == 2 && fields[1] == "(":
			block = fields[0]
		case fields[0] == "require" && len(fields) >= 3:
			out[unquote(fields[1])] = fields[2]
		}
	}
	return out
}

func stripComment(line string) string {
	if i := strings.Index(line, "//"); i >= 0 {
		return line[:i]
	}
	return line
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// escapeModule escapes a module path or version for the module cache: each
// upper-case letter becomes '!' and its lower-case form.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func mustLoad(t *testing.T) *module {
	t.Helper()
	m, err := loadModule()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestArchWalker guards the other tests against passing because the walker found
// nothing: packages that exist must be found with their names and imports.
func TestArchWalker(t *testing.T) {
	m := mustLoad(t)
	for _, p := range m.problems {
		t.Error(p)
	}
	want := map[string]string{"internal/store": "store", "internal/store/sqlstore": "sqlstore"}
	for dir, name := range want {
		p := m.pkgs[dir]
		if p == nil {
			t.Errorf("walker did not find package %s (found %d packages)", dir, len(m.pkgs))
			continue
		}
		if p.name != name {
			t.Errorf("%s: package name = %q, want %q", dir, p.name, name)
		}
	}
	if p := m.pkgs["internal/store/sqlstore"]; p != nil &&
		!slices.Contains(m.edges(p), edge{from: p.dir, to: "internal/store", local: true}) {
		t.Errorf("walker did not see internal/store/sqlstore import internal/store; imports: %q", p.imports)
	}
}

// TestArchDocComments checks that every package has a doc comment.
func TestArchDocComments(t *testing.T) {
	for _, p := range mustLoad(t).sortedPkgs() {
		if msg := docProblem(p.dir, p.name, p.docs); msg != "" {
			t.Error(msg)
		}
	}
}

// TestArchImports checks the dependency rules of STYLE.md on non-test imports.
func TestArchImports(t *testing.T) {
	m := mustLoad(t)
	for _, p := range m.sortedPkgs() {
		for _, e := range m.edges(p) {
			for _, msg := range violations(e) {
				t.Error(msg)
			}
		}
	}
}

// TestArchPackageNames checks that no package has a grab-bag name.
func TestArchPackageNames(t *testing.T) {
	for _, p := range mustLoad(t).sortedPkgs() {
		for _, msg := range nameProblems(p.dir, p.name) {
			t.Error(msg)
		}
	}
}

// TestArchRules tests the checker itself on made-up packages.
func TestArchRules(t *testing.T) {
	imports := []struct {
		e    edge
		want int // number of rules broken
	}{
		{edge{"internal/registry", "internal/store", true}, 0},
		{edge{"internal/registry", "internal/audit", true}, 0},
		{edge{"internal/registry", "internal/web", true}, 1},
		{edge{"internal/assistant", "internal/assistantapi", true}, 1},
		{edge{"internal/assistantapi", "internal/assistant", true}, 0},
		{edge{"internal/proofing", "internal/oidc/ciba", true}, 1},
		{edge{"internal/registry", "internal/webhook", true}, 0}, // not below internal/web
		{edge{"internal/registry", "internal/web", false}, 0},    // not the module's package
		{edge{"internal/registry", "internal/store/sqlstore", true}, 1},
		{edge{"internal/store/storetest", "internal/store/sqlstore", true}, 1},
		{edge{"internal/web", "internal/store/sqlstore/sqltest", true}, 2}, // sqlstore, and a harness
		{edge{"internal/web", "internal/node/nodetest", true}, 2},          // the node, and a harness
		{edge{"internal/node/nodetest", "internal/store/testdb", true}, 0},
		{edge{"internal/store/testdb", "internal/store/sqlstore", true}, 0},
		{edge{"cmd/pforte", "internal/node", true}, 0},
		{edge{"internal/oidc", "internal/node", true}, 1},
		{edge{"internal/node", "internal/web", true}, 0},
		{edge{"internal/answer", "net/http", false}, 0},
		{edge{"cmd/pforte", "internal/store/sqlstore", true}, 0},
		{edge{"internal/store/sqlstore/sqltest", "internal/store/sqlstore", true}, 0},
		{edge{"internal/web", "internal/registry", true}, 0},
		{edge{"internal/oidc", "internal/web", true}, 0},
		{edge{"internal/web", "net/http", false}, 0},
		{edge{"internal/server", "net/http", false}, 0},
		{edge{"internal/registry", "net/http", false}, 1},
		{edge{"internal/device", "net/http/httptest", false}, 1},
		{edge{"internal/registry", "net/netip", false}, 0},
		{edge{"internal/eid", "net/http", false}, 0},
		{edge{"internal/eid", "internal/web", true}, 1},
		{edge{"internal/store", "context", false}, 0},
		{edge{"internal/store", "internal/seal", true}, 1},
		{edge{"internal/store/storetest", "internal/store", true}, 0},
		{edge{"internal/store/sqlstore", "internal/store", true}, 0},
		{edge{"internal/audit", "cmd/pforte", true}, 1},
		{edge{"internal/web", "cmd/pforte", true}, 1},
		{edge{"appclient", "internal/store", true}, 1},
		{edge{"appclient/qr", "internal/device", true}, 1},
		{edge{"appclient", "net/http", false}, 0},
		{edge{"appclient", "appclient/qr", true}, 0},
		{edge{"cmd/pforte", "internal/config", true}, 0},
		{edge{"internal/config", "internal/node", true}, 0},
		{edge{"internal/config", "internal/store/sqlstore", true}, 0},
		{edge{"internal/config", "internal/oidc", true}, 0},
		{edge{"internal/web", "internal/config", true}, 1},
		{edge{"internal/node", "internal/config", true}, 1},
	}
	for _, tc := range imports {
		if got := violations(tc.e); len(got) != tc.want {
			t.Errorf("violations(%+v) = %q, want %d", tc.e, got, tc.want)
		}
	}
	got := violations(edge{"internal/registry", "internal/web", true})
	want := "internal/registry imports internal/web: domain packages never import HTTP packages"
	if len(got) != 1 || got[0] != want {
		t.Errorf("message = %q, want %q", got, want)
	}

	docs := []struct {
		name string
		docs []string
		ok   bool
	}{
		{"store", []string{"Package store owns the persisted types."}, true},
		{"store", []string{"Package store"}, true},
		{"store", []string{"Package store\nowns them."}, true},
		{"store", nil, false},
		{"store", []string{"Store owns the persisted types."}, false},
		{"store", []string{"Package stores owns them."}, false},
		{"store", []string{"Copyright notice.", "Package store owns them."}, true},
		{"main", []string{"Pforte is the identity platform."}, true},
		{"main", []string{"Command pforte serves."}, true},
		{"main", nil, false},
	}
	for _, tc := range docs {
		if got := docProblem("internal/p", tc.name, tc.docs) == ""; got != tc.ok {
			t.Errorf("docProblem(%q, %q) ok = %v, want %v", tc.name, tc.docs, got, tc.ok)
		}
	}

	names := []struct {
		dir, name string
		ok        bool
	}{
		{"internal/registry", "registry", true},
		{"internal/util", "util", false},
		{"internal/x", "x", false},
		{"internal/helpers", "registry", false},
		{"internal/session", "common", false},
	}
	for _, tc := range names {
		if got := len(nameProblems(tc.dir, tc.name)) == 0; got != tc.ok {
			t.Errorf("nameProblems(%q, %q) ok = %v, want %v", tc.dir, tc.name, got, tc.ok)
		}
	}

	gomod := []byte(`module "example.com/m" // the module

go 1.26

require example.com/single v1.0.0 // indirect

require (
	modernc.org/libc v1.80.1 // indirect
	"example.com/quoted" v0.2.0
)

replace (
	example.com/single => ./single
)
`)
	if got := modulePath(gomod); got != "example.com/m" {
		t.Errorf("modulePath = %q, want example.com/m", got)
	}
	wantReq := map[string]string{
		"example.com/single": "v1.0.0",
		"modernc.org/libc":   "v1.80.1",
		"example.com/quoted": "v0.2.0",
	}
	if got := requires(gomod); !maps.Equal(got, wantReq) {
		t.Errorf("requires = %v, want %v", got, wantReq)
	}
	if got := escapeModule("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapeModule = %q", got)
	}
}

// TestArchLibcPinnedToSqlite checks that go.mod requires exactly the
// modernc.org/libc that modernc.org/sqlite's own go.mod names: sqlite is generated
// against one libc, and other modules raising libc silently break it.
func TestArchLibcPinnedToSqlite(t *testing.T) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	req := requires(gomod)
	sqliteVersion := req["modernc.org/sqlite"]
	if sqliteVersion == "" {
		t.Skip("go.mod does not require modernc.org/sqlite")
	}
	libcVersion := req["modernc.org/libc"]
	if libcVersion == "" {
		t.Fatal("go.mod requires modernc.org/sqlite but not modernc.org/libc")
	}

	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		goTool, err := exec.LookPath("go")
		if err != nil {
			t.Skipf("cannot find the module cache: GOMODCACHE is unset and %v", err)
		}
		out, err := exec.Command(goTool, "env", "GOMODCACHE").Output()
		if err != nil {
			t.Skipf("go env GOMODCACHE: %v", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	modFile := filepath.Join(cache, "cache", "download", escapeModule("modernc.org/sqlite"), "@v", escapeModule(sqliteVersion)+".mod")
	sqliteMod, err := os.ReadFile(modFile)
	if err != nil {
		t.Skipf("modernc.org/sqlite %s's go.mod is not in the module cache: %v", sqliteVersion, err)
	}
	want := requires(sqliteMod)["modernc.org/libc"]
	if want == "" {
		t.Fatalf("modernc.org/sqlite %s's go.mod names no modernc.org/libc", sqliteVersion)
	}
	if libcVersion != want {
		t.Errorf("go.mod requires modernc.org/libc %s, but modernc.org/sqlite %s requires %s: "+
			"run go get modernc.org/libc@%s (a different libc breaks sqlite)", libcVersion, sqliteVersion, want, want)
	}
}
