package password

import (
	"bufio"
	_ "embed"
	"strconv"
	"strings"
	"sync"

	"github.com/trustelem/zxcvbn/frequency"
)

// blocklistDE is the hand-written German part of the blocklist; see its
// header for the format.
//
//go:embed blocklist_de.txt
var blocklistDE string

// blocklist returns the set of refused passwords in folded form (see fold),
// built on first use and shared by all policies. It holds the 30,000 entries
// of zxcvbn's password list, the entries of blocklist_de.txt and the
// generated German patterns, about 42,400 distinct keys. The map takes about
// 2 MiB of heap (1.8 MiB measured by TestBlocklistMemory); the zxcvbn strings
// are already in the binary's data and are not copied when folding leaves
// them unchanged.
var blocklist = sync.OnceValue(buildBlocklist)

// buildBlocklist builds the set blocklist returns.
func buildBlocklist() map[string]struct{} {
	words := frequency.FrequencyLists["passwords"]
	set := make(map[string]struct{}, len(words)+16_000)
	add := func(s string) {
		s = fold(Normalize(strings.TrimSpace(s)))
		if s != "" {
			set[s] = struct{}{}
			if c := compactor.Replace(s); c != s {
				set[c] = struct{}{}
			}
		}
	}
	for _, w := range words {
		add(w)
	}
	sc := bufio.NewScanner(strings.NewReader(blocklistDE))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		add(line)
	}
	generatePatterns(add)
	return set
}

// seasonsAndMonths are combined with years by generatePatterns.
var seasonsAndMonths = []string{
	"frühling", "frühjahr", "sommer", "herbst", "winter",
	"januar", "februar", "märz", "april", "mai", "juni",
	"juli", "august", "september", "oktober", "november", "dezember",
}

// The rows of the German QWERTZ keyboard, unshifted, left to right.
var qwertzRows = []string{
	"1234567890ß",
	"qwertzuiopü",
	"asdfghjklöä",
	"<yxcvbnm,.-",
}

// generatePatterns passes the generated German patterns to add: season and
// month names with the years 1950 to 2035 (before and after, four and two
// digits), "passwort" and "kennwort" with numbers, and keyboard walks.
func generatePatterns(add func(string)) {
	for _, w := range seasonsAndMonths {
		for y := 1950; y <= 2035; y++ {
			yyyy := strconv.Itoa(y)
			yy := yyyy[2:]
			add(w + yyyy)
			add(w + yy)
			add(yyyy + w)
			add(w + " " + yyyy)
		}
	}
	for _, w := range []string{"passwort", "kennwort", "geheim", "hallo", "schatz"} {
		for n := range 1000 {
			add(w + strconv.Itoa(n))
		}
		for n := range 10 {
			add(w + "0" + strconv.Itoa(n))
			add(w + "00" + strconv.Itoa(n))
		}
		for y := 1950; y <= 2035; y++ {
			add(w + strconv.Itoa(y))
		}
	}
	keyboardWalks(add)
}

// keyboardWalks passes walks on the QWERTZ layout to add: every run of four
// or more neighbouring keys in a row, forwards and backwards; rows doubled
// ("qwertzqwertz"); consecutive rows joined; and runs down the diagonal
// columns ("1qay2wsx3edc", "qaywsx", "yaqxsw").
func keyboardWalks(add func(string)) {
	rows := make([][]rune, len(qwertzRows))
	for i, r := range qwertzRows {
		rows[i] = []rune(r)
	}
	for _, row := range rows {
		for i := range row {
			for j := i + 4; j <= len(row); j++ {
				run := string(row[i:j])
				add(run)
				add(reverse(run))
				if j-i <= 8 {
					add(run + run)
				}
			}
		}
	}
	for i := 1; i < len(qwertzRows); i++ {
		add(qwertzRows[i-1] + qwertzRows[i])
		add(strings.Trim(qwertzRows[i], "<,.-") + strings.Trim(qwertzRows[i-1], "<,.-"))
	}
	add(strings.Join(qwertzRows[1:], ""))
	// Column i goes down from digit i to the key below-left on the bottom row
	// (the German layout shifts each row right: 1 q a y, 2 w s x, ...).
	column := func(i, from int) string {
		var b strings.Builder
		for r := from; r < len(rows); r++ {
			k := i
			if r == len(rows)-1 {
				k = i + 1 // the bottom row starts with '<'
			}
			if k < len(rows[r]) {
				b.WriteRune(rows[r][k])
			}
		}
		return b.String()
	}
	for from := range 2 {
		for start := range 8 {
			var down, up strings.Builder
			for k := start; k < start+6 && k < 10; k++ {
				c := column(k, from)
				down.WriteString(c)
				up.WriteString(reverse(c))
				if k-start >= 1 {
					add(down.String())
					add(up.String())
				}
			}
		}
	}
}

// reverse returns s with its runes in reverse order.
func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// isCommon reports whether the normalised password is on the blocklist in any
// of the forms candidates derives from it.
func isCommon(pw string) bool {
	set := blocklist()
	for _, c := range candidates(strings.ToLower(pw)) {
		if _, ok := set[c]; ok {
			return true
		}
	}
	return false
}
