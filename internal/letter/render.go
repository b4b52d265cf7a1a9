package letter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/boombuler/barcode"
	"golang.org/x/image/font/sfnt"

	"github.com/pforte/pforte/internal/lang"
)

// MaxBatchLetters bounds RenderBatch. fpdf builds the whole document in
// memory and writes it only at the end: a batch of 10,000 Passwortbriefe
// (about 38 MB of PDF) peaks at some 300 MB of live heap and 640 MB of
// resident memory with the default GOGC. Split larger runs into several
// batches.
const MaxBatchLetters = 10000

// Font families as registered with fpdf.
const (
	famSans = "gosans"
	famMono = "gomono"
)

// Fixed document metadata; nothing here may depend on time or chance.
const (
	producer = "Pforte"
	creator  = "Pforte letter"
)

// Renderer turns letters into PDF. It holds the sender and the font files and
// is safe for concurrent use: every Render and RenderBatch builds its own
// document and parses the embedded fonts for it (fpdf keeps per-document state
// in its parsed fonts, so they cannot be shared).
type Renderer struct {
	sender Sender
	loc    *time.Location
	glyphs []*sfnt.Font // regular and bold: every printed character needs a glyph in both
	// longestPasswordW is the width of the longest initial password as the
	// secret block prints it: the room its label must leave.
	longestPasswordW float64

	// drawn, when set by a test, is told where every secret was drawn.
	drawn func(what string, r rect)
}

// Option configures a Renderer.
type Option func(*Renderer)

// WithLocation prints dates and times in loc (for example Europe/Berlin).
// Without it, every time is printed in its own location.
func WithLocation(loc *time.Location) Option {
	return func(r *Renderer) { r.loc = loc }
}

// NewRenderer returns a renderer for letters from sender. It reports every
// problem of sender at once, including texts too wide for their place on the
// page.
func NewRenderer(sender Sender, opts ...Option) (*Renderer, error) {
	r := &Renderer{sender: sender}
	for _, o := range opts {
		o(r)
	}
	for _, ttf := range [][]byte{fontRegular, fontBold} {
		g, err := sfnt.Parse(ttf)
		if err != nil {
			return nil, fmt.Errorf("letter: parse font: %w", err)
		}
		r.glyphs = append(r.glyphs, g)
	}
	if err := sender.validate(r.hasGlyph); err != nil {
		return nil, fmt.Errorf("letter: sender: %w", err)
	}
	if err := r.checkSenderFits(); err != nil {
		return nil, fmt.Errorf("letter: sender: %w", err)
	}
	d := r.newDoc(time.Unix(0, 0).UTC(), "", lang.German)
	d.font(famMono, "", pageLayout.passwordSize)
	r.longestPasswordW = d.f.GetStringWidth(groupPassword(strings.Repeat("W", MaxPasswordLen)))
	return r, nil
}

// hasGlyph reports whether both text fonts can draw c.
func (r *Renderer) hasGlyph(c rune) bool {
	if c > 0xFFFF { // fpdf writes text as UTF-16 without surrogates
		return false
	}
	for _, g := range r.glyphs {
		if i, err := g.GlyphIndex(nil, c); err != nil || i == 0 {
			return false
		}
	}
	return true
}

// checkSenderFits measures the sender's texts in a scratch document.
func (r *Renderer) checkSenderFits() error {
	d := r.newDoc(time.Unix(0, 0).UTC(), "", lang.German)
	lay := &pageLayout
	textW := lay.pageW - lay.left - lay.right
	s := r.sender
	var errs []error
	fits := func(what, style string, size float64, text string, w float64) {
		d.font(famSans, style, size)
		if d.f.GetStringWidth(text) > w {
			errs = append(errs, fmt.Errorf("%s: %w: too wide for its place on the page", what, ErrInvalid))
		}
	}
	fits("name", "B", 10, s.Name, textW)
	fits("return line", "", 6, s.returnLine(), lay.addressTextMaxW)
	fits("phone", "", 10, s.Phone, lay.infoW)
	fits("web address", "", 10, s.Web, lay.infoW)
	fits("footer", "", lay.smallSize, footerLine1(s), textW)
	for _, lg := range lang.All() {
		d.font(famMono, "", lay.smallSize)
		idW := d.f.GetStringWidth(lg.T("letter.footer.letter_no", strings.Repeat("W", MaxIDLen)))
		fits("footer", "", lay.smallSize, footerLine2(s, lg), textW-idW-5)
	}
	if err := d.f.Error(); err != nil {
		errs = append(errs, fmt.Errorf("fonts: %w", err))
	}
	return errors.Join(errs...)
}

