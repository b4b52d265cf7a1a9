package assistant

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"go.yaml.in/yaml/v3"
)

// language is how the assistant reads questions, from sprache.yaml: words
// that mean the same, the parts compounds are split into, and the rules
// that recognise a request for a person and a question about the person's
// own case.
type language struct {
	// synonyms are groups of words that mean the same; the index keeps the
	// first word of each group for all of them.
	synonyms [][]string
	// parts are the words compounds are split into ("passwort", "brief").
	parts []string
	// fillers are words that carry nothing for retrieval ("eigentlich",
	// "bitte"); they join the German stop words.
	fillers []string
	// human recognises a request to talk to a person; ownCase a question
	// about the person's own case (a claim, a payment, "mein Antrag").
	human   []rule
	ownCase []rule
}

// rule matches a question when each of its words matches one of the
// question's words. A word "x" matches x exactly, "x*" every word starting
// with x, "*x" every word ending in x, "*x*" every word containing x, all
// compared after folding (lower case, umlauts and ß folded).
type rule struct {
	text  string
	words []pattern
}

type pattern struct {
	word           string
	prefix, suffix bool // "x*": prefix; "*x": suffix; both: anywhere
}

func (p pattern) match(tok string) bool {
	switch {
	case p.prefix && p.suffix:
		return strings.Contains(tok, p.word)
	case p.prefix:
		return strings.HasPrefix(tok, p.word)
	case p.suffix:
		return strings.HasSuffix(tok, p.word)
	}
	return tok == p.word
}

// matches reports whether every word of r matches one of tokens.
func (r rule) matches(tokens []string) bool {
	for _, p := range r.words {
		found := false
		for _, t := range tokens {
			if p.match(t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// firstMatch returns the first rule that matches tokens.
func firstMatch(rules []rule, tokens []string) (rule, bool) {
	for _, r := range rules {
		if r.matches(tokens) {
			return r, true
		}
	}
	return rule{}, false
}

var germanNormalize = de.NewGermanNormalizeFilter()

// fold lower-cases w and folds umlauts and ß the way the index does
// ("Schlüssel", "Schluessel" and "schlussel" become "schlussel").
func fold(w string) string {
	ts := analysis.TokenStream{&analysis.Token{Term: []byte(strings.ToLower(w))}}
	return string(germanNormalize.Filter(ts)[0].Term)
}

// ruleTokens splits a question into folded words for the rules.
func ruleTokens(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, fold(w))
	}
	return out
}

// letters reports whether w is a word of letters only.
func letters(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// readLanguage reads sprache.yaml.
func readLanguage(file string, n *yaml.Node, p *problems) language {
	var l language
	known := []string{"synonyme", "wortteile", "fuellwoerter", "mensch", "eigener_fall"}
	seen := map[string]int{} // folded synonym -> line
	fields(file, n, "top", known, func(key string, _, v *yaml.Node) {
		switch key {
		case "synonyme":
			if v.Kind != yaml.SequenceNode {
				p.add(file, v.Line, "synonyme: want a list of word lists")
				return
			}
			for _, g := range v.Content {
				words := stringList(file, g, "synonyme", p)
				if len(words) < 2 {
					p.add(file, g.Line, "synonyme: a group needs at least two words")
					continue
				}
				for _, w := range words {
					if !letters(w) {
						p.add(file, g.Line, "synonyme: %q: one word of letters only", w)
					}
					if line, dup := seen[fold(w)]; dup {
						p.add(file, g.Line, "synonyme: %q is already in the group of line %d", w, line)
					}
					seen[fold(w)] = g.Line
				}
				l.synonyms = append(l.synonyms, words)
			}
		case "wortteile":
			for i, w := range stringList(file, v, "wortteile", p) {
				if !letters(w) || len([]rune(w)) < 3 {
					p.add(file, v.Content[i].Line, "wortteile: %q: one word of at least three letters", w)
					continue
				}
				l.parts = append(l.parts, fold(w))
			}
		case "fuellwoerter":
			for i, w := range stringList(file, v, "fuellwoerter", p) {
				if !letters(w) {
					p.add(file, v.Content[i].Line, "fuellwoerter: %q: one word of letters only", w)
					continue
				}
				l.fillers = append(l.fillers, strings.ToLower(w))
			}
		case "mensch":
			l.human = readRules(file, v, key, p)
		case "eigener_fall":
			l.ownCase = readRules(file, v, key, p)
		}
	}, p)
	for _, k := range known {
		if !fieldPresent(n, k) {
			p.add(file, n.Line, "%s: required", k)
		}
	}
	return l
}

func fieldPresent(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// readRules reads a list of rules, one per line: words separated by spaces,
// each with an optional * at either end.
func readRules(file string, v *yaml.Node, what string, p *problems) []rule {
	var out []rule
	items := stringList(file, v, what, p)
	for i, text := range items {
		r := rule{text: text}
		for _, w := range strings.Fields(text) {
			pt := pattern{prefix: strings.HasSuffix(w, "*"), suffix: strings.HasPrefix(w, "*")}
			core := strings.Trim(w, "*")
			if !letters(core) {
				p.add(file, v.Content[i].Line, "%s: %q: want words of letters, each with an optional * at either end", what, text)
				r.words = nil
				break
			}
			pt.word = fold(core)
			r.words = append(r.words, pt)
		}
		if len(r.words) > 0 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		p.add(file, v.Line, "%s: no rules", what)
	}
	return out
}

// String shows a rule as written, for the record of a decision.
func (r rule) String() string { return fmt.Sprintf("%q", r.text) }
