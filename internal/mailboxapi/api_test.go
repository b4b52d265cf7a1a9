package mailboxapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/session"
)

type listAnswer struct {
	Unread     int  `json:"unread"`
	Restricted bool `json:"restricted"`
	Threads    []struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
		Unread  int    `json:"unread"`
		LastAt  string `json:"last_at"`
	} `json:"threads"`
}

type threadAnswer struct {
	ID       string `json:"id"`
	Subject  string `json:"subject"`
	CanReply bool   `json:"can_reply"`
	Messages []struct {
		From        string `json:"from"`
		Text        string `json:"text"`
		HTML        string `json:"html"`
		Attachments []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"attachments"`
	} `json:"messages"`
}

// TestListBelowSubstantialShowsOnlyTheCount: a session at low gets the
// number of unread messages and nothing else; substantial gets subjects.
func TestListBelowSubstantialShowsOnlyTheCount(t *testing.T) {
	f := start(t)
	f.send(t, f.alice, "Ihr Antrag auf Kur", "Guten Tag")
	code, raw := f.call(t, "GET", "/api/v1/mailbox", f.token(t, f.alice, session.LevelLow), nil, nil)
	if code != http.StatusOK {
		t.Fatalf("low: %d %s", code, raw)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["unread"] != 1.0 || got["restricted"] != true {
		t.Errorf("low session's answer = %s, want only unread and restricted", raw)
	}
	if bytes.Contains(raw, []byte("Kur")) {
		t.Errorf("low session's answer holds the subject: %s", raw)
	}
	var list listAnswer
	if code, raw := f.call(t, "GET", "/api/v1/mailbox", f.token(t, f.alice, session.LevelSubstantial), nil, &list); code != http.StatusOK ||
		list.Restricted || len(list.Threads) != 1 || list.Threads[0].Subject != "Ihr Antrag auf Kur" || list.Unread != 1 {
		t.Errorf("substantial: %d %s", code, raw)
	}
	if code, _ := f.call(t, "GET", "/api/v1/mailbox/threads/"+list.Threads[0].ID, f.token(t, f.alice, session.LevelLow), nil, nil); code != http.StatusForbidden {
		t.Errorf("low session opens a thread: %d, want 403", code)
	}
	if code, _ := f.call(t, "GET", "/api/v1/mailbox", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("no session: %d, want 401", code)
	}
}

// TestAnotherPersonsThreadIsNotFound: bob reaches nothing of alice's, and
// the answer is the one for a thread that does not exist.
func TestAnotherPersonsThreadIsNotFound(t *testing.T) {
	f := start(t)
	id := f.send(t, f.alice, "Nur für Alice", "Geheim", file("a.pdf", pdfBytes(t)))
	var th threadAnswer
	if code, raw := f.call(t, "GET", "/api/v1/mailbox/threads/"+id, f.token(t, f.alice, session.LevelSubstantial), nil, &th); code != http.StatusOK {
		t.Fatalf("alice: %d %s", code, raw)
	}
	bob := f.token(t, f.bob, session.LevelHigh)
	_, missing := f.call(t, "GET", "/api/v1/mailbox/threads/thr_doesnotexist0000000000", bob, nil, nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/mailbox/threads/" + id},
		{"POST", "/api/v1/mailbox/threads/" + id + "/messages"},
		{"POST", "/api/v1/mailbox/threads/" + id + "/archive"},
		{"GET", "/api/v1/mailbox/attachments/" + th.Messages[0].Attachments[0].ID},
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"text": "hallo"}
			if strings.HasSuffix(c.path, "archive") {
				body = map[string]any{"archived": true}
			}
		}
		code, raw := f.call(t, c.method, c.path, bob, body, nil)
		if code != http.StatusNotFound {
			t.Errorf("bob %s %s: %d %s, want 404", c.method, c.path, code, raw)
		}
		if !strings.Contains(c.path, "attachments") && !bytes.Equal(raw, missing) {
			t.Errorf("bob %s %s answers %s, unlike a missing thread (%s)", c.method, c.path, raw, missing)
		}
	}
	if code, raw := f.call(t, "GET", "/api/v1/mailbox/search?q=Geheim", bob, nil, nil); code != http.StatusOK || bytes.Contains(raw, []byte(id)) {
		t.Errorf("bob's search: %d %s", code, raw)
	}
}

// TestConversationThroughTheAPIs: staff write with a PDF, the person reads
// it, downloads the PDF, answers with an image larger than the server's
// general body limit; staff find it in their inbox and read it.
func TestConversationThroughTheAPIs(t *testing.T) {
	f := start(t)
	pdf := pdfBytes(t)
	id := f.send(t, f.alice, "Rückfrage", "Bitte senden Sie uns [das Formular](https://kasse.example/f).", file("Formular.pdf", pdf))
	alice := f.token(t, f.alice, session.LevelSubstantial)
	var th threadAnswer
	if code, raw := f.call(t, "GET", "/api/v1/mailbox/threads/"+id, alice, nil, &th); code != http.StatusOK {
		t.Fatalf("open: %d %s", code, raw)
	}
	if !th.CanReply || len(th.Messages) != 1 || !strings.Contains(th.Messages[0].HTML, "(https://kasse.example/f)") {
		t.Errorf("thread = %+v", th)
	}
	a := th.Messages[0].Attachments[0]
	code, h, body := f.raw(t, "GET", a.URL, alice, "", nil)
	if code != http.StatusOK || !bytes.Equal(body, pdf) || h.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="Formular.pdf"`) || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("download: %d %v", code, h)
	}
	big := bigPDF(1_500_000)
	var sent struct{ ID string }
	if code, raw := f.call(t, "POST", "/api/v1/mailbox/threads/"+id+"/messages", alice,
		map[string]any{"text": "Anbei.", "attachments": []attachment{file("Formular-ausgefuellt.pdf", big), file("scan.png", pngBytes(t))}}, &sent); code != http.StatusCreated {
		t.Fatalf("reply with 1.5 MB: %d %s", code, raw)
	}
	var inbox struct {
		Threads []struct {
			ID            string `json:"id"`
			UnreadByStaff int    `json:"unread_by_staff"`
		} `json:"threads"`
	}
	if code, raw := f.call(t, "GET", "/api/v1/staff/mailbox/inbox", staffToken, nil, &inbox); code != http.StatusOK || len(inbox.Threads) != 1 || inbox.Threads[0].ID != id {
		t.Fatalf("staff inbox: %d %s", code, raw)
	}
	var sth threadAnswer
	if code, raw := f.call(t, "GET", "/api/v1/staff/mailbox/threads/"+id, staffToken, nil, &sth); code != http.StatusOK || len(sth.Messages) != 2 || sth.Messages[1].From != "person" {
		t.Fatalf("staff thread: %d %s", code, raw)
	}
	code, _, body = f.raw(t, "GET", sth.Messages[1].Attachments[0].URL, staffToken, "", nil)
	if code != http.StatusOK || !bytes.Equal(body, big) {
		t.Errorf("staff download: %d, %d bytes", code, len(body))
	}
	if code, raw := f.call(t, "POST", "/api/v1/staff/mailbox/threads/"+id+"/messages", staffToken, map[string]any{"author": "4711", "text": "Danke."}, nil); code != http.StatusCreated {
		t.Errorf("staff reply: %d %s", code, raw)
	}
	var list listAnswer
	f.call(t, "GET", "/api/v1/mailbox", alice, nil, &list)
	if list.Unread != 1 {
		t.Errorf("unread after the staff answer = %d, want 1", list.Unread)
	}
}

