package letter

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/pforte/pforte/internal/lang"
)

// errLayout reports text that does not fit where the layout puts it. It is a
// bug in the texts or limits of this package, not in the caller's input.
var errLayout = errors.New("layout overflow")

// Grey levels (0 black, 255 white).
const (
	greyText  = 90  // labels and small print
	greyRule  = 150 // rules and the secret block's frame
	greyMarks = 120 // fold and hole marks
)

// The font files, copied when the package is initialised, before any code
// could hand the shared gofont slices to fpdf (which modifies the bytes it
// reads; see newDoc). They are never passed to fpdf themselves. The text
// fonts print '-' as a hyphen (withHyphen).
var (
	fontRegular = mustHyphen(goregular.TTF)
	fontBold    = mustHyphen(gobold.TTF)
	fontMono    = bytes.Clone(gomono.TTF)
)

func mustHyphen(ttf []byte) []byte {
	b, err := withHyphen(ttf)
	if err != nil {
		panic(err) // the embedded Go fonts have both glyphs
	}
	return b
}

// doc is one PDF document being built: one letter or a batch.
type doc struct {
	r   *Renderer
	f   *fpdf.Fpdf
	lay *layout

	l     Letter  // the letter being drawn
	y     float64 // top of the next text line
	pages int     // pages of the current letter so far
}

// newDoc starts a document in lg dated date with fonts and fixed metadata.
func (r *Renderer) newDoc(date time.Time, title string, lg lang.Language) *doc {
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	f.SetCatalogSort(true)
	f.SetCompression(true)
	if r.loc != nil {
		date = date.In(r.loc)
	}
	f.SetCreationDate(date)
	f.SetModificationDate(date)
	f.SetProducer(producer, false)
	f.SetCreator(creator, false)
	f.SetAuthor(r.sender.Name, true)
	if title != "" {
		f.SetTitle(title, true)
	}
	f.SetLang(pdfLang(lg))
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(pageLayout.left, 20, pageLayout.right)
	// fpdf writes into the font bytes it is given while it subsets them, so
	// every document gets its own copy of the pristine files.
	f.AddUTF8FontFromBytes(famSans, "", bytes.Clone(fontRegular))
	f.AddUTF8FontFromBytes(famSans, "B", bytes.Clone(fontBold))
	f.AddUTF8FontFromBytes(famMono, "", bytes.Clone(fontMono))
	return &doc{r: r, f: f, lay: &pageLayout}
}

func (d *doc) font(family, style string, size float64) { d.f.SetFont(family, style, size) }

func (d *doc) grey(level int) { d.f.SetTextColor(level, level, level) }

// text draws s with its line box's top at y; the baseline sits 80 % of the
// font size below it.
func (d *doc) text(x, top float64, s string) {
	size, _ := d.f.GetFontSize()
	d.f.Text(x, top+0.8*ptToMM(size), s)
}

