package assistant

import (
	"slices"
	"strings"
)

// expand puts the separable verbs of s together again: "Wo trage ich die
// Adresse ein?" becomes "Wo eintrage ich die Adresse ein?" (the particle
// left behind is a stop word).
func (ix *index) expand(s string) string {
	for _, v := range separableVerbs(s, ix.known) {
		s = replaceWord(s, v.word, v.joined)
	}
	return s
}

// replaceWord replaces the first occurrence of the word w in s.
func replaceWord(s, w, by string) string {
	for i := 0; i+len(w) <= len(s); {
		j := strings.Index(s[i:], w)
		if j < 0 {
			break
		}
		j += i
		before := j == 0 || !isWordByte(s[j-1])
		after := j+len(w) == len(s) || !isWordByte(s[j+len(w)])
		if before && after {
			return s[:j] + by + s[j+len(w):]
		}
		i = j + 1
	}
	return s
}

// isWordByte reports whether b may be part of a word (letters, digits and
// every byte of a multi-byte character).
func isWordByte(b byte) bool {
	return b >= 0x80 || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// slot is one word of a question as the index sees it: the word's term and,
// for a compound, the terms of its parts.
type slot struct {
	whole     string
	parts     []string
	corrected bool // whole was not known and is the nearest known term
	// size is the word's length in bytes and spans the byte ranges of its
	// parts, relative to the word: how much of an unknown compound its
	// known parts explain.
	size  int
	spans [][2]int
}

// slots analyses q into its words, correcting unknown words to the nearest
// known term when one is close enough.
func (ix *index) slots(q string) []slot {
	var out []slot
	byPos := map[int]int{}
	starts := map[int]int{} // position -> start of the whole word
	for _, t := range ix.analyzer.Analyze([]byte(q)) {
		term := string(t.Term)
		if i, ok := byPos[t.Position]; ok {
			if !slices.Contains(out[i].parts, term) && term != out[i].whole {
				out[i].parts = append(out[i].parts, term)
				out[i].spans = append(out[i].spans, [2]int{t.Start - starts[t.Position], t.End - starts[t.Position]})
			}
			continue
		}
		byPos[t.Position] = len(out)
		starts[t.Position] = t.Start
		out = append(out, slot{whole: term, size: t.End - t.Start})
	}
	for i := range out {
		s := &out[i]
		if _, known := ix.weight[s.whole]; known || ix.knownParts(*s) > 0 {
			continue
		}
		if c, ok := ix.correct(s.whole); ok {
			s.whole, s.corrected = c, true
		}
	}
	return out
}

func (ix *index) knownParts(s slot) int {
	n := 0
	for _, p := range s.parts {
		if _, ok := ix.weight[p]; ok {
			n++
		}
	}
	return n
}

// correct returns the known term an unknown one stands for: first a
// known stem of an inflected form (inflections), else the nearest known
// term, at most one edit away for words of five to eight letters and two
// for longer ones (a swap of neighbouring letters is one edit; shorter
// words are not corrected), among equals the most specific. Terms with
// digits are never the correction.
func (ix *index) correct(term string) (string, bool) {
	n := len([]rune(term))
	if n < 5 {
		return "", false
	}
	// A verb or participle form the knowledge base does not use, whose
	// stem it does ("braucht" for "brauche", "geschickt" for "schicken").
	for _, m := range inflections(term) {
		if _, ok := ix.weight[m]; ok && letters(m) {
			return m, true
		}
	}
	limit := 1
	if n > 8 {
		limit = 2
	}
	best, bestDist := "", limit+1
	for _, v := range ix.vocab {
		if d := abs(len([]rune(v)) - n); d > limit || !letters(v) {
			continue
		}
		d := editDistance(term, v, limit)
		if d > limit {
			continue
		}
		if d < bestDist || d == bestDist && ix.weight[v] > ix.weight[best] {
			best, bestDist = v, d
		}
	}
	return best, best != ""
}

// inflections are forms term may be an inflection of, after the stemmer
// left a verb ending or a participle's ge- on it.
func inflections(term string) []string {
	var out []string
	stems := []string{term}
	if len(term) > 6 && strings.HasPrefix(term, "ge") {
		stems = append(stems, term[2:])
	}
	for _, st := range stems {
		out = append(out, st)
		for _, suffix := range []string{"t", "et", "st", "est", "te", "ten", "tet", "en", "e"} {
			if base, ok := strings.CutSuffix(st, suffix); ok && len(base) >= 4 {
				out = append(out, base)
			}
		}
	}
	return out[1:]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the optimal-string-alignment distance of a and b (an
// insertion, deletion, substitution or swap of neighbours is one edit), or
// limit+1 once it exceeds limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
