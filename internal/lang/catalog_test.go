package lang

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// The catalogue check: both catalogues have the same keys with the same
// verbs, no empty text, and the code and the catalogues agree on which keys
// exist.

// The two allow-lists are the one place where keys built at run time are
// registered. Prefer literal keys: a literal is checked, a registered key
// only trusted.
var (
	// unusedOK lists the keys no literal .T("key") or {{t "key"}} in the
	// module names, each with the reason it is kept (for a key built at run
	// time: where it is built). Everything else unused is dead and goes.
	unusedOK = map[string]string{}
	// dynamicOK lists the places allowed to pass T (or t) a key that is not
	// a string literal, each with the keys it may build: a Go function as
	// "internal/x/y.go:Func" (or "internal/x/y.go:Type.Method"), a template
	// file as "internal/x/templates/y.html". The keys it builds go into
	// unusedOK.
	dynamicOK = map[string]string{
		"internal/lang/text.go:Text.In": "prints the key of a Text, which the scanner read where lang.Key made it",
	}
)

// TestCatalogueKeysMatch: every key is in every catalogue.
func TestCatalogueKeysMatch(t *testing.T) {
	base := loaded.keys[German]
	if len(base) == 0 {
		t.Fatal("the German catalogue is empty")
	}
	for _, l := range All()[1:] {
		other := loaded.keys[l]
		for _, k := range sortedKeys(base) {
			if _, ok := other[k]; !ok {
				t.Errorf("%s lacks %s (catalog/%s.json)", l, k, l)
			}
		}
		for _, k := range sortedKeys(other) {
			if _, ok := base[k]; !ok {
				t.Errorf("%s has %s, which %s lacks (catalog/%s.json)", l, k, German, German)
			}
		}
	}
}

// TestCatalogueVerbsMatch: a key's text takes the same arguments with the
// same verbs in every language, whatever their order.
func TestCatalogueVerbsMatch(t *testing.T) {
	for _, k := range sortedKeys(loaded.keys[German]) {
		want, err := verbs(loaded.keys[German][k])
		if err != nil {
			t.Errorf("de %s: %v", k, err)
			continue
		}
		for _, l := range All()[1:] {
			text, ok := loaded.keys[l][k]
			if !ok {
				continue // TestCatalogueKeysMatch reports it
			}
			got, err := verbs(text)
			if err != nil {
				t.Errorf("%s %s: %v", l, k, err)
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %s takes %v, de takes %v", l, k, got, want)
			}
		}
	}
}

// TestCatalogueTexts: no text is empty, padded or holds what the printer
// would not print as written.
func TestCatalogueTexts(t *testing.T) {
	for _, l := range All() {
		for _, k := range sortedKeys(loaded.keys[l]) {
			text := loaded.keys[l][k]
			switch {
			case strings.TrimSpace(text) == "":
				t.Errorf("%s %s: empty text", l, k)
			case strings.TrimSpace(text) != text:
				t.Errorf("%s %s: leading or trailing space", l, k)
			case strings.Contains(text, "${"):
				t.Errorf("%s %s: ${ is a substitution in x/text catalogues", l, k)
			case strings.ContainsAny(text, "⟦⟧<>"):
				t.Errorf("%s %s: texts are plain text, without markup or ⟦ ⟧", l, k)
			}
		}
	}
}

// TestEveryTextPrints: every key prints in every language without a
// formatting error, given arguments of its verbs.
func TestEveryTextPrints(t *testing.T) {
	for _, l := range All() {
		for _, k := range sortedKeys(loaded.keys[l]) {
			vs, err := verbs(loaded.keys[l][k])
			if err != nil {
				continue // TestCatalogueVerbsMatch reports it
			}
			args := make([]any, len(vs))
			for i, v := range vs {
				if strings.ContainsAny(v, "dx") {
					args[i] = 7
				} else {
					args[i] = "x"
				}
			}
			if got := l.T(k, args...); strings.Contains(got, "%!") || strings.Contains(got, "⟦") || got == "" {
				t.Errorf("%s %s prints %q", l, k, got)
			}
		}
	}
}

