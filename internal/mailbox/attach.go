package mailbox

import (
	"bytes"
	"compress/zlib"
	"errors"
	"image"
	_ "image/jpeg" // registers JPEG for image.DecodeConfig and image.Decode
	_ "image/png"  // registers PNG
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/lang"
)

// The attachment types a message may carry.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// extensions maps a lower-case file name extension to the type the bytes
// must have.
var extensions = map[string]string{".pdf": TypePDF, ".jpg": TypeJPEG, ".jpeg": TypeJPEG, ".png": TypePNG}

// Upload is a file attached to a message as it arrives.
type Upload struct {
	Name    string
	Content []byte
}

// checkName returns the file name as it is kept, or an *InputError: a plain
// name (no folder, no "..", no control, format or bidi characters such as
// the right-to-left override that makes "rechnung‮fdp.exe" look like a
// PDF), at most 120 characters, ending in .pdf, .jpg, .jpeg or .png.
func checkName(name string) (string, string, error) {
	bad := &InputError{Field: "attachments", Msg: "Der Dateiname „" + printable(name) + "“ ist nicht zulässig. Bitte benennen Sie die Datei um (nur Buchstaben, Ziffern, Leerzeichen, Punkt, Binde- und Unterstrich) und versuchen Sie es noch einmal.", Text: lang.Key("mailbox.input.file_name", printable(name))}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 120 {
		return "", "", bad
	}
	if strings.ContainsAny(name, `/\:`) || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return "", "", bad
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ') {
			return "", "", bad
		}
	}
	typ, ok := extensions[strings.ToLower(path.Ext(name))]
	if !ok {
		return "", "", &InputError{Field: "attachments", Msg: "Die Datei „" + printable(name) + "“ hat keinen erlaubten Typ. Anhängen können Sie PDF-Dateien und Bilder im Format JPEG oder PNG.", Text: lang.Key("mailbox.input.file_type", printable(name))}
	}
	return name, typ, nil
}

// printable is name cut to what a message may show of it.
func printable(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() > 60 {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r) {
			b.WriteRune(r)
		} else {
			b.WriteRune('�')
		}
	}
	return b.String()
}

// sniff returns the type the bytes have, "" when none of the three.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	}
	return ""
}

// checkContent checks that the bytes are what the name says, and that they
// parse: an image decodes (after its declared size is checked against
// maxPixels, so a small file cannot unpack into gigabytes), and a PDF passes
// checkPDF.
func checkContent(name, typ string, b []byte, maxPixels int) error {
	if got := sniff(b); got != typ {
		return &InputError{Field: "attachments", Msg: "Der Inhalt der Datei „" + printable(name) + "“ passt nicht zu ihrem Namen. Bitte hängen Sie die Datei in ihrem eigenen Format an (PDF, JPEG oder PNG).", Text: lang.Key("mailbox.input.file_mismatch", printable(name))}
	}
	broken := &InputError{Field: "attachments", Msg: "Die Datei „" + printable(name) + "“ ist beschädigt oder kann nicht sicher geöffnet werden. Bitte speichern Sie sie neu (zum Beispiel als PDF) und versuchen Sie es noch einmal.", Text: lang.Key("mailbox.input.file_broken", printable(name))}
	switch typ {
	case TypeJPEG, TypePNG:
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/cfg.Height {
			return broken
		}
		if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
			return broken
		}
	case TypePDF:
		if err := checkPDF(b); err != nil {
			return broken
		}
	}
	return nil
}

var (
	pdfHeader    = regexp.MustCompile(`^%PDF-(1\.[0-7]|2\.0)[\r\n]`)
	pdfStartXref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	pdfObjAt     = regexp.MustCompile(`^\d+\s+\d+\s+obj\b`)
	pdfName      = regexp.MustCompile(`/[^\s/<>\[\]()%{}]+`)
)

// activeNames are PDF names of content that acts by itself or carries other
// files; a message's PDF may have none of them.
var activeNames = map[string]bool{"/JavaScript": true, "/JS": true, "/Launch": true, "/EmbeddedFile": true,
	"/EF": true, "/RichMedia": true, "/XFA": true, "/SubmitForm": true, "/ImportData": true, "/Encrypt": true}

