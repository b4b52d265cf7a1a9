package assistant

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// unknownWeight is how much a word the knowledge base does not know counts,
// against the rarest word it knows: it may be the topic the knowledge base
// cannot answer, or just a word nobody wrote into it.
const unknownWeight = 0.5

// onceWeight is how much a word counts that an entry's ways of asking use
// only once (and its title and keywords not at all): a word mentioned in
// passing is weaker evidence than one the entry is about.
const onceWeight = 0.75

// answerWeight is how much a word found only in an answer counts, against
// one found in the ways of asking: people ask in their words, answers are
// written in ours.
const answerWeight = 0.4

// Candidate is an entry the retrieval found for a question.
type Candidate struct {
	Entry string
	Title string
	// Score is the index's relevance score; Confidence is 0 to 1 (see
	// confidence).
	Score      float64
	Confidence float64
}

// search ranks the entries for q, best first, at most n of them.
func (ix *index) search(ctx context.Context, q string, n int) ([]Candidate, error) {
	slots := ix.slots(ix.expand(q))
	var terms []string
	for _, s := range slots {
		for _, t := range append([]string{s.whole}, s.parts...) {
			if _, known := ix.weight[t]; known && !slices.Contains(terms, t) {
				terms = append(terms, t)
			}
		}
	}
	if len(terms) == 0 {
		return nil, nil
	}
	var disjuncts []query.Query
	for _, t := range terms {
		asked := query.NewTermQuery(t)
		asked.SetField(fieldQuestion)
		answered := query.NewTermQuery(t)
		answered.SetField(fieldAnswer)
		answered.SetBoost(answerWeight)
		disjuncts = append(disjuncts, asked, answered)
	}
	req := bleve.NewSearchRequestOptions(query.NewDisjunctionQuery(disjuncts), 200, 0, false)
	res, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("assistant: search: %w", err)
	}
	// An entry scores with its best ways of asking (hits come best first),
	// each further one counting half the one before, and its answer.
	best := map[string]float64{}
	seen := map[string]float64{} // entry -> weight of its next way of asking
	for _, h := range res.Hits {
		id, doc, _ := strings.Cut(h.ID, "/")
		if doc == "a" {
			best[id] += h.Score
			continue
		}
		w, ok := seen[id]
		if !ok {
			w = 1
		}
		best[id] += w * h.Score
		seen[id] = w * variantDecay
	}
	out := make([]Candidate, 0, len(best))
	for id, score := range best {
		out = append(out, Candidate{Entry: id, Title: ix.entries[ix.byID[id]].Title, Score: score})
	}
	byScore(out, func(c Candidate) float64 { return c.Score })
	if len(out) > rerank {
		out = out[:rerank]
	}
	// Rank again by how much of the question each candidate covers,
	// together with the index's score: a candidate that matched one rare
	// word strongly should not beat one that covers the whole question.
	top := out[0].Score
	qpairs := wordPairs(slots)
	cover := make(map[string]float64, len(out))
	rank := make(map[string]float64, len(out))
	for _, c := range out {
		e := ix.byID[c.Entry]
		cover[c.Entry] = ix.cover(slots, e)
		rank[c.Entry] = coverWeight*cover[c.Entry] + (1-coverWeight)*c.Score/top + pairWeight*ix.pairCover(qpairs, e)
	}
	byScore(out, func(c Candidate) float64 { return rank[c.Entry] })
	// The confidence is the coverage; the best candidate's is lowered when
	// the runner-up ranks almost as well, the others' by the same share
	// as if they had no margin at all.
	for i := range out {
		margin := 0.0
		if r := rank[out[0].Entry]; i == 0 && len(out) == 1 {
			margin = 1
		} else if i == 0 && r > 0 {
			margin = (r - rank[out[1].Entry]) / r
		}
		out[i].Confidence = cover[out[i].Entry] * (1 - marginWeight + marginWeight*margin)
		if !ix.strong(slots, ix.byID[out[i].Entry]) {
			out[i].Confidence *= weakWeight
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// How candidates are ranked and rated (see search).
const (
	rerank       = 12  // candidates of the index ranked again
	variantDecay = 0.5 // weight of an entry's next best way of asking
	coverWeight  = 0.6 // share of the coverage in the combined rating
	marginWeight = 0.1 // how much a close runner-up lowers the confidence
	pairWeight   = 0.5 // weight of the word pairs an entry shares with the question
	weakWeight   = 0.6 // confidence kept when no word of the question is one the entry is about
)

// byScore sorts cs by score, best first, ties by entry id.
func byScore(cs []Candidate, score func(Candidate) float64) {
	slices.SortStableFunc(cs, func(a, b Candidate) int {
		if sa, sb := score(a), score(b); sa != sb {
			if sa > sb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Entry, b.Entry)
	})
}

// wordPairs are the pairs of words at most one word apart, in either
// order ("brief nicht angekommen": brief+nicht, brief+kommt, nicht+kommt),
// and the pairs of a compound's parts: they tell "Brief nicht angekommen"
// from "Brief angekommen".
func wordPairs(slots []slot) []string {
	var out []string
	add := func(a, b string) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		if p := a + " " + b; !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for i := range slots {
		// A compound pairs its parts: "Handywechsel" is "Handy wechseln".
		for j, a := range slots[i].parts {
			for _, b := range slots[i].parts[j+1:] {
				add(a, b)
			}
		}
		for j := i + 1; j < len(slots) && j <= i+2; j++ {
			add(slots[i].whole, slots[j].whole)
		}
	}
	return out
}

// pairCover is the share of the question's word pairs that entry e has in
// its ways of asking.
func (ix *index) pairCover(pairs []string, e int) float64 {
	if len(pairs) == 0 {
		return 0
	}
	n := 0
	for _, p := range pairs {
		if ix.pairs[e][p] {
			n++
		}
	}
	return float64(n) / float64(len(pairs))
}

// cover is how much of the question's slots entry e covers, 0 to 1: each
// word weighted by how specific it is, words only in the entry's answer
// counting less, parts of a compound counting for the compound.
func (ix *index) cover(slots []slot, e int) float64 {
	var total, covered float64
	for _, s := range slots {
		w, credit := ix.slotCover(s, e)
		total += w
		covered += w * credit
	}
	if total == 0 {
		return 0
	}
	return covered / total
}

// slotCover returns a word's weight and how far entry e covers it (0 to 1).
func (ix *index) slotCover(s slot, e int) (weight, credit float64) {
	termCredit := func(t string) float64 {
		switch {
		case ix.asked[e][t] > 1:
			return 1
		case ix.asked[e][t] == 1:
			return onceWeight
		case ix.answered[e][t]:
			return answerWeight
		}
		return 0
	}
	if w, known := ix.weight[s.whole]; known {
		c := termCredit(s.whole)
		if s.corrected {
			c *= 0.8
		}
		if c == 1 || len(s.parts) == 0 {
			return w, c
		}
		return w, max(c, ix.partsCredit(s, termCredit))
	}
	if ix.knownParts(s) > 0 {
		var sum float64
		for _, p := range s.parts {
			sum += ix.weight[p]
		}
		// An unknown compound counts only as far as its known parts
		// explain it: "Zahnzusatzversicherung" is not "Versicherung".
		return sum / float64(ix.knownParts(s)), ix.partsCredit(s, termCredit) * ix.explained(s)
	}
	return ix.maxWeight * unknownWeight, 0
}

// strong reports whether one of the question's words is one entry e is
// about: in its title or keywords, or in more than one of its ways of
// asking. A question that shares only words mentioned in passing ("Wie wird
// das Wetter morgen?" and "… gesperrt bis morgen") is weak evidence.
func (ix *index) strong(slots []slot, e int) bool {
	for _, s := range slots {
		if _, c := ix.slotCover(s, e); c >= 1 {
			return true
		}
	}
	return false
}

// explained is the share of an unknown compound's letters its known parts
// cover.
func (ix *index) explained(s slot) float64 {
	if s.size <= 0 {
		return 1
	}
	covered := make([]bool, s.size)
	for i, p := range s.parts {
		if _, ok := ix.weight[p]; !ok || i >= len(s.spans) {
			continue
		}
		for b := max(s.spans[i][0], 0); b < min(s.spans[i][1], s.size); b++ {
			covered[b] = true
		}
	}
	n := 0
	for _, c := range covered {
		if c {
			n++
		}
	}
	return float64(n) / float64(s.size)
}

// partsCredit is the weighted share of a compound's known parts that the
// entry covers.
func (ix *index) partsCredit(s slot, credit func(string) float64) float64 {
	var all, got float64
	for _, p := range s.parts {
		if w, ok := ix.weight[p]; ok {
			all += w
			got += w * credit(p)
		}
	}
	if all == 0 {
		return 0
	}
	return got / all
}