// TestUsedKeysExist reads the module's Go code and templates: every key they
// name exists, and every key is named somewhere (or in unusedOK).
func TestUsedKeysExist(t *testing.T) {
	uses, problems := scanModule(t, moduleRoot(t), dynamicOK)
	for _, p := range problems {
		t.Error(p)
	}
	if len(uses) == 0 {
		t.Fatal("found no keys in the module; the scanner is broken")
	}
	used := map[string]bool{}
	for _, u := range uses {
		used[u.key] = true
		if _, ok := loaded.keys[German][u.key]; !ok {
			t.Errorf("%s: key %s is in no catalogue", u.pos, u.key)
		}
	}
	for _, k := range sortedKeys(loaded.keys[German]) {
		_, allowed := unusedOK[k]
		switch {
		case !used[k] && !allowed:
			t.Errorf("key %s is used nowhere: remove it from the catalogues (or list it in unusedOK with a reason)", k)
		case used[k] && allowed:
			t.Errorf("key %s is used, yet listed in unusedOK", k)
		}
	}
	for place, why := range dynamicOK {
		if strings.TrimSpace(why) == "" {
			t.Errorf("dynamicOK lists %s without the keys it builds", place)
		}
	}
	for k, why := range unusedOK {
		if _, ok := loaded.keys[German][k]; !ok || strings.TrimSpace(why) == "" {
			t.Errorf("unusedOK lists %s: it must exist and have a reason", k)
		}
	}
}

// TestScannerFindsKeys: the scanner sees keys in Go and in templates, and
// reports keys it cannot read.
func TestScannerFindsKeys(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":      "module example.org/m\n",
		"a/a.go":      "package a\n\nfunc f(l L, k string) {\n\tl.T(\"x.one\", 1)\n\t_ = l.T(`x.two`)\n\tl.T(k)\n\tl.T(\"x.\" + k)\n\t_ = lang.Key(\"x.eight\", 2)\n\t_ = other.Key(\"x.not\")\n}\n",
		"a/a_test.go": "package a\n\nfunc g(l L) { l.T(\"x.test\") }\n",
		"a/b.go":      "package a\n\nfunc (v *V) g(l L, k string) { l.T(\"x.dyn.\" + k) }\n\nfunc h(l L, k string) { l.T(k) }\n",
		"a/page.html": "{{define \"p\"}}<p>{{t \"x.three\" .A}}</p>{{- t \"x.four\"}}{{printf \"%s\" (t \"x.five\")}}\n" +
			"{{t .Key}}{{template \"t \\\"no\\\"\"}}{{printf \"a t b\"}}{{.t}}{{$t}}{{$t := 1}}\n" +
			"{{$label := t `x.six`}}{{if t \"x.seven\"}}{{end}}{{end}}",
		"a/testdata/x.html":   `{{t "x.skipped"}}`,
		"node_modules/y.html": `{{t "x.skipped"}}`,
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	uses, problems := scanModule(t, dir, map[string]string{"a/b.go:V.g": "builds x.dyn.*"})
	var got []string
	for _, u := range uses {
		got = append(got, u.key+"@"+u.pos)
	}
	sort.Strings(got)
	want := []string{"x.eight@a/a.go:8", "x.five@a/page.html:1", "x.four@a/page.html:1", "x.one@a/a.go:4", "x.seven@a/page.html:3",
		"x.six@a/page.html:3", "x.three@a/page.html:1", "x.two@a/a.go:5"}
	if !slices.Equal(got, want) {
		t.Errorf("keys found:\n got %v\nwant %v", got, want)
	}
	// b.go's g is in the allow-list, h is not.
	if len(problems) != 4 {
		t.Errorf("problems %q, want four keys that are not literals (a.go:6, a.go:7, b.go:5, page.html:2)", problems)
	}
	for i, where := range []string{"a/a.go:6", "a/a.go:7", "a/b.go:5", "a/page.html:2"} {
		if i < len(problems) && !strings.HasPrefix(problems[i], where) {
			t.Errorf("problem %d = %q, want it at %s", i, problems[i], where)
		}
	}
}