// errPDF is why a PDF is refused; the person is told only that it cannot
// be opened safely.
var errPDF = errors.New("mailbox: pdf refused")

// maxInflate bounds what the compressed streams of one PDF may unpack to
// together, and inflateRatio what they may unpack to compared with the
// file: beyond either the PDF is a decompression bomb.
const (
	maxInflate   = 64 << 20
	inflateRatio = 100
)

// checkPDF checks a PDF's frame without rendering it: the header, a
// cross-reference table or stream where startxref points, the end marker;
// that its compressed streams unpack without error to a bounded size; and
// that neither the file nor its unpacked streams name active content
// (JavaScript, launch actions, embedded files, XFA forms) or encryption
// (which would hide all of that). Names are compared after their #xx escapes
// are decoded, so "/J#61vaScript" is "/JavaScript".
func checkPDF(b []byte) error {
	if !pdfHeader.Match(b) {
		return errPDF
	}
	tail := b[max(0, len(b)-1024):]
	m := pdfStartXref.FindSubmatch(tail)
	if m == nil {
		return errPDF
	}
	off, err := strconv.Atoi(string(m[1]))
	if err != nil || off <= 0 || off >= len(b) {
		return errPDF
	}
	at := b[off:]
	if !bytes.HasPrefix(at, []byte("xref")) && !pdfObjAt.Match(at) {
		return errPDF
	}
	skeleton, parts, ok := streams(b)
	if !ok || hasActive(skeleton) {
		return errPDF
	}
	budget := min(int64(maxInflate), int64(len(b))*inflateRatio)
	for _, p := range parts {
		if !bytes.Contains(p.dict, []byte("/FlateDecode")) {
			continue // images (DCT) and other filters are not unpacked here
		}
		zr, err := zlib.NewReader(bytes.NewReader(p.data))
		if err != nil {
			return errPDF
		}
		var out bytes.Buffer
		n, err := io.Copy(&out, io.LimitReader(zr, budget+1))
		if n > budget || err != nil {
			return errPDF
		}
		budget -= n
		// Objects packed into an object stream are scanned like the
		// file's own; page contents and pixels are not names.
		if bytes.Contains(p.dict, []byte("/ObjStm")) && hasActive(out.Bytes()) {
			return errPDF
		}
	}
	return nil
}

// stream is one stream of a PDF: its dictionary and its raw data.
type stream struct{ dict, data []byte }

var streamStart = regexp.MustCompile(`>>\s*stream\r?\n`)

// streams splits a PDF into its skeleton (everything but stream data, where
// the objects and their names are) and its streams. ok is false when a
// stream has no end.
func streams(b []byte) (skeleton []byte, parts []stream, ok bool) {
	pos := 0
	for {
		loc := streamStart.FindIndex(b[pos:])
		if loc == nil {
			return append(skeleton, b[pos:]...), parts, true
		}
		start := pos + loc[1]
		end := bytes.Index(b[start:], []byte("endstream"))
		if end < 0 {
			return nil, nil, false
		}
		dictFrom := bytes.LastIndex(b[pos:pos+loc[0]], []byte("obj"))
		if dictFrom < 0 {
			return nil, nil, false
		}
		skeleton = append(skeleton, b[pos:start]...)
		parts = append(parts, stream{dict: b[pos+dictFrom : pos+loc[0]+2], data: b[start : start+end]})
		pos = start + end
	}
}

// hasActive reports whether b names active content.
func hasActive(b []byte) bool {
	for _, n := range pdfName.FindAll(b, -1) {
		if activeNames[decodeName(n)] {
			return true
		}
	}
	return false
}

// decodeName decodes the #xx escapes of a PDF name.
func decodeName(n []byte) string {
	if !bytes.Contains(n, []byte("#")) {
		return string(n)
	}
	var out []byte
	for i := 0; i < len(n); i++ {
		if n[i] == '#' && i+2 < len(n) {
			if v, err := strconv.ParseUint(string(n[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, n[i])
	}
	return string(out)
}