// Render returns one letter as a PDF document.
func (r *Renderer) Render(l Letter) ([]byte, error) {
	if err := l.validate(r.hasGlyph); err != nil {
		return nil, fmt.Errorf("letter: render: %w", err)
	}
	l = r.inLocation(l)
	code, err := encodeQR(l.ActivationURL)
	if err != nil {
		return nil, fmt.Errorf("letter: render %s: %w", l.ID, err)
	}
	d := r.newDoc(l.Date, letterText(r.sender, l).title, l.language())
	if _, err := d.addLetter(l, code); err != nil {
		return nil, fmt.Errorf("letter: render %s: %w", l.ID, err)
	}
	var buf bytes.Buffer
	if err := d.f.Output(&buf); err != nil {
		return nil, fmt.Errorf("letter: render %s: %w", l.ID, err)
	}
	return buf.Bytes(), nil
}

// BatchResult describes a batch written by RenderBatch.
type BatchResult struct {
	Pages int // pages in the batch PDF
	// Entries has one entry per letter, in batch order, ready for
	// WriteManifest.
	Entries []ManifestEntry
}

// RenderBatch writes one PDF holding all letters to w, each starting on a new
// page, and returns where each letter is. All letters are validated before
// anything is written; an invalid letter fails the whole batch and the error
// names every invalid letter by id. A batch holds 1 to MaxBatchLetters
// letters. The PDF's date is the latest Date of the letters.
func (r *Renderer) RenderBatch(w io.Writer, letters []Letter) (BatchResult, error) {
	if len(letters) == 0 {
		return BatchResult{}, fmt.Errorf("letter: render batch: %w: no letters", ErrInvalid)
	}
	if len(letters) > MaxBatchLetters {
		return BatchResult{}, fmt.Errorf("letter: render batch: %w: %d letters, at most %d", ErrInvalid, len(letters), MaxBatchLetters)
	}
	var errs []error
	latest := letters[0].Date
	seen := make(map[string]bool, len(letters))
	for i, l := range letters {
		if err := l.validate(r.hasGlyph); err != nil {
			errs = append(errs, fmt.Errorf("letter %d: %w", i+1, err))
			continue
		}
		if seen[l.ID] {
			errs = append(errs, fmt.Errorf("letter %d: id %s: %w: used twice in the batch", i+1, l.ID, ErrInvalid))
		}
		seen[l.ID] = true
		if l.Date.After(latest) {
			latest = l.Date
		}
	}
	if len(errs) > 0 {
		return BatchResult{}, fmt.Errorf("letter: render batch: %w", errors.Join(errs...))
	}

	codes, err := encodeQRs(letters)
	if err != nil {
		return BatchResult{}, fmt.Errorf("letter: render batch: %w", err)
	}
	// The batch is for the print service: its metadata is German, whatever
	// the languages of its letters.
	d := r.newDoc(latest, "Briefe", lang.German)
	res := BatchResult{Entries: make([]ManifestEntry, 0, len(letters))}
	for i, l := range letters {
		first := d.f.PageNo() + 1
		n, err := d.addLetter(r.inLocation(l), codes[i])
		if err != nil {
			return BatchResult{}, fmt.Errorf("letter: render batch: letter %s: %w", l.ID, err)
		}
		res.Entries = append(res.Entries, ManifestEntry{
			LetterID:     l.ID,
			KVNR:         l.KVNR,
			Kind:         l.Kind,
			AddressLines: l.Recipient.Lines,
			FirstPage:    first,
			PageCount:    n,
		})
	}
	res.Pages = d.f.PageNo()
	if err := d.f.Output(w); err != nil {
		return BatchResult{}, fmt.Errorf("letter: render batch: write: %w", err)
	}
	return res, nil
}

// encodeQRs encodes the QR codes of all letters on every CPU: encoding, with
// its mask selection, takes most of the time a letter needs, and unlike the
// PDF document it can be built in parallel. The result does not depend on the
// number of CPUs.
func encodeQRs(letters []Letter) ([]barcode.Barcode, error) {
	codes := make([]barcode.Barcode, len(letters))
	errs := make([]error, len(letters))
	workers := min(runtime.GOMAXPROCS(0), len(letters))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(letters); i += workers {
				codes[i], errs[i] = encodeQR(letters[i].ActivationURL)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("letter %s: %w", letters[i].ID, errs[i])
				}
			}
		})
	}
	wg.Wait()
	return codes, errors.Join(errs...)
}

// inLocation returns l with its times moved to the renderer's location.
func (r *Renderer) inLocation(l Letter) Letter {
	if r.loc == nil {
		return l
	}
	l.Date = l.Date.In(r.loc)
	if !l.ValidUntil.IsZero() {
		l.ValidUntil = l.ValidUntil.In(r.loc)
	}
	if !l.ChangedAt.IsZero() {
		l.ChangedAt = l.ChangedAt.In(r.loc)
	}
	return l
}

func footerLine1(s Sender) string { return s.Name + " · " + s.Street + " · " + s.PostalCity }
func footerLine2(s Sender, lg lang.Language) string {
	return lg.T("letter.footer.contact", s.Phone, s.Web)
}
