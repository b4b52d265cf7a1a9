package password

import (
	"bufio"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trustelem/zxcvbn/frequency"
)

func TestBlocklistContents(t *testing.T) {
	set := blocklist()
	words := frequency.FrequencyLists["passwords"]
	if len(words) < 10_000 {
		t.Fatalf("zxcvbn password list has %d entries, want at least 10,000", len(words))
	}
	for _, w := range words {
		if _, ok := set[fold(Normalize(w))]; !ok {
			t.Fatalf("blocklist lacks zxcvbn's %q", w)
		}
	}
	german := 0
	sc := bufio.NewScanner(strings.NewReader(blocklistDE))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		german++
		if line != strings.ToLower(line) {
			t.Errorf("blocklist_de.txt: %q is not lower case", line)
		}
		if _, ok := set[fold(line)]; !ok {
			t.Errorf("blocklist lacks %q", line)
		}
	}
	if german < 300 {
		t.Errorf("blocklist_de.txt has %d entries, want at least 300", german)
	}
	for _, w := range []string{
		"passwort", "hallo123", "schatz", "sommer2024", "winter2025", "fruehling", "herbst", "qwertz",
		"qwertzuiop", "ichliebedich", "schalke04", "bvb09", "fcbayern", "baerchen", "muenchen",
		"krankenkasse", "willkommen", "maerz1950", "dezember2035", "1999sommer", "juli 1984",
		"passwort0", "passwort999", "passwort007", "kennwort2001", "poiuztrewq", "asdfghjkloeae",
		"yxcvbnm", "mnbvcxy", "1qay2wsx", "1qay2wsx3edc4rfv", "qaywsxedc", "yaqxswcde", "qwertzqwertz",
		"qwertzuiopueasdfghjkloeae",
	} {
		if _, ok := set[w]; !ok {
			t.Errorf("blocklist lacks %q", w)
		}
	}
}

// TestBlocklistMemory measures the heap the blocklist holds; the figure is
// noted at blocklist's declaration.
func TestBlocklistMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	set := buildBlocklist() // a fresh build, not the shared one
	runtime.GC()
	runtime.ReadMemStats(&after)
	mb := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	t.Logf("blocklist: %d keys, %.1f MiB", len(set), mb)
	if mb > 8 {
		t.Errorf("blocklist takes %.1f MiB, want at most 8", mb)
	}
	runtime.KeepAlive(set)
}

func TestStripAffixes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"passwort2024!", "passwort"},
		{"!!passwort", "passwort"},
		{"123passwort456", "passwort"},
		{"passwort1234567", "passwort1234567"}, // seven: too long to strip
		{"1234567passwort", "1234567passwort"},
		{"123456", "123456"}, // nothing would be left
		{"pass wort 12", "pass wort"},
		{"", ""},
		{"grüße€€", "grüße"},
	}
	for _, tt := range tests {
		if got := stripAffixes(tt.in); got != tt.want {
			t.Errorf("stripAffixes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		in   string
		want []string // must all be among the candidates
	}{
		{"p4ssw0rt!", []string{"passwort"}},
		{"hall0", []string{"hallo"}},
		{"$ommer2024", []string{"sommer"}},
		{"ich liebe dich", []string{"ichliebedich", "ich liebe dich"}},
		{"grüße2024", []string{"gruesse", "grüße"}},
		{"1l0v3y0u", []string{"iloveyou"}},
	}
	for _, tt := range tests {
		got := candidates(tt.in)
		for _, w := range tt.want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("candidates(%q) = %q, want it to include %q", tt.in, got, w)
			}
		}
	}
	if diff := cmp.Diff([]string(nil), candidates("ab")); diff != "" {
		t.Errorf("candidates of a short string (-want +got):\n%s", diff)
	}
}
