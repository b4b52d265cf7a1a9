package letter

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
)

// ErrNoActivationLink: the PDF holds no activation link.
var ErrNoActivationLink = errors.New("letter: no activation link in the PDF")

// maxLinkLen bounds a link read back from a PDF.
const maxLinkLen = 2048

// ActivationLink returns the activation URL of the first letter in pdf: the
// link its QR code carries (Render puts one on the code). It reads the page
// objects and needs neither a renderer nor a QR decoder, so the phone
// simulator reads a letter the way a person clicking the code in a PDF
// viewer does. The letter's tests check that the link and the decoded code
// agree.
func ActivationLink(pdf []byte) (string, error) {
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("/URI ("))
		if i < 0 {
			return "", ErrNoActivationLink
		}
		rest = rest[i+len("/URI ("):]
		link, n, ok := pdfString(rest)
		if !ok {
			return "", ErrNoActivationLink
		}
		rest = rest[n:]
		u, err := url.Parse(link)
		if err == nil && strings.HasSuffix(u.Path, "/app/activate") && u.Fragment != "" {
			return link, nil
		}
	}
}

// pdfString reads a PDF literal string after its opening parenthesis: it
// returns the text, how many bytes it took (the closing parenthesis
// included), and false when it does not end or is implausibly long.
func pdfString(b []byte) (string, int, bool) {
	var out strings.Builder
	depth := 0
	for i := 0; i < len(b) && i < maxLinkLen; i++ {
		switch c := b[i]; c {
		case '\\':
			i++
			if i >= len(b) {
				return "", 0, false
			}
			switch e := b[i]; e {
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			default:
				out.WriteByte(e) // \\ \( \) and anything else: the character itself
			}
		case '(':
			depth++
			out.WriteByte(c)
		case ')':
			if depth == 0 {
				return out.String(), i + 1, true
			}
			depth--
			out.WriteByte(c)
		default:
			out.WriteByte(c)
		}
	}
	return "", 0, false
}
