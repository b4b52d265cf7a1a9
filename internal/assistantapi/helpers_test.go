package assistantapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/assistant"
)

// headerSessions reads the session from test headers: X-Level and
// X-Person. A real node reads its session cookie or bearer token.
type headerSessions struct{}

func (headerSessions) SessionLevel(r *http.Request) (level, person string, ok bool) {
	level, person = r.Header.Get("X-Level"), r.Header.Get("X-Person")
	return level, person, level != ""
}

// recordingMailbox keeps what was sent to staff.
type recordingMailbox struct {
	mu    sync.Mutex
	sent  []assistant.Draft
	whose []string
}

func (m *recordingMailbox) SendToStaff(_ context.Context, person string, d assistant.Draft) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, d)
	m.whose = append(m.whose, person)
	return nil
}

func newAssistant(t testing.TB) *assistant.Assistant {
	t.Helper()
	a, err := assistant.New(assistant.Config{
		InsurerName: "Testkasse", Phone: "0800 111 222", OpeningHours: "montags bis freitags von 8 bis 18 Uhr",
		LetterDays: 4, LetterLimit: 3, LetterWindowDays: 30, InitialPasswordDays: 30, PasswordMinLength: 10,
		PasswordChangesPerDay: 5, PINAttempts: 3, MaxDevices: 3, ApprovalMinutes: 5, EIDMinutes: 15,
	}, assistant.KnowledgeBase(), assistant.NewMemoryConversations(100), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fixture is a server with the API and the page, and the mailbox behind
// them (nil mailbox: none).
type fixture struct {
	srv     *httptest.Server
	mailbox *recordingMailbox
}

func newFixture(t testing.TB, withMailbox bool, cfg Config) *fixture {
	t.Helper()
	a := newAssistant(t)
	f := &fixture{}
	var mb Mailbox
	if withMailbox {
		f.mailbox = &recordingMailbox{}
		mb = f.mailbox
	}
	mux := http.NewServeMux()
	for p, h := range NewAPI(cfg, a, headerSessions{}, mb, nil).Routes() {
		mux.Handle(p, h)
	}
	for p, h := range NewPage(cfg, a, headerSessions{}, mb, nil).Routes() {
		mux.Handle(p, h)
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// post sends body to path with the content type and extra headers
// ("Name: value") and returns status, headers and body.
func (f *fixture) post(t testing.TB, path, contentType, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	return f.do(t, req)
}

func (f *fixture) get(t testing.TB, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, req)
}

func (f *fixture) do(t testing.TB, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b.String()
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

const formType = "application/x-www-form-urlencoded"
