package assistant

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/token/compound"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names in the index mapping.
const (
	analyzerName     = "pforte_de"
	baseAnalyzerName = "pforte_de_base" // analyzerName without synonyms
	synonymType      = "pforte_synonyms"
	fieldQuestion    = "frage"   // a way of asking (and the title and keywords)
	fieldAnswer      = "antwort" // the answer text
)

func init() {
	if err := registry.RegisterTokenFilter(synonymType, newSynonymFilter); err != nil {
		panic(err)
	}
}

// synonymFilter replaces each term that has a synonym by the synonym group's
// first word, as the base analyzer produces it.
type synonymFilter struct{ to map[string]string }

func (f synonymFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if c, ok := f.to[string(t.Term)]; ok {
			t.Term = []byte(c)
		}
	}
	return in
}

func newSynonymFilter(config map[string]any, _ *registry.Cache) (analysis.TokenFilter, error) {
	raw, ok := config["map"].(map[string]string)
	if !ok {
		return nil, fmt.Errorf("%s: want a map of term to term", synonymType)
	}
	return synonymFilter{to: raw}, nil
}

// index is the bleve index of the knowledge base and what the confidence
// needs beyond it: each entry's terms and the terms' weights.
type index struct {
	bleve    bleve.Index
	analyzer analysis.Analyzer
	entries  []Entry
	byID     map[string]int
	// asked and answered are each entry's terms in its ways of asking
	// (with title and keywords) and in its answer.
	// asked counts how often (title and keywords count twice), answered
	// whether.
	asked    []map[string]int
	answered []map[string]bool
	// pairs are each entry's word pairs (see pairs) in its ways of asking.
	pairs []map[string]bool
	// known reports whether a word's term is in the knowledge base.
	known func(word string) bool
	// weight is each known term's inverse entry frequency.
	weight    map[string]float64
	maxWeight float64
	vocab     []string // the known terms, sorted, for typo correction
}

