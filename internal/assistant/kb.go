package assistant

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

//go:embed kb/*.yaml
var embedded embed.FS

// KnowledgeBase returns the knowledge base shipped with the binary: the
// files of internal/assistant/kb.
func KnowledgeBase() fs.FS {
	sub, err := fs.Sub(embedded, "kb")
	if err != nil { // the embed pattern guarantees the directory
		panic(err)
	}
	return sub
}

// The special files of a knowledge base; every other *.yaml file is a topic.
const (
	languageFile = "sprache.yaml"
	pagesFile    = "seiten.yaml"
)

// Entry is one answer of the knowledge base.
type Entry struct {
	// ID names the entry ("brief-dauer"); it is stable, so measurements and
	// hand-overs can name it.
	ID string
	// Topic is the topic group (the file's thema).
	Topic string
	// Title is the entry's own short question, shown as a suggestion.
	Title string
	// Questions are the ways people ask it.
	Questions []string
	// Keywords are more words that point to it.
	Keywords []string
	// Answer is the German answer with the configuration's facts filled in.
	Answer string
	// Link is the page that does what the answer describes.
	Link Link
	// File and Line say where the entry is written.
	File string
	Line int
}

// Link is a portal page ("/zugang") or a screen of the service app
// ("app:pin-aendern") with its German name.
type Link struct {
	Href  string
	Label string
}

// App reports whether the link names a screen of the service app rather
// than a portal page.
func (l Link) App() bool { return strings.HasPrefix(l.Href, "app:") }

// LoadError lists every problem of a knowledge base, each naming its file
// and line.
type LoadError struct {
	Problems []string
}

func (e *LoadError) Error() string {
	return "assistant: knowledge base: " + strings.Join(e.Problems, "; ")
}

// problems collects what is wrong while a knowledge base loads.
type problems struct{ list []string }

func (p *problems) add(file string, line int, format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf("%s:%d: ", file, line)+fmt.Sprintf(format, args...))
}

// knowledge is a loaded, validated knowledge base.
type knowledge struct {
	entries []Entry
	lang    language
	pages   map[string]string
}

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	pagePattern = regexp.MustCompile(`^(?:/[a-z0-9/-]*|app:[a-z0-9]+(?:-[a-z0-9]+)*)$`)
)

// loadKnowledge reads and validates every *.yaml file of fsys and fills the
// answers with f. All problems are reported at once in a *LoadError.
func loadKnowledge(fsys fs.FS, f facts) (*knowledge, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("assistant: knowledge base: %w", err)
	}
	slices.Sort(names)
	var p problems
	k := &knowledge{pages: map[string]string{}}
	docs := map[string]*yaml.Node{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			p.add(name, 0, "%v", err)
			continue
		}
		if !utf8.Valid(raw) {
			p.add(name, 1, "not UTF-8")
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			p.add(name, yamlLine(err), "%s", yamlMessage(err))
			continue
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			p.add(name, 1, "want a mapping at the top")
			continue
		}
		docs[name] = doc.Content[0]
	}
	for _, special := range []string{languageFile, pagesFile} {
		if !slices.Contains(names, special) {
			p.add(special, 0, "missing")
		}
	}
	if n := docs[pagesFile]; n != nil {
		k.pages = readPages(pagesFile, n, &p)
	}
	if n := docs[languageFile]; n != nil {
		k.lang = readLanguage(languageFile, n, &p)
	}
	ids := map[string]string{}       // id -> file:line of its first use
	questions := map[string]string{} // folded question -> entry id
	for _, name := range names {
		n := docs[name]
		if n == nil || name == languageFile || name == pagesFile {
			continue
		}
		for _, e := range readTopic(name, n, f, k.pages, &p) {
			if first, dup := ids[e.ID]; dup {
				p.add(name, e.Line, "entry id %q is already used at %s", e.ID, first)
				continue
			}
			ids[e.ID] = fmt.Sprintf("%s:%d", name, e.Line)
			for _, q := range e.Questions {
				key := foldQuestion(q)
				if other, dup := questions[key]; dup {
					p.add(name, e.Line, "entry %q: question %q is also a question of entry %q", e.ID, q, other)
					continue
				}
				questions[key] = e.ID
			}
			k.entries = append(k.entries, e)
		}
	}
	if len(p.list) == 0 && len(k.entries) == 0 {
		p.add(".", 0, "no entries")
	}
	if len(p.list) > 0 {
		return nil, &LoadError{Problems: p.list}
	}
	return k, nil
}

