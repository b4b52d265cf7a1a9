package letter

// rect is an area of the page in millimetres from the top left corner.
type rect struct {
	X, Y, W, H float64
}

func (r rect) right() float64  { return r.X + r.W }
func (r rect) bottom() float64 { return r.Y + r.H }

// overlaps reports whether r and o share any area.
func (r rect) overlaps(o rect) bool {
	return r.X < o.right() && o.X < r.right() && r.Y < o.bottom() && o.Y < r.bottom()
}

// layout holds every position and size the renderer uses. Lengths are in
// millimetres, font sizes in points. There is one value, pageLayout; tests
// read it to prove where secrets are drawn.
type layout struct {
	pageW, pageH float64

	left, right float64 // text margins
	bodyBottom  float64 // text below this flows onto the next page

	headNameY, headAddressY float64 // baselines of the letterhead

	window          rect    // the address field, which the envelope window shows
	returnLineY     float64 // baseline of the return line
	addressTop      float64 // top of the first address line (Anschriftzone)
	addressPitch    float64 // distance between address lines
	addressSize     float64 // font size of the address
	addressMinSize  float64 // smallest size a too-wide address line is shrunk to
	addressTextX    float64 // x of the address text inside the window
	addressTextMaxW float64 // width the address text may use

	infoX, infoTop, infoW float64 // the info block right of the window

	foldMarks []float64 // y of the fold marks
	holeMark  float64   // y of the hole mark
	markX     float64   // x where the marks start
	markLen   float64   // length of a fold mark
	holeLen   float64   // length of the hole mark

	subjectTop float64 // top of the subject line

	bodySize, bodyPitch, paraGap float64 // body text
	smallSize                    float64 // captions, return line, footer

	secretBox rect // frame around the secret block, fixed on page one
	// passwordLine is where the label "Initialpasswort:" and the password are
	// set, one line; the password starts after the label.
	passwordLine rect
	passwordSize float64
	// qrSlot holds the QR code including its quiet zone of four modules on
	// every side. The code is scaled to fill the slot, so its width is
	// qrSlot.W * n / (n + 8) for an n-module code: at least 25 mm.
	qrSlot       rect
	qrQuietZone  int     // modules of quiet zone inside the slot
	qrCaptionTop float64 // top of the caption below the slot

	footerRule float64 // y of the thin rule above the footer
	footerTop  float64 // top of the first footer line
}

// pageLayout is the one layout of every letter: DIN 5008 form B on A4.
var pageLayout = layout{
	pageW: 210, pageH: 297,

	left: 25, right: 20,
	bodyBottom: 276,

	headNameY: 22, headAddressY: 28,

	window:          rect{X: 20, Y: 45, W: 85, H: 45},
	returnLineY:     50.5,
	addressTop:      62.7,
	addressPitch:    4.5,
	addressSize:     10,
	addressMinSize:  8,
	addressTextX:    25,
	addressTextMaxW: 78,

	infoX: 125, infoTop: 50, infoW: 65,

	foldMarks: []float64{105, 210},
	holeMark:  148.5,
	markX:     4,
	markLen:   5,
	holeLen:   8,

	subjectTop: 98.46,

	bodySize: 10, bodyPitch: 4.4, paraGap: 2.4,
	smallSize: 7,

	secretBox:    rect{X: 25, Y: 132, W: 165, H: 50},
	passwordLine: rect{X: 30, Y: 140, W: 114, H: 7},
	passwordSize: 13,
	qrSlot:       rect{X: 149, Y: 134, W: 38, H: 38},
	qrQuietZone:  4,
	qrCaptionTop: 173,

	footerRule: 281,
	footerTop:  283,
}

// ptToMM converts a font size in points to millimetres.
func ptToMM(pt float64) float64 { return pt * 25.4 / 72 }
