package mailbox_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// fixture is a mailbox on a fresh store with two persons.
type fixture struct {
	st         store.Store
	svc        *mailbox.Service
	now        time.Time
	alice, bob store.Person
	ring       *seal.Keyring
}

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, cfg mailbox.Config) *fixture {
	t.Helper()
	st := testdb.Open(t)
	key, err := seal.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, now: testNow, ring: ring}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{
		{KVNR: "X110411675", FamilyName: "Muster", GivenNames: "Alice", BirthDate: "1980-01-02", PostalCode: "10115", Relation: store.RelationMember},
		{KVNR: "T555558879", FamilyName: "Beispiel", GivenNames: "Bob", BirthDate: "1970-03-04", PostalCode: "20095", Relation: store.RelationMember},
	}); err != nil {
		t.Fatal(err)
	}
	if f.alice, err = st.PersonByKVNR(t.Context(), "X110411675"); err != nil {
		t.Fatal(err)
	}
	if f.bob, err = st.PersonByKVNR(t.Context(), "T555558879"); err != nil {
		t.Fatal(err)
	}
	f.svc = mailbox.New(st, ring, mailbox.NewNoticeTexts(ring, "0800 123 456"), func() time.Time { return f.now }, cfg, nil)
	return f
}

// send starts a thread from staff to p and returns its id.
func (f *fixture) send(t *testing.T, p store.Person, subject, text string, ups ...mailbox.Upload) string {
	t.Helper()
	id, err := f.svc.Send(t.Context(), mailbox.Outgoing{KVNR: p.KVNR, Author: "staff:42", Subject: subject, Text: text, Attachments: ups})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	return id
}

// pdfBytes is a real one-page PDF.
func pdfBytes(t testing.TB) []byte {
	t.Helper()
	doc := fpdf.New("P", "mm", "A4", "")
	doc.AddPage()
	doc.SetFont("Helvetica", "", 12)
	doc.Cell(40, 10, "Bescheid")
	var buf bytes.Buffer
	if err := doc.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawPDF builds a PDF from object bodies with a correct cross-reference
// table, so that only what a case puts into the objects differs.
func rawPDF(objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objects))
	for i, o := range objects {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// flateStream is a PDF stream object of data, compressed.
func flateStream(data []byte) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(data)
	_ = w.Close()
	return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.String())
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngClaiming is a small PNG whose header claims w×h pixels (with a
// correct checksum): a decompression bomb's header.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	b := pngBytes(t, 1, 1)
	ihdr := b[8+8 : 8+8+13] // signature, length and type, then the 13 data bytes
	binary.BigEndian.PutUint32(ihdr[0:4], w)
	binary.BigEndian.PutUint32(ihdr[4:8], h)
	crc := crc32.ChecksumIEEE(b[8+4 : 8+8+13])
	binary.BigEndian.PutUint32(b[8+8+13:], crc)
	return b
}

func notInClear(t *testing.T, hay []byte, needles ...string) {
	t.Helper()
	for _, n := range needles {
		if bytes.Contains(hay, []byte(n)) {
			t.Errorf("stored bytes contain %q in clear", n)
		}
	}
}

// objStream is a compressed object stream holding data.
func objStream(data []byte) string {
	return strings.Replace(flateStream(data), "<< ", "<< /Type /ObjStm /N 1 /First 0 ", 1)
}
