package assistant

import (
	"strings"
	"unicode"
)

// particles are the prefixes of German separable verbs that end up at the
// end of a clause: "Wo trage ich die Adresse ein?" (eintragen), "Wie logge
// ich mich aus?" (ausloggen).
var particles = map[string]bool{
	"ein": true, "aus": true, "an": true, "ab": true, "auf": true, "zu": true, "zurück": true, "um": true,
	"mit": true, "fest": true, "nach": true, "vor": true, "her": true, "hin": true, "rein": true, "raus": true,
	"runter": true, "hoch": true, "weiter": true, "frei": true, "weg": true, "fort": true, "los": true,
}

// joinedVerb is a separable verb found in a text: the word where the verb
// stands and the verb joined with its particle.
type joinedVerb struct{ word, joined string }

// separableVerbs returns the separable verbs of s: for each clause that
// ends in a particle, the particle joined with the first of the clause's
// first three words for which known says the joined word means something
// ("trage … ein" gives "eintrage"). The verb stands first or second in a
// German question, or third after a question phrase ("Welche PIN gebe ich
// … ein").
func separableVerbs(s string, known func(word string) bool) []joinedVerb {
	var out []joinedVerb
	clauses := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(".,;:!?()", r) })
	for _, c := range clauses {
		words := strings.FieldsFunc(c, func(r rune) bool { return !unicode.IsLetter(r) })
		// "und"/"oder" start a new clause.
		start := 0
		for i, w := range words {
			lw := strings.ToLower(w)
			if lw == "und" || lw == "oder" {
				out = append(out, joined(words[start:i], known)...)
				start = i + 1
			}
		}
		out = append(out, joined(words[start:], known)...)
	}
	return out
}

// joined handles one clause given as words.
func joined(words []string, known func(string) bool) []joinedVerb {
	if len(words) < 3 {
		return nil
	}
	p := strings.ToLower(words[len(words)-1])
	if !particles[p] {
		return nil
	}
	for _, w := range words[:min(3, len(words)-1)] {
		if j := p + strings.ToLower(w); known(j) {
			return []joinedVerb{{word: w, joined: j}}
		}
	}
	return nil
}