// TestStaffAPINeedsItsToken: no token, a wrong one and a person's session
// get 401 and store nothing.
func TestStaffAPINeedsItsToken(t *testing.T) {
	f := start(t)
	body := map[string]any{"kvnr": f.alice.KVNR, "author": "1", "subject": "s", "text": "x"}
	for name, tok := range map[string]string{
		"none":   "",
		"wrong":  strings.Repeat("x", len(staffToken)),
		"prefix": staffToken[:len(staffToken)-1],
		"person": f.token(t, f.alice, session.LevelHigh),
	} {
		if code, raw := f.call(t, "POST", "/api/v1/staff/mailbox/threads", tok, body, nil); code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", name, code, raw)
		}
		if code, _ := f.call(t, "GET", "/api/v1/staff/mailbox/inbox", tok, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("%s inbox: %d, want 401", name, code)
		}
	}
	var list listAnswer
	f.call(t, "GET", "/api/v1/mailbox", f.token(t, f.alice, session.LevelSubstantial), nil, &list)
	if len(list.Threads) != 0 {
		t.Errorf("a refused staff call stored %d threads", len(list.Threads))
	}
}

// TestBadInputAnswers: every bad request gets a 4xx with a German message,
// never a 5xx, and stores nothing.
func TestBadInputAnswers(t *testing.T) {
	f := start(t)
	id := f.send(t, f.alice, "s", "x")
	alice := f.token(t, f.alice, session.LevelSubstantial)
	reply := "/api/v1/mailbox/threads/" + id + "/messages"
	tests := []struct {
		name   string
		path   string
		token  string
		ct     string
		body   string
		status int
	}{
		{"not JSON", reply, alice, "application/json", "text=x", 400},
		{"no content type", reply, alice, "", `{"text":"x"}`, 400},
		{"unknown field", reply, alice, "application/json", `{"text":"x","html":"<b>"}`, 400},
		{"field twice", reply, alice, "application/json", `{"text":"x","text":"y"}`, 400},
		{"wrong type", reply, alice, "application/json", `{"text":1}`, 400},
		{"trailing data", reply, alice, "application/json", `{"text":"x"} {}`, 400},
		{"bad base64", reply, alice, "application/json", `{"text":"x","attachments":[{"name":"a.pdf","content":"%%%"}]}`, 400},
		{"wrong type of file", reply, alice, "application/json", `{"text":"x","attachments":[{"name":"a.pdf","content":"PGh0bWw+"}]}`, 400},
		{"path in name", reply, alice, "application/json", `{"text":"x","attachments":[{"name":"../a.pdf","content":"JVBERi0="}]}`, 400},
		{"empty text", reply, alice, "application/json", `{"text":"  "}`, 400},
		{"script in text is kept as text", "", alice, "", "", 0},
		{"invalid UTF-8", reply, alice, "application/json", "{\"text\":\"\xff\"}", 400},
		{"garbage id", "/api/v1/mailbox/threads/%00%2e%2e/messages", alice, "application/json", `{"text":"x"}`, 404},
		{"long id", "/api/v1/mailbox/threads/" + strings.Repeat("a", 500), alice, "", "", 404},
		{"too large", reply, alice, "application/json", `{"text":"` + strings.Repeat("a", 20<<20) + `"}`, 413},
		{"archive without value", "/api/v1/mailbox/threads/" + id + "/archive", alice, "application/json", `{}`, 400},
		{"staff: unknown KVNR", "/api/v1/staff/mailbox/threads", staffToken, "application/json", `{"kvnr":"A000000005","author":"1","subject":"s","text":"x"}`, 404},
		{"staff: bad KVNR", "/api/v1/staff/mailbox/threads", staffToken, "application/json", `{"kvnr":"x","author":"1","subject":"s","text":"x"}`, 400},
		{"staff: bad date", "/api/v1/staff/mailbox/threads", staffToken, "application/json", `{"kvnr":"` + f.alice.KVNR + `","author":"1","subject":"s","text":"x","reply_by":"31.12.2026"}`, 400},
		{"staff: past date", "/api/v1/staff/mailbox/threads", staffToken, "application/json", `{"kvnr":"` + f.alice.KVNR + `","author":"1","subject":"s","text":"x","reply_by":"2020-01-01"}`, 400},
		{"staff: no author", "/api/v1/staff/mailbox/threads", staffToken, "application/json", `{"kvnr":"` + f.alice.KVNR + `","subject":"s","text":"x"}`, 400},
		{"staff: html subject with control", "/api/v1/staff/mailbox/threads", staffToken, "application/json", `{"kvnr":"` + f.alice.KVNR + `","author":"1","subject":"a\u0007<script>","text":"x"}`, 400},
	}
	for _, tt := range tests {
		if tt.path == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.body == "" {
				method = "GET"
			}
			code, h, raw := f.raw(t, method, tt.path, tt.token, tt.ct, []byte(tt.body))
			if code != tt.status {
				t.Errorf("status %d (%s), want %d", code, raw, tt.status)
			}
			if strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				var e struct{ Error, Message string }
				if err := json.Unmarshal(raw, &e); err != nil || e.Message == "" {
					t.Errorf("answer %s: no German message", raw)
				}
			}
		})
	}
	var th threadAnswer
	f.call(t, "GET", "/api/v1/mailbox/threads/"+id, alice, nil, &th)
	if len(th.Messages) != 1 {
		t.Errorf("bad input stored messages: %d, want 1", len(th.Messages))
	}
	// HTML in a person's text stays text.
	if code, _ := f.call(t, "POST", reply, alice, map[string]any{"text": "<script>alert(1)</script>"}, nil); code != http.StatusCreated {
		t.Fatalf("reply: %d", code)
	}
	f.call(t, "GET", "/api/v1/mailbox/threads/"+id, alice, nil, &th)
	if got := th.Messages[1].HTML; strings.Contains(got, "<script") || !strings.Contains(got, "&lt;script&gt;") {
		t.Errorf("the person's script as HTML: %q", got)
	}
}