func TestLoadCataloguesRefuses(t *testing.T) {
	good := `{"time.date": "%s"}`
	for name, de := range map[string]string{
		"not an object":   `["time.date"]`,
		"nested":          `{"time": {"date": "x"}}`,
		"not a string":    `{"time.date": 1}`,
		"null":            `{"time.date": null}`,
		"key twice":       `{"time.date": "a", "time.date": "b"}`,
		"undotted key":    `{"date": "a"}`,
		"key with spaces": `{"time. date": "a"}`,
		"capital key":     `{"Time.date": "a"}`,
		"trailing data":   `{"time.date": "a"} {}`,
		"unterminated":    `{"time.date": "a"`,
	} {
		fsys := fstest.MapFS{"catalog/de.json": {Data: []byte(de)}, "catalog/en.json": {Data: []byte(good)}}
		if _, err := loadCatalogues(fsys); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	fsys := fstest.MapFS{"catalog/de.json": {Data: []byte(good)}}
	if _, err := loadCatalogues(fsys); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing catalogue: %v", err)
	}
	fsys["catalog/en.json"] = &fstest.MapFile{Data: []byte(good)}
	if _, err := loadCatalogues(fsys); err != nil {
		t.Errorf("good catalogues: %v", err)
	}
}

func TestVerbs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"no verbs, 100%%", nil, false},
		{"%s and %d", []string{"s", "d"}, false},
		{"%[2]s before %[1]s", []string{"s", "s"}, false},
		{"%[2]d then %s", []string{"s", "d"}, true}, // %s after %[2] is argument 3: 1 is never used
		{"%[1]s %[1]s", []string{"s"}, false},
		{"%[1]s %[1]d", nil, true},
		{"%-5.2f %+d", []string{"f", "d"}, false},
		{"%*d", nil, true},
		{"100%", nil, true},
		{"%[x]s", nil, true},
	}
	for _, tt := range tests {
		got, err := verbs(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && !slices.Equal(got, tt.want)) {
			t.Errorf("verbs(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// verbs returns the verb of each argument of format, argument 1 first, as
// fmt numbers them. A format that skips an argument, gives one two verbs,
// or reads a width or precision from the arguments is an error.
func verbs(format string) ([]string, error) {
	byArg := map[int]string{}
	arg := 0 // fmt's argument counter, 0-based
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		for i < len(format) && (format[i] == '.' || format[i] == '[' || format[i] == '*' || '0' <= format[i] && format[i] <= '9') {
			switch format[i] {
			case '*':
				return nil, errors.New("width or precision from an argument")
			case '[':
				end := strings.IndexByte(format[i:], ']')
				if end < 0 {
					return nil, errors.New("unterminated argument index")
				}
				n, err := strconv.Atoi(format[i+1 : i+end])
				if err != nil || n < 1 {
					return nil, fmt.Errorf("bad argument index %q", format[i:i+end+1])
				}
				arg = n - 1
				i += end + 1
				continue
			}
			i++
		}
		if i >= len(format) {
			return nil, errors.New("a % without a verb at the end")
		}
		v := string(format[i])
		if prev, ok := byArg[arg]; ok && prev != v {
			return nil, fmt.Errorf("argument %d has the verbs %s and %s", arg+1, prev, v)
		}
		byArg[arg] = v
		arg++
	}
	out := make([]string, len(byArg))
	for a, v := range byArg {
		if a >= len(out) {
			return nil, fmt.Errorf("argument %d is used, an earlier one is not", a+1)
		}
		out[a] = v
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// moduleRoot walks up from the package's folder to the folder of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package")
		}
		dir = parent
	}
}

// use is a key named in the code, with where: "internal/x/y.go:12".
type use struct{ key, pos string }

// action is one template action, {{ … }}.
var action = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// scanModule finds the keys the module's non-test Go files pass to a method
// T and its .html templates pass to the function t. A key that is not a
// string literal is a problem: the test cannot check it.
func scanModule(t *testing.T, root string, allowed map[string]string) (uses []use, problems []string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			u, p, err := scanGo(path, rel, allowed)
			uses, problems = append(uses, u...), append(problems, p...)
			return err
		case strings.HasSuffix(path, ".html"):
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			u, p := scanTemplate(string(src), rel, allowed)
			uses, problems = append(uses, u...), append(problems, p...)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan the module: %v", err)
	}
	return uses, problems
}