var yamlLinePattern = regexp.MustCompile(`line (\d+)`)

// yamlLine finds the line number in a YAML syntax error (0 if none).
func yamlLine(err error) int {
	m := yamlLinePattern.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n := 0
	for _, r := range m[1] {
		n = n*10 + int(r-'0')
	}
	return n
}

// yamlMessage is the YAML error without its "yaml: line N:" prefix.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	return "invalid YAML: " + msg
}

// fields walks a mapping node's members, reporting unknown and repeated
// keys; visit gets each known member's value.
func fields(file string, n *yaml.Node, where string, known []string, visit func(key string, keyNode, value *yaml.Node), p *problems) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		switch {
		case kn.Kind != yaml.ScalarNode:
			p.add(file, kn.Line, "%s: a key must be a plain word", where)
		case !slices.Contains(known, kn.Value):
			p.add(file, kn.Line, "%s: unknown field %q (known: %s)", where, kn.Value, strings.Join(known, ", "))
		case seen[kn.Value]:
			p.add(file, kn.Line, "%s: field %q appears twice", where, kn.Value)
		default:
			seen[kn.Value] = true
			visit(kn.Value, kn, vn)
		}
	}
}

// scalar returns the text of a scalar node, or reports that it is not one.
func scalar(file string, n *yaml.Node, what string, p *problems) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(file, n.Line, "%s: want text", what)
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// stringList reads a sequence of scalars.
func stringList(file string, n *yaml.Node, what string, p *problems) []string {
	if n.Kind != yaml.SequenceNode {
		p.add(file, n.Line, "%s: want a list", what)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := scalar(file, c, what, p); ok {
			if s == "" {
				p.add(file, c.Line, "%s: empty item", what)
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// readPages reads seiten.yaml: {seiten: {href: label}}.
func readPages(file string, n *yaml.Node, p *problems) map[string]string {
	pages := map[string]string{}
	fields(file, n, "top", []string{"seiten"}, func(_ string, _, v *yaml.Node) {
		if v.Kind != yaml.MappingNode {
			p.add(file, v.Line, "seiten: want a mapping of page to name")
			return
		}
		for i := 0; i+1 < len(v.Content); i += 2 {
			kn, vn := v.Content[i], v.Content[i+1]
			href := kn.Value
			if !pagePattern.MatchString(href) {
				p.add(file, kn.Line, "page %q: want a portal path (/…) or a screen of the app (app:name)", href)
				continue
			}
			if _, dup := pages[href]; dup {
				p.add(file, kn.Line, "page %q appears twice", href)
				continue
			}
			label, ok := scalar(file, vn, "page "+href, p)
			if ok && label == "" {
				p.add(file, vn.Line, "page %q: empty name", href)
				continue
			}
			pages[href] = label
		}
	}, p)
	if len(pages) == 0 {
		p.add(file, n.Line, "no pages")
	}
	return pages
}

// Bounds of an entry.
const (
	minQuestions   = 3
	maxQuestionLen = 200
	minAnswerLen   = 40
	maxAnswerLen   = 1200
	maxTitleLen    = 120
)

var entryFields = []string{"id", "titel", "fragen", "stichworte", "antwort", "seite"}

// readTopic reads one topic file: {thema: text, eintraege: [entry…]}.
func readTopic(file string, n *yaml.Node, f facts, pages map[string]string, p *problems) []Entry {
	var topic string
	var list *yaml.Node
	fields(file, n, "top", []string{"thema", "eintraege"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "thema":
			topic, _ = scalar(file, v, "thema", p)
		case "eintraege":
			list = v
		}
	}, p)
	if topic == "" {
		p.add(file, n.Line, "thema: required")
	}
	if list == nil {
		p.add(file, n.Line, "eintraege: required")
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.add(file, list.Line, "eintraege: want a list of entries")
		return nil
	}
	var out []Entry
	for _, en := range list.Content {
		if e, ok := readEntry(file, en, topic, f, pages, p); ok {
			out = append(out, e)
		}
	}
	return out
}

// readEntry reads and checks one entry; ok is false when it has a problem.
func readEntry(file string, n *yaml.Node, topic string, f facts, pages map[string]string, p *problems) (Entry, bool) {
	before := len(p.list)
	e := Entry{Topic: topic, File: file, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.add(file, n.Line, "an entry must be a mapping with %s", strings.Join(entryFields, ", "))
		return e, false
	}
	// The id first, so the other problems can name the entry.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" {
			e.ID, _ = scalar(file, n.Content[i+1], "id", p)
		}
	}
	where := fmt.Sprintf("entry %q", e.ID)
	if e.ID == "" {
		where = "entry"
		p.add(file, n.Line, "entry: id required")
	} else if !idPattern.MatchString(e.ID) {
		p.add(file, n.Line, "%s: id must be lower-case words joined by hyphens", where)
	}
	var answerNode, linkNode *yaml.Node
	fields(file, n, where, entryFields, func(key string, _, v *yaml.Node) {
		switch key {
		case "titel":
			e.Title, _ = scalar(file, v, where+": titel", p)
		case "fragen":
			e.Questions = stringList(file, v, where+": fragen", p)
		case "stichworte":
			e.Keywords = stringList(file, v, where+": stichworte", p)
		case "antwort":
			answerNode = v
		case "seite":
			linkNode = v
		}
	}, p)
	if e.Title == "" || utf8.RuneCountInString(e.Title) > maxTitleLen {
		p.add(file, n.Line, "%s: titel required, at most %d characters", where, maxTitleLen)
	}
	if len(e.Questions) < minQuestions {
		p.add(file, n.Line, "%s: at least %d fragen (ways to ask it), found %d", where, minQuestions, len(e.Questions))
	}
	seen := map[string]bool{}
	for _, q := range e.Questions {
		if utf8.RuneCountInString(q) > maxQuestionLen {
			p.add(file, n.Line, "%s: question %q is longer than %d characters", where, q, maxQuestionLen)
		}
		if seen[foldQuestion(q)] {
			p.add(file, n.Line, "%s: question %q appears twice", where, q)
		}
		seen[foldQuestion(q)] = true
	}
	if answerNode == nil {
		p.add(file, n.Line, "%s: antwort required", where)
	} else if text, ok := scalar(file, answerNode, where+": antwort", p); ok {
		e.Answer = renderAnswer(file, answerNode.Line, where, text, f, p)
	}
	if linkNode == nil {
		p.add(file, n.Line, "%s: seite required", where)
	} else if href, ok := scalar(file, linkNode, where+": seite", p); ok {
		label, known := pages[href]
		if !known {
			p.add(file, linkNode.Line, "%s: seite %q is not listed in %s", where, href, pagesFile)
		}
		e.Link = Link{Href: href, Label: label}
	}
	return e, len(p.list) == before
}

// renderAnswer fills the facts into the answer template.
func renderAnswer(file string, line int, where, text string, f facts, p *problems) string {
	t, err := template.New(where).Option("missingkey=error").Parse(text)
	if err != nil {
		p.add(file, line, "%s: antwort: placeholder: %s", where, templateMessage(err))
		return ""
	}
	var b bytes.Buffer
	if err := t.Execute(&b, f); err != nil {
		p.add(file, line, "%s: antwort: placeholder: %s (known: %s)", where, templateMessage(err), strings.Join(placeholders(), ", "))
		return ""
	}
	answer := strings.Join(strings.Fields(b.String()), " ")
	if n := utf8.RuneCountInString(answer); n < minAnswerLen || n > maxAnswerLen {
		p.add(file, line, "%s: antwort has %d characters, want %d to %d", where, n, minAnswerLen, maxAnswerLen)
	}
	return answer
}

var (
	templatePrefix = regexp.MustCompile(`^template: .*?:\d+(?::\d+)?: `)
	unknownField   = regexp.MustCompile(`<\.(\w+)>: can't evaluate field`)
)

// templateMessage is a text/template error said for the person who wrote
// the answer.
func templateMessage(err error) string {
	msg := err.Error()
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return "{{." + m[1] + "}} is not a known placeholder"
	}
	return templatePrefix.ReplaceAllString(msg, "")
}

// placeholders names the facts an answer may use.
func placeholders() []string {
	return []string{"{{.Insurer}}", "{{.Phone}}", "{{.OpeningHours}}", "{{.LetterDays}}", "{{.LetterLimit}}", "{{.LetterWindowDays}}",
		"{{.InitialPasswordDays}}", "{{.PasswordMinLength}}", "{{.PasswordChangesPerDay}}", "{{.PINAttempts}}",
		"{{.MaxDevices}}", "{{.ApprovalMinutes}}", "{{.EIDMinutes}}", "{{.Retention}}"}
}

// foldQuestion is q reduced for comparing questions: lower case, umlauts
// and ß spelled out, only letters and digits.
func foldQuestion(q string) string {
	q = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(strings.ToLower(q))
	var b strings.Builder
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	}) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}
