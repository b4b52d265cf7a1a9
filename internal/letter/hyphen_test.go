package letter

import (
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// TestHyphenGlyph: in the letter fonts '-' has the soft hyphen's shape and
// width (the Go fonts' own is a minus sign), and nothing else changed.
func TestHyphenGlyph(t *testing.T) {
	for name, pair := range map[string][2][]byte{"regular": {goregular.TTF, fontRegular}, "bold": {gobold.TTF, fontBold}} {
		orig, err := sfnt.Parse(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		patched, err := sfnt.Parse(pair[1])
		if err != nil {
			t.Fatalf("%s: the patched font does not parse: %v", name, err)
		}
		var b sfnt.Buffer
		advance := func(f *sfnt.Font, r rune) fixed.Int26_6 {
			g, err := f.GlyphIndex(&b, r)
			if err != nil || g == 0 {
				t.Fatalf("%s: no glyph for %U: %v", name, r, err)
			}
			a, err := f.GlyphAdvance(&b, g, fixed.I(1000), font.HintingNone)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		if a, soft := advance(patched, '-'), advance(orig, '\u00ad'); a != soft || a == advance(orig, '-') {
			t.Errorf("%s: '-' advance %v, want the soft hyphen's %v (the minus was %v)", name, a, soft, advance(orig, '-'))
		}
		for _, r := range "nAäß0€„“.·" {
			if advance(patched, r) != advance(orig, r) {
				t.Errorf("%s: %q changed", name, r)
			}
			g1, _ := orig.GlyphIndex(&b, r)
			s1, err1 := orig.LoadGlyph(&b, g1, fixed.I(100), nil)
			n1 := len(s1)
			g2, _ := patched.GlyphIndex(&b, r)
			s2, err2 := patched.LoadGlyph(&b, g2, fixed.I(100), nil)
			if err1 != nil || err2 != nil || n1 != len(s2) {
				t.Errorf("%s: the outline of %q changed (%v, %v)", name, r, err1, err2)
			}
		}
	}
}