func scanGo(path, rel string, allowed map[string]string) (uses []use, problems []string, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	for _, decl := range f.Decls {
		fn := "" // the function being read, as dynamicOK names it
		if d, ok := decl.(*ast.FuncDecl); ok {
			fn = d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					fn = id.Name + "." + fn
				}
			}
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if !keyCall(call.Fun) {
				return true
			}
			pos := fmt.Sprintf("%s:%d", rel, fset.Position(call.Pos()).Line)
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if key, err := strconv.Unquote(lit.Value); err == nil {
					uses = append(uses, use{key, pos})
					return true
				}
			}
			if _, ok := allowed[rel+":"+fn]; !ok {
				problems = append(problems, pos+": the key of T is not a string literal; name it literally "+
					"(or list "+rel+":"+fn+" in dynamicOK and its keys in unusedOK)")
			}
			return true
		})
	}
	return uses, problems, nil
}

// keyCall reports whether fun takes a key first: a method T (Language.T)
// or lang.Key.
func keyCall(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if sel.Sel.Name == "T" {
		return true
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "lang" && sel.Sel.Name == "Key"
}

func scanTemplate(src, rel string, allowed map[string]string) (uses []use, problems []string) {
	for _, a := range action.FindAllStringIndex(src, -1) {
		for _, c := range tCalls(src[a[0]:a[1]]) {
			pos := fmt.Sprintf("%s:%d", rel, 1+strings.Count(src[:a[0]+c.off], "\n"))
			if !c.literal {
				if _, ok := allowed[rel]; !ok {
					problems = append(problems, pos+": the key of t is not a string literal; name it literally "+
						"(or list "+rel+" in dynamicOK and its keys in unusedOK)")
				}
				continue
			}
			uses = append(uses, use{c.key, pos})
		}
	}
	return uses, problems
}

// tCall is a call of the template function t in an action: its key if that
// is a string literal, and where in the action it is.
type tCall struct {
	key     string
	literal bool
	off     int
}

// tCalls lexes one action as far as needed to find the calls of t: the
// identifier t (not a field .t or a variable $t) followed by an argument.
// String literals are skipped whole, so a "t" inside one is no call.
func tCalls(action string) []tCall {
	var calls []tCall
	ident := func(c byte) bool {
		return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	// literal returns the end of the string literal starting at i, or -1.
	literal := func(i int) int {
		quote := action[i]
		for j := i + 1; j < len(action); j++ {
			switch {
			case quote == '"' && action[j] == '\\':
				j++
			case action[j] == quote:
				return j + 1
			}
		}
		return -1
	}
	for i := 0; i < len(action); {
		c := action[i]
		switch {
		case c == '"' || c == '`':
			end := literal(i)
			if end < 0 {
				return calls
			}
			i = end
		case ident(c):
			start := i
			for i < len(action) && ident(action[i]) {
				i++
			}
			if action[start:i] != "t" || start > 0 && (action[start-1] == '.' || action[start-1] == '$') {
				continue
			}
			j := i
			for j < len(action) && (action[j] == ' ' || action[j] == '\t' || action[j] == '\n' || action[j] == '\r') {
				j++
			}
			if j == i || j >= len(action) || action[j] == '}' || action[j] == ')' {
				continue // t alone: not a call with a key
			}
			call := tCall{off: j}
			if action[j] == '"' || action[j] == '`' {
				if end := literal(j); end > 0 {
					if key, err := strconv.Unquote(action[j:end]); err == nil {
						call.key, call.literal = key, true
					}
				}
			}
			calls = append(calls, call)
		default:
			i++
		}
	}
	return calls
}
