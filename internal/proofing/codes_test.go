package proofing

import (
	"strings"
	"testing"
)

func TestInitialPassword(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		pw, err := NewInitialPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != InitialLength || seen[pw] {
			t.Fatalf("password %q: length %d, duplicate %v", pw, len(pw), seen[pw])
		}
		seen[pw] = true
		for _, r := range pw {
			if !strings.ContainsRune(InitialAlphabet, r) {
				t.Fatalf("%q outside the alphabet", r)
			}
			counts[r]++
		}
	}
	// Every symbol is used (2000·16 draws, 32 symbols: about 1000 each).
	for _, r := range InitialAlphabet {
		if counts[r] < 700 {
			t.Errorf("symbol %q drawn %d times: biased", r, counts[r])
		}
	}
	for _, bad := range "IO01" {
		if strings.ContainsRune(InitialAlphabet, bad) {
			t.Errorf("look-alike %q in the alphabet", bad)
		}
	}
}

func TestNormalizeInitialPassword(t *testing.T) {
	if got := NormalizeInitialPassword("abcd efgh-JKLM\u00a0npqr"); got != "ABCDEFGHJKLMNPQR" {
		t.Errorf("got %q", got)
	}
}

func TestActivationCode(t *testing.T) {
	a, err := NewActivationCode()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewActivationCode()
	if len(a) != 22 || a == b {
		t.Errorf("codes %q %q", a, b)
	}
	if len(CodeDigest(a)) != 32 || string(CodeDigest(a)) == string(CodeDigest(b)) {
		t.Error("digest")
	}
	if got := ActivationURL("https://portal.example/", a); got != "https://portal.example/app/activate#"+a {
		t.Errorf("url %q", got)
	}
}