// newIndex builds the in-memory index of entries with the language's
// synonyms and word parts.
func newIndex(entries []Entry, lang language) (*index, error) {
	im := bleve.NewIndexMapping()
	parts := make([]any, len(lang.parts))
	for i, p := range lang.parts {
		parts[i] = p
	}
	steps := []error{
		im.AddCustomTokenMap("pforte_stoppwoerter", map[string]any{"type": tokenmap.Name, "tokens": stopWords(lang.fillers)}),
		im.AddCustomTokenFilter("pforte_stop", map[string]any{"type": stop.Name, "stop_token_map": "pforte_stoppwoerter"}),
		im.AddCustomTokenMap("pforte_wortteile", map[string]any{"type": tokenmap.Name, "tokens": parts}),
		im.AddCustomTokenFilter("pforte_compound", map[string]any{"type": compound.Name, "dict_token_map": "pforte_wortteile",
			"min_word_size": 6.0, "min_subword_size": 3.0, "max_subword_size": 24.0, "only_longest_match": true}),
		im.AddCustomAnalyzer(baseAnalyzerName, map[string]any{"type": custom.Name, "tokenizer": unicode.Name,
			"token_filters": []any{lowercase.Name, "pforte_stop", de.NormalizeName, "pforte_compound", stemmer}}),
	}
	if err := firstError(steps); err != nil {
		return nil, fmt.Errorf("assistant: index mapping: %w", err)
	}
	base := im.AnalyzerNamed(baseAnalyzerName)
	syn := map[string]string{}
	for _, group := range lang.synonyms {
		canonical := firstTerm(base, group[0])
		for _, w := range group {
			if t := firstTerm(base, w); t != "" && canonical != "" {
				syn[t] = canonical
			}
		}
	}
	steps = []error{
		im.AddCustomTokenFilter("pforte_synonyme", map[string]any{"type": synonymType, "map": syn}),
		im.AddCustomAnalyzer(analyzerName, map[string]any{"type": custom.Name, "tokenizer": unicode.Name,
			"token_filters": []any{lowercase.Name, "pforte_stop", de.NormalizeName, "pforte_compound", stemmer, "pforte_synonyme"}}),
	}
	if err := firstError(steps); err != nil {
		return nil, fmt.Errorf("assistant: index mapping: %w", err)
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fieldQuestion, fieldAnswer} {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		doc.AddFieldMappingsAt(name, f)
	}
	im.DefaultMapping = doc
	im.DefaultAnalyzer = analyzerName

	bi, err := bleve.NewMemOnly(im)
	if err != nil {
		return nil, fmt.Errorf("assistant: index: %w", err)
	}
	ix := &index{bleve: bi, analyzer: im.AnalyzerNamed(analyzerName), entries: entries, byID: map[string]int{},
		weight: map[string]float64{}}
	// Words the knowledge base uses, so that separable verbs are joined
	// only into words it knows.
	known := map[string]bool{}
	for _, e := range entries {
		for _, text := range append([]string{e.Title, e.Answer, strings.Join(e.Keywords, " ")}, e.Questions...) {
			for _, t := range ix.terms(text) {
				known[t] = true
			}
		}
	}
	ix.known = func(w string) bool { t := firstTerm(ix.analyzer, w); return t != "" && known[t] }
	batch := bi.NewBatch()
	df := map[string]int{}
	for i, e := range entries {
		ix.byID[e.ID] = i
		asked := map[string]int{}
		pairs := map[string]bool{}
		texts := append([]string{e.Title, strings.Join(e.Keywords, " ")}, e.Questions...)
		for j, q := range texts {
			if strings.TrimSpace(q) == "" {
				continue
			}
			q = ix.expand(q)
			if err := batch.Index(e.ID+"/"+strconv.Itoa(j), map[string]any{fieldQuestion: q}); err != nil {
				return nil, fmt.Errorf("assistant: index %s: %w", e.ID, err)
			}
			for _, t := range ix.terms(q) {
				asked[t]++
				if j < 2 { // the title and the keywords name the topic
					asked[t]++
				}
			}
			for _, p := range wordPairs(ix.slots(q)) {
				pairs[p] = true
			}
		}
		if err := batch.Index(e.ID+"/a", map[string]any{fieldAnswer: e.Answer}); err != nil {
			return nil, fmt.Errorf("assistant: index %s: %w", e.ID, err)
		}
		answered := map[string]bool{}
		for _, t := range ix.terms(e.Answer) {
			answered[t] = true
		}
		ix.asked = append(ix.asked, asked)
		ix.pairs = append(ix.pairs, pairs)
		ix.answered = append(ix.answered, answered)
		seen := map[string]bool{}
		for t := range asked {
			seen[t] = true
		}
		for t := range answered {
			seen[t] = true
		}
		for t := range seen {
			df[t]++
		}
	}
	if err := bi.Batch(batch); err != nil {
		return nil, fmt.Errorf("assistant: index: %w", err)
	}
	n := float64(len(entries))
	for t, c := range df {
		ix.weight[t] = math.Log(1 + n/float64(c))
		ix.vocab = append(ix.vocab, t)
	}
	ix.maxWeight = math.Log(1 + n)
	slices.Sort(ix.vocab)
	return ix, nil
}

// stemmer is bleve's German stemmer the analyzer uses.
const stemmer = de.LightStemmerName

// negations stay in questions although German stop word lists drop them:
// "Brief nicht angekommen" and "kein Smartphone" ask something else than
// "Brief angekommen" and "Smartphone".
// So does "weg" ("Handy weg").
var negations = []string{"nicht", "nichts", "kein", "keine", "keinem", "keinen", "keiner", "keines", "ohne", "weg"}

// stopWords are bleve's German stop words without the negations, with the
// knowledge base's fillers (also spelled without umlauts).
func stopWords(fillers []string) []any {
	tm := analysis.NewTokenMap()
	_ = tm.LoadBytes(de.GermanStopWords) // a fixed list that loads
	for _, n := range negations {
		delete(tm, n)
	}
	for _, f := range fillers {
		tm.AddToken(f)
		tm.AddToken(strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(f))
		tm.AddToken(strings.NewReplacer("ä", "a", "ö", "o", "ü", "u", "ß", "ss").Replace(f))
	}
	out := make([]any, 0, len(tm))
	for w := range tm {
		out = append(out, w)
	}
	return out
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// firstTerm is the first term the analyzer makes of w ("" if none).
func firstTerm(a analysis.Analyzer, w string) string {
	ts := a.Analyze([]byte(w))
	if len(ts) == 0 {
		return ""
	}
	return string(ts[0].Term)
}

// terms are the distinct terms the analyzer makes of s.
func (ix *index) terms(s string) []string {
	var out []string
	for _, t := range ix.analyzer.Analyze([]byte(s)) {
		if term := string(t.Term); !slices.Contains(out, term) {
			out = append(out, term)
		}
	}
	return out
}
