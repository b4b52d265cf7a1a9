package letter

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The Go fonts draw the hyphen-minus '-' as a minus sign, wider than an 'n'
// and set at the height of a plus: in running text "Online-Portal" reads as
// "Online–Portal". Their soft hyphen (U+00AD) has the shape a hyphen should
// have. withHyphen returns a copy of a TrueType font whose '-' glyph draws
// the soft hyphen's outline with its advance, so letters print hyphens as
// hyphens while the text stays U+002D (copying or searching a letter finds
// "Online-Portal"). Only the glyph data changes: the character map, every
// other glyph and the font's names stay as they are.
func withHyphen(ttf []byte) ([]byte, error) {
	t, err := readTables(ttf)
	if err != nil {
		return nil, err
	}
	hyphen, err := t.glyphOf('-')
	if err != nil {
		return nil, err
	}
	soft, err := t.glyphOf('\u00ad')
	if err != nil {
		return nil, err
	}
	return t.copyGlyph(soft, hyphen)
}

// tables are the parts of a TrueType font withHyphen reads and writes.
type tables struct {
	font                      []byte
	dir                       map[string][2]uint32 // tag → offset, length
	longLoca                  bool
	numGlyphs, numHMetrics    int
	glyf, loca, hmtx, cmapOff uint32
}

var errFont = errors.New("letter: font: not a TrueType font withHyphen can patch")

func readTables(font []byte) (*tables, error) {
	if len(font) < 12 {
		return nil, errFont
	}
	n := int(binary.BigEndian.Uint16(font[4:]))
	t := &tables{font: font, dir: map[string][2]uint32{}}
	for i := range n {
		rec := 12 + 16*i
		if rec+16 > len(font) {
			return nil, errFont
		}
		off, length := binary.BigEndian.Uint32(font[rec+8:]), binary.BigEndian.Uint32(font[rec+12:])
		if uint64(off)+uint64(length) > uint64(len(font)) {
			return nil, errFont
		}
		t.dir[string(font[rec:rec+4])] = [2]uint32{off, length}
	}
	for _, tag := range []string{"head", "maxp", "hhea", "hmtx", "loca", "glyf", "cmap"} {
		if _, ok := t.dir[tag]; !ok {
			return nil, fmt.Errorf("%w: no %s table", errFont, tag)
		}
	}
	t.longLoca = binary.BigEndian.Uint16(font[t.dir["head"][0]+50:]) == 1
	t.numGlyphs = int(binary.BigEndian.Uint16(font[t.dir["maxp"][0]+4:]))
	t.numHMetrics = int(binary.BigEndian.Uint16(font[t.dir["hhea"][0]+34:]))
	t.glyf, t.loca, t.hmtx, t.cmapOff = t.dir["glyf"][0], t.dir["loca"][0], t.dir["hmtx"][0], t.dir["cmap"][0]
	return t, nil
}

// glyphOf finds r's glyph in the font's format 4 (BMP) character map.
func (t *tables) glyphOf(r rune) (int, error) {
	f := t.font
	cmap := t.cmapOff
	n := int(binary.BigEndian.Uint16(f[cmap+2:]))
	for i := range n {
		rec := cmap + 4 + uint32(8*i)
		platform, encoding := binary.BigEndian.Uint16(f[rec:]), binary.BigEndian.Uint16(f[rec+2:])
		sub := cmap + binary.BigEndian.Uint32(f[rec+4:])
		if binary.BigEndian.Uint16(f[sub:]) != 4 || !(platform == 3 && encoding == 1 || platform == 0) {
			continue
		}
		segs := int(binary.BigEndian.Uint16(f[sub+6:])) / 2
		ends := sub + 14
		starts := ends + uint32(2*segs) + 2
		deltas := starts + uint32(2*segs)
		ranges := deltas + uint32(2*segs)
		for s := range segs {
			end := rune(binary.BigEndian.Uint16(f[ends+uint32(2*s):]))
			start := rune(binary.BigEndian.Uint16(f[starts+uint32(2*s):]))
			if r < start || r > end {
				continue
			}
			delta := binary.BigEndian.Uint16(f[deltas+uint32(2*s):])
			ro := uint32(binary.BigEndian.Uint16(f[ranges+uint32(2*s):]))
			if ro == 0 {
				return int(uint16(r) + delta), nil
			}
			at := ranges + uint32(2*s) + ro + uint32(2*(r-start))
			g := binary.BigEndian.Uint16(f[at:])
			if g == 0 {
				break
			}
			return int(g + delta), nil
		}
	}
	return 0, fmt.Errorf("%w: no glyph for %U", errFont, r)
}

// glyphRange returns where glyph g's data lies in the glyf table.
func (t *tables) glyphRange(g int) (uint32, uint32) {
	if t.longLoca {
		return binary.BigEndian.Uint32(t.font[t.loca+uint32(4*g):]), binary.BigEndian.Uint32(t.font[t.loca+uint32(4*g+4):])
	}
	return 2 * uint32(binary.BigEndian.Uint16(t.font[t.loca+uint32(2*g):])),
		2 * uint32(binary.BigEndian.Uint16(t.font[t.loca+uint32(2*g+2):]))
}

// copyGlyph returns a copy of the font in which glyph dst has glyph src's
// outline and horizontal metrics. The glyf table is rebuilt at the end of
// the file (its old bytes stay unused), the loca table rewritten in place
// with the long format's width only if it already has it.
func (t *tables) copyGlyph(src, dst int) ([]byte, error) {
	if src >= t.numGlyphs || dst >= t.numGlyphs || dst >= t.numHMetrics || src >= t.numHMetrics {
		return nil, errFont
	}
	var glyf []byte
	offsets := make([]uint32, t.numGlyphs+1)
	for g := range t.numGlyphs {
		from := g
		if g == dst {
			from = src
		}
		a, b := t.glyphRange(from)
		if b < a || t.glyf+b > uint32(len(t.font)) {
			return nil, errFont
		}
		offsets[g] = uint32(len(glyf))
		glyf = append(glyf, t.font[t.glyf+a:t.glyf+b]...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	offsets[t.numGlyphs] = uint32(len(glyf))
	if !t.longLoca && offsets[t.numGlyphs]/2 > 0xffff {
		return nil, errFont
	}
	out := append([]byte(nil), t.font...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	newGlyf := uint32(len(out))
	out = append(out, glyf...)
	for g, o := range offsets {
		if t.longLoca {
			binary.BigEndian.PutUint32(out[t.loca+uint32(4*g):], o)
		} else {
			binary.BigEndian.PutUint16(out[t.loca+uint32(2*g):], uint16(o/2))
		}
	}
	// Point the glyf table record at the new data.
	n := int(binary.BigEndian.Uint16(out[4:]))
	for i := range n {
		rec := 12 + 16*i
		if string(out[rec:rec+4]) == "glyf" {
			binary.BigEndian.PutUint32(out[rec+8:], newGlyf)
			binary.BigEndian.PutUint32(out[rec+12:], uint32(len(glyf)))
		}
	}
	// The advance and left side bearing of the hyphen become the soft
	// hyphen's.
	copy(out[t.hmtx+uint32(4*dst):t.hmtx+uint32(4*dst+4)], t.font[t.hmtx+uint32(4*src):t.hmtx+uint32(4*src+4)])
	return out, nil
}
