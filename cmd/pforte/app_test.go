package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/demo"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

const appTestPIN = "582094"

func TestAppEndToEnd(t *testing.T) {
	pdftotext := needTool(t, "pdftotext")
	dir := filepath.Join(t.TempDir(), "pforte-data")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	env := &environment{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env, []string{"demo", "--dir", dir, "--listen", "127.0.0.1:0", "--eid-listen", "127.0.0.1:0", "--persons", "20"})
		pw.Close()
	}()
	var base string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "demo is running at "); ok {
			base = strings.Fields(after)[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatal("demo did not say where it runs")
	}
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("demo did not stop")
		}
	}()

	raw, err := os.ReadFile(filepath.Join(dir, "registry.csv"))
	if err != nil {
		t.Fatal(err)
	}
	samples := demo.Samples(raw, 1)
	if len(samples) == 0 {
		t.Fatal("no sample person")
	}
	p := samples[0]
	post := func(path, token string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		for try := 0; ; try++ {
			req, _ := http.NewRequestWithContext(ctx, "POST", base+path, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			// The demo limits logins per client address; a client waits as
			// Retry-After says.
			if resp.StatusCode == http.StatusTooManyRequests && try < 3 {
				wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
				time.Sleep(time.Duration(max(wait, 1)) * time.Second)
				continue
			}
			return resp.StatusCode, out
		}
	}
	if code, body := post("/api/v1/access-requests", "", map[string]string{"kvnr": p.KVNR, "postal_code": p.PostalCode,
		"birth_date": p.BirthDate, "method": "letter"}); code != http.StatusAccepted {
		t.Fatalf("access request: %d %v", code, body)
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "letters", "*.pdf"))
	if len(pdfs) != 1 {
		t.Fatalf("letters folder holds %d PDFs, want 1", len(pdfs))
	}
	text, err := exec.Command(pdftotext, "-layout", pdfs[0], "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Initialpasswort:\s+((?:[A-Z2-9]{4} ?){4})`).FindSubmatch(text)
	if m == nil {
		t.Fatalf("no initial password in the letter:\n%s", text)
	}
	const password = "Kastanienbaum im Herbstwind"
	code, body := post("/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": string(m[1])})
	if code != http.StatusCreated {
		t.Fatalf("first login: %d %v", code, body)
	}
	portal := body["session_token"].(string)
	// With the letter's initial password the session may only replace it.
	{
		req, _ := http.NewRequestWithContext(ctx, "PUT", base+"/api/v1/me/address", strings.NewReader(`{"street":"X","postal_code":"12345","city":"Y"}`))
		req.Header.Set("Authorization", "Bearer "+portal)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("address change before choosing a password: %d", resp.StatusCode)
		}
	}
	if code, body := post("/api/v1/password", portal, map[string]string{"current_password": string(m[1]),
		"new_password": password}); code != http.StatusNoContent {
		t.Fatalf("choose password: %d %v", code, body)
	}

	c := newCLI(t)
	state := filepath.Join(t.TempDir(), "phone.json")
	step := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := c.run("", append([]string{"app", args[0], "--state", state}, args[1:]...)...)
		if code != want {
			t.Fatalf("pforte app %s: exit code %d, want %d; stderr %q", strings.Join(args, " "), code, want, errOut)
		}
		return out + errOut
	}
	out := step(0, "activate", "--server", base, "--letter", pdfs[0], "--kvnr", p.KVNR, "--password", password,
		"--pin", appTestPIN, "--name", "Testtelefon", "--json")
	var bound map[string]string
	if err := json.Unmarshal([]byte(out), &bound); err != nil || bound["device_id"] == "" || bound["level"] != "substantial" {
		t.Fatalf("activate printed %q (%v)", out, err)
	}
	if out := step(0, "login", "--pin", appTestPIN); !strings.Contains(out, "substantial") || !strings.Contains(out, "hwk pin") {
		t.Errorf("login printed %q", out)
	}
	if out := step(3, "login", "--pin", "000007"); !strings.Contains(out, "remaining") {
		t.Errorf("wrong PIN printed %q", out)
	}
	// The state file keeps the app session (package phone's format).
	stateFile, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		SessionToken string `json:"session_token"`
	}
	if err := json.Unmarshal(stateFile, &st); err != nil {
		t.Fatal(err)
	}
	devs, err := (&appclient.Client{BaseURL: base}).Devices(ctx, st.SessionToken)
	if err != nil || len(devs) != 1 || devs[0].ID != bound["device_id"] || devs[0].Name != "Testtelefon" {
		t.Errorf("Devices = %+v, %v", devs, err)
	}

	// An address change waits for the phone; approved there, it is applied,
	// and a notice goes to the old address.
	bearerTok := portal
	request := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearerTok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	// The phone's push channel (server-sent events) announces the request.
	appState := st
	streamCtx, stopStream := context.WithTimeout(ctx, 20*time.Second)
	defer stopStream()
	sreq, _ := http.NewRequestWithContext(streamCtx, "GET", base+"/api/v1/app/approvals/events", nil)
	sreq.Header.Set("Authorization", "Bearer "+appState.SessionToken)
	stream, err := http.DefaultClient.Do(sreq)
	if err != nil || stream.StatusCode != 200 || !strings.HasPrefix(stream.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream: %v %v", err, stream)
	}
	defer stream.Body.Close()
	pushed := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok && event == "approval" {
				pushed <- v
				return
			}
		}
	}()
	newAddr := map[string]string{"street": "Lindenallee", "house_number": "3", "postal_code": "04109", "city": "Leipzig"}
	// A password-only session cannot even ask: the policy config.Needs substantial.
	if code, body := request("PUT", "/api/v1/me/address", newAddr); code != http.StatusForbidden || body["error"] != "session_level_too_low" {
		t.Fatalf("address change from a password session: %d %v, want 403 session_level_too_low", code, body)
	}
	bearerTok = appState.SessionToken
	code, change := request("PUT", "/api/v1/me/address", newAddr)
	if code != http.StatusAccepted || change["status"] != "pending" {
		t.Fatalf("address change: %d %v", code, change)
	}
	id := change["approval_id"].(string)
	// A password alone does not show what waits for approval.
	bearerTok = portal
	if code, body := request("GET", "/api/v1/app/approvals", nil); code != http.StatusForbidden {
		t.Errorf("pending approvals with a password session: %d %v", code, body)
	}
	bearerTok = appState.SessionToken
	select {
	case data := <-pushed:
		if !strings.Contains(data, id) || !strings.Contains(data, "Neue Anschrift: Lindenallee 3, 04109 Leipzig") {
			t.Errorf("pushed event %s", data)
		}
	case <-streamCtx.Done():
		t.Error("the event stream announced nothing")
	}
	stopStream()
	if out := step(0, "approvals"); !strings.Contains(out, "Neue Anschrift: Lindenallee 3, 04109 Leipzig") || !strings.Contains(out, id) {
		t.Errorf("approvals printed %q", out)
	}
	step(0, "approve", "--id", id, "--pin", appTestPIN)
	if code, st := request("GET", "/api/v1/approvals/"+id, nil); code != 200 || st["status"] != "approved" || st["executed"] != true {
		t.Errorf("approval status: %d %v", code, st)
	}
	code, me := request("GET", "/api/v1/me", nil)
	if addr, _ := me["address"].(map[string]any); code != 200 || addr["city"] != "Leipzig" {
		t.Errorf("me after the change: %d %v", code, me)
	}
	// The notice was queued with the change; the node's deliverer turns it
	// into a letter right after (kicked by the approval), so wait briefly.
	notice, letters := waitForLetter(t, pdftotext, filepath.Join(dir, "letters"), "Ihre Anschrift wurde geändert")
	if !strings.Contains(notice, p.PostalCode) {
		t.Errorf("no address-change notice to the old address (%s) among %d letters", p.PostalCode, len(letters))
	}
	// The outbox holds the change for the core system (the demo configures no
	// outbox client, so read the demo's database).
	demoDB := sqltest.Open(t, "sqlite:"+filepath.Join(dir, "pforte.db"))
	events, err := demoDB.OutboxAfter(ctx, 0, 10)
	if err != nil || len(events) != 1 || events[0].ID != "approval:"+id || events[0].Type != "address.changed" {
		t.Errorf("outbox = %+v, %v", events, err)
	}
	// Declined ("this was not me"): nothing changes.
	_, change = request("PUT", "/api/v1/me/address", map[string]string{"street": "Fremdweg", "house_number": "1", "postal_code": "20095", "city": "Hamburg"})
	id = change["approval_id"].(string)
	step(0, "decline", "--id", id, "--not-me")
	if _, st := request("GET", "/api/v1/approvals/"+id, nil); st["status"] != "declined" {
		t.Errorf("declined status: %v", st)
	}
	if _, me := request("GET", "/api/v1/me", nil); me["address"].(map[string]any)["city"] != "Leipzig" {
		t.Errorf("a declined change was applied: %v", me)
	}
	step(5, "approve", "--id", id, "--pin", appTestPIN)

	step(0, "change-pin", "--pin", appTestPIN, "--new-pin", "905173")
	step(3, "login", "--pin", appTestPIN)
	step(0, "login", "--pin", "905173")
	step(0, "unbind", "--pin", "905173")
	step(1, "login", "--pin", "905173")
	waitForLetter(t, pdftotext, filepath.Join(dir, "letters"), "von Ihrem Zugang getrennt")

	// Without a phone, a password login asks the app to bind one; the person
	// can order an activation letter (QR code only).
	code, body = post("/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": password})
	if code != http.StatusCreated || body["device_binding_required"] != true {
		t.Fatalf("login without a phone: %d %v", code, body)
	}
	// The address was changed by the person (approved on the phone, but not
	// checked against the register), so the letter waits for staff review.
	before, _ := filepath.Glob(filepath.Join(dir, "letters", "*.pdf"))
	if code, body := post("/api/v1/activation-letters", body["session_token"].(string), map[string]string{}); code != http.StatusAccepted || body["in_review"] != true {
		t.Errorf("activation letter: %d %v", code, body)
	}
	if after, _ := filepath.Glob(filepath.Join(dir, "letters", "*.pdf")); len(after) != len(before) {
		t.Errorf("a letter to an unverified address was printed: before %d, after %d", len(before), len(after))
	}
}

// waitForLetter waits up to 10 s for a letter in dir whose text contains want
// (notices become letters right after their change, on the node's
// deliverer), and returns its text and the letters there.
func waitForLetter(t *testing.T, pdftotext, dir, want string) (string, []string) {
	t.Helper()
	var letters []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		letters, _ = filepath.Glob(filepath.Join(dir, "*.pdf"))
		for _, l := range letters {
			txt, err := exec.Command(pdftotext, "-layout", l, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext %s: %v", l, err)
			}
			if strings.Contains(string(txt), want) {
				return string(txt), letters
			}
		}
	}
	t.Errorf("no letter with %q among %d letters within 10 s", want, len(letters))
	return "", letters
}