// wrap breaks s into lines no wider than w in the current font, at spaces.
// A single word wider than w stays on its own line.
func (d *doc) wrap(s string, w float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if line != "" && d.f.GetStringWidth(try) > w {
			lines = append(lines, line)
			line = word
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// addLetter draws l on new pages and returns how many pages it took. code is
// l's QR code, from encodeQR; nil for kinds without one.
func (d *doc) addLetter(l Letter, code barcode.Barcode) (int, error) {
	d.l = l
	d.pages = 0
	c := letterText(d.r.sender, l)
	lay := d.lay
	textW := lay.pageW - lay.left - lay.right

	d.newPage()
	d.letterhead()
	if err := d.addressField(); err != nil {
		return 0, err
	}
	d.infoBlock()

	d.font(famSans, "B", 11)
	d.grey(0)
	d.y = lay.subjectTop
	d.text(lay.left, d.y, c.subject)
	d.y += 2 * lay.bodyPitch

	d.font(famSans, "", lay.bodySize)
	salutation := l.Salutation
	if salutation == "" {
		salutation = l.language().T("letter.salutation.default")
	}
	d.paragraph(lay.left, textW, salutation)
	for _, p := range c.intro {
		d.paragraph(lay.left, textW, p)
	}

	if l.Kind.hasSecrets() {
		if d.pages != 1 || d.y > lay.secretBox.Y {
			return 0, fmt.Errorf("%w: text runs into the secret block", errLayout)
		}
		if err := d.secretBlock(code); err != nil {
			return 0, err
		}
		d.y = lay.secretBox.bottom() + 2*lay.paraGap
	}

	if len(c.steps) > 0 {
		d.font(famSans, "B", lay.bodySize)
		d.line(lay.left, c.stepsTitle)
		d.font(famSans, "", lay.bodySize)
		const indent = 6
		for i, s := range c.steps {
			lines := d.wrap(s, textW-indent)
			d.room(len(lines))
			d.text(lay.left, d.y, strconv.Itoa(i+1)+".")
			for _, ln := range lines {
				d.line(lay.left+indent, ln)
			}
		}
		d.y += lay.paraGap
	}
	for _, p := range c.after {
		d.paragraph(lay.left, textW, p)
	}

	d.alert(c, textW)

	d.font(famSans, "", lay.bodySize)
	d.room(3)
	d.line(lay.left, l.language().T("letter.closing"))
	d.y += lay.bodyPitch
	d.line(lay.left, d.r.sender.Name)

	if err := d.f.Error(); err != nil {
		return 0, fmt.Errorf("pdf: %w", err)
	}
	return d.pages, nil
}

// newPage starts a page of the current letter with the marks and the footer.
func (d *doc) newPage() {
	lay := d.lay
	d.f.AddPage()
	d.pages++
	d.f.SetDrawColor(greyMarks, greyMarks, greyMarks)
	d.f.SetLineWidth(0.2)
	for _, y := range lay.foldMarks {
		d.f.Line(lay.markX, y, lay.markX+lay.markLen, y)
	}
	d.f.Line(lay.markX, lay.holeMark, lay.markX+lay.holeLen, lay.holeMark)
	d.footer()
	d.y = 25
}

// room starts a new page unless n more body lines fit on this one.
func (d *doc) room(n int) {
	if d.y+float64(n)*d.lay.bodyPitch > d.lay.bodyBottom {
		size, _ := d.f.GetFontSize()
		style := d.f.GetFontStyle()
		family := d.f.GetFontFamily()
		d.newPage()
		d.f.SetFont(family, style, size)
		d.grey(0)
	}
}

// line draws one body line at the current position and moves down.
func (d *doc) line(x float64, s string) {
	d.room(1)
	d.text(x, d.y, s)
	d.y += d.lay.bodyPitch
}

// paragraph draws s wrapped to width w, followed by a paragraph gap.
func (d *doc) paragraph(x, w float64, s string) {
	for _, ln := range d.wrap(s, w) {
		d.line(x, ln)
	}
	d.y += d.lay.paraGap
}

func (d *doc) letterhead() {
	lay := d.lay
	s := d.r.sender
	d.grey(0)
	size := 16.0
	d.font(famSans, "B", size)
	for size > 10 && d.f.GetStringWidth(s.Name) > lay.pageW-lay.left-lay.right {
		size--
		d.font(famSans, "B", size)
	}
	d.f.Text(lay.left, lay.headNameY, s.Name)
	d.font(famSans, "", 8)
	d.grey(greyText)
	d.f.Text(lay.left, lay.headAddressY, s.Street+" · "+s.PostalCity)
}

// addressField draws the return line and the recipient's lines in the window.
func (d *doc) addressField() error {
	lay := d.lay
	d.grey(greyText)
	size := lay.smallSize
	d.font(famSans, "", size)
	ret := d.r.sender.returnLine()
	if d.f.GetStringWidth(ret) > lay.addressTextMaxW {
		size = 6
		d.font(famSans, "", size)
	}
	d.f.Text(lay.addressTextX, lay.returnLineY, ret)
	d.f.SetDrawColor(greyRule, greyRule, greyRule)
	d.f.SetLineWidth(0.1)
	d.f.Line(lay.addressTextX, lay.returnLineY+1, lay.addressTextX+lay.addressTextMaxW, lay.returnLineY+1)

	d.grey(0)
	for i, ln := range d.l.Recipient.Lines {
		size := lay.addressSize
		d.font(famSans, "", size)
		for d.f.GetStringWidth(ln) > lay.addressTextMaxW && size > lay.addressMinSize {
			size -= 0.5
			d.font(famSans, "", size)
		}
		if d.f.GetStringWidth(ln) > lay.addressTextMaxW {
			return fmt.Errorf("recipient line %d: %w: too wide for the window", i+1, ErrInvalid)
		}
		d.text(lay.addressTextX, lay.addressTop+float64(i)*lay.addressPitch, ln)
	}
	return nil
}

// infoBlock draws the labelled values right of the window.
func (d *doc) infoBlock() {
	lay := d.lay
	s := d.r.sender
	lg := d.l.language()
	y := lay.infoTop
	for _, kv := range []struct {
		label, value string
		mono         bool
	}{
		{lg.T("letter.info.date"), lg.Date(d.l.Date), false},
		{lg.T("letter.info.letter_no"), d.l.ID, true},
		{lg.T("letter.info.phone"), s.Phone, false},
		{lg.T("letter.info.web"), s.Web, false},
	} {
		d.font(famSans, "", lay.smallSize)
		d.grey(greyText)
		d.text(lay.infoX, y, kv.label)
		y += 3
		if kv.mono {
			d.font(famMono, "", 9)
		} else {
			d.font(famSans, "", 10)
		}
		d.grey(0)
		d.text(lay.infoX, y, kv.value)
		y += 5
	}
}

// footer draws the sender and the letter number at the bottom of the page.
func (d *doc) footer() {
	lay := d.lay
	s := d.r.sender
	d.f.SetDrawColor(greyRule, greyRule, greyRule)
	d.f.SetLineWidth(0.1)
	d.f.Line(lay.left, lay.footerRule, lay.pageW-lay.right, lay.footerRule)
	d.grey(greyText)
	d.font(famSans, "", lay.smallSize)
	d.text(lay.left, lay.footerTop, footerLine1(s))
	lg := d.l.language()
	d.text(lay.left, lay.footerTop+3.2, footerLine2(s, lg))
	d.font(famMono, "", lay.smallSize)
	id := lg.T("letter.footer.letter_no", d.l.ID)
	d.text(lay.pageW-lay.right-d.f.GetStringWidth(id), lay.footerTop+3.2, id)
	d.grey(0)
}

// alert draws the fraud notice with a bar on its left.
func (d *doc) alert(c content, textW float64) {
	lay := d.lay
	const indent = 4
	d.font(famSans, "B", lay.bodySize)
	bold := d.wrap(c.alertBold, textW-indent)
	d.font(famSans, "", lay.bodySize)
	rest := d.wrap(c.alertRest, textW-indent)
	d.room(len(bold) + len(rest))
	top := d.y
	d.font(famSans, "B", lay.bodySize)
	for _, ln := range bold {
		d.line(lay.left+indent, ln)
	}
	d.font(famSans, "", lay.bodySize)
	for _, ln := range rest {
		d.line(lay.left+indent, ln)
	}
	d.f.SetFillColor(0, 0, 0)
	d.f.Rect(lay.left, top, 1.2, d.y-top-0.6, "F")
	d.y += 2 * lay.paraGap
}

// secretBlock draws the framed block with the password (Passwortbrief only),
// the validity and the QR code, all at fixed positions on page one.
func (d *doc) secretBlock(code barcode.Barcode) error {
	lay := d.lay
	l := d.l
	lg := l.language()
	d.f.SetDrawColor(greyRule, greyRule, greyRule)
	d.f.SetLineWidth(0.3)
	b := lay.secretBox
	d.f.Rect(b.X, b.Y, b.W, b.H, "D")

	pl := lay.passwordLine
	y := pl.Y
	colW := lay.qrSlot.X - pl.X - 3
	d.grey(0)
	if l.Kind == KindPassword || l.Kind == KindPasswordReset {
		label := lg.T("letter.secret.initial_password")
		if l.Kind == KindPasswordReset {
			label = lg.T("letter.secret.reset_code")
		}
		baseline := y + 0.8*pl.H
		// The label takes what the longest password leaves of the line: a
		// longer label (as in English) is set smaller, down to 9 pt; the
		// password never is.
		size := 11.0
		d.font(famSans, "B", size)
		for size > 9 && pl.X+d.f.GetStringWidth(label)+3+d.r.longestPasswordW > pl.right() {
			size -= 0.5
			d.font(famSans, "B", size)
		}
		d.f.Text(pl.X, baseline, label)
		x := pl.X + d.f.GetStringWidth(label) + 3
		d.font(famMono, "", lay.passwordSize)
		pw := groupPassword(l.InitialPassword)
		w := d.f.GetStringWidth(pw)
		if x+w > pl.right() {
			return fmt.Errorf("%w: password wider than its line", errLayout)
		}
		d.f.Text(x, baseline, pw)
		if d.r.drawn != nil {
			d.r.drawn("password", rect{X: x, Y: y, W: w, H: pl.H})
		}
	} else {
		d.font(famSans, "B", 11)
		d.f.Text(pl.X, y+0.8*pl.H, lg.T("letter.secret.qr_heading"))
	}
	y += pl.H + 2
	d.font(famSans, "B", lay.bodySize)
	d.text(pl.X, y, lg.T("letter.secret.valid_until", lg.Date(l.ValidUntil)))
	y += lay.bodyPitch + 2

	var notes []string
	switch l.Kind {
	case KindPassword:
		notes = []string{lg.T("letter.secret.password_note"), lg.T("letter.secret.password_qr_note")}
	case KindPasswordReset:
		notes = []string{lg.T("letter.secret.reset_note"), lg.T("letter.secret.reset_qr_note")}
	default:
		notes = []string{lg.T("letter.secret.activation_note")}
	}
	d.font(famSans, "", 9)
	for _, n := range notes {
		for _, ln := range d.wrap(n, colW) {
			d.text(pl.X, y, ln)
			y += 4
		}
		y += 1
	}
	if y > b.bottom() {
		return fmt.Errorf("%w: notes run out of the secret block", errLayout)
	}

	if code == nil {
		return fmt.Errorf("%w: no QR code", errLayout)
	}
	d.qrCode(code, l.ActivationURL)
	s := lay.qrSlot
	d.font(famSans, "", lay.smallSize)
	d.grey(greyText)
	for i, ln := range []string{lg.T("letter.secret.qr_caption"), lg.T("letter.secret.qr_target", urlHost(l.ActivationURL))} {
		d.text(s.X+(s.W-d.f.GetStringWidth(ln))/2, lay.qrCaptionTop+float64(i)*3, ln)
	}
	d.grey(0)
	return nil
}

// pdfLang is the PDF's language entry for lg.
func pdfLang(lg lang.Language) string {
	if lg == lang.English {
		return "en-GB"
	}
	return "de-DE"
}

// encodeQR returns content as a QR code with error correction level M, or
// nil for an empty content.
func encodeQR(content string) (barcode.Barcode, error) {
	if content == "" {
		return nil, nil
	}
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return code, nil
}

// qrCode draws code filling the QR slot, quiet zone included. The code is
// one filled path in module units: a transformation maps modules to the page,
// and each horizontal run of dark modules is one rectangle. Filling all runs
// at once leaves no seams between rows when the page is rasterised and keeps
// the page content small (fpdf holds every page of a batch in memory). The
// code is also a link to target, what it carries: a letter opened on a
// screen leads there with a click, and a program reads it from the PDF
// without rendering the page and decoding the code.
func (d *doc) qrCode(code barcode.Barcode, target string) {
	lay := d.lay
	n := code.Bounds().Dx()
	s := lay.qrSlot
	m := s.W / float64(n+2*lay.qrQuietZone)
	x0 := s.X + float64(lay.qrQuietZone)*m
	y0 := s.Y + float64(lay.qrQuietZone)*m
	dark := func(x, y int) bool {
		r, _, _, _ := code.At(x, y).RGBA()
		return r < 0x8000
	}
	const ptPerMM = 72 / 25.4
	pt := func(v float64) string { return strconv.FormatFloat(v*ptPerMM, 'f', 3, 64) }
	var b strings.Builder
	// Save the graphics state, fill black, and put the origin at the code's
	// top left corner with one unit per module and y growing downwards.
	b.WriteString("q 0 g " + pt(m) + " 0 0 " + pt(-m) + " " + pt(x0) + " " + pt(lay.pageH-y0) + " cm\n")
	for y := range n {
		for x := 0; x < n; {
			if !dark(x, y) {
				x++
				continue
			}
			start := x
			for x < n && dark(x, y) {
				x++
			}
			fmt.Fprintf(&b, "%d %d %d 1 re\n", start, y, x-start)
		}
	}
	b.WriteString("f Q")
	d.f.RawWriteStr(b.String())
	d.f.LinkString(x0, y0, float64(n)*m, float64(n)*m, target)
	if d.r.drawn != nil {
		d.r.drawn("qr", rect{X: x0, Y: y0, W: float64(n) * m, H: float64(n) * m})
	}
}
