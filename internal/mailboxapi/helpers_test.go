package mailboxapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

const staffToken = "staff-token-for-tests-0123456789abcdef"

// fixture is a node with two insured persons and the staff API open.
type fixture struct {
	n          *nodetest.Node
	alice, bob store.Person
	password   string // both persons'
}

func start(t *testing.T) *fixture {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) { c.StaffToken = staffToken }})
	in := n.Insure(t, 2)
	return &fixture{n: n, alice: in.Persons[0], bob: in.Persons[1], password: in.Password}
}

// token is a session of p at level, as a bearer token.
func (f *fixture) token(t *testing.T, p store.Person, level session.Level) string {
	t.Helper()
	origin := session.OriginPassword
	if level != session.LevelLow {
		origin = session.OriginDevice
	}
	tok, _, err := f.n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: "app", Level: level, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// call sends body (JSON unless it is raw bytes) and decodes the answer
// into out when out is not nil; it returns the status and raw answer.
func (f *fixture) call(t *testing.T, method, path, token string, body any, out any) (int, []byte) {
	t.Helper()
	code, raw := nodetest.CallAPI(t, method, f.n.URL+path, token, body)
	if out != nil && code < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return code, raw
}

// raw sends body as it is with content type ct.
func (f *fixture) raw(t *testing.T, method, path, token, ct string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.n.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// send writes from staff to p and returns the thread id.
func (f *fixture) send(t *testing.T, p store.Person, subject, text string, files ...attachment) string {
	t.Helper()
	var out struct{ ID string }
	body := map[string]any{"kvnr": p.KVNR, "author": "4711", "subject": subject, "text": text}
	if len(files) > 0 {
		body["attachments"] = files
	}
	if code, raw := f.call(t, "POST", "/api/v1/staff/mailbox/threads", staffToken, body, &out); code != http.StatusCreated {
		t.Fatalf("staff send: %d %s", code, raw)
	}
	return out.ID
}

type attachment struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

func file(name string, b []byte) attachment {
	return attachment{Name: name, Content: base64.StdEncoding.EncodeToString(b)}
}

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

// bigPDF is a valid PDF of about n bytes: one uncompressed stream.
func bigPDF(n int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	o1 := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	o2 := b.Len()
	fmt.Fprintf(&b, "2 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", n, strings.Repeat("0", n))
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", o1, o2, x)
	return b.Bytes()
}

func pngBytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
