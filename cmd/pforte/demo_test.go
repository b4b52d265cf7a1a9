package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/demo"
	"github.com/pforte/pforte/internal/node/nodetest"
)

// TestDemoServes runs `pforte demo` as a newcomer would and checks that it
// answers /healthz and /readyz, then stops cleanly.
func TestDemoServes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pforte-data")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	env := &environment{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env, []string{"demo", "--dir", dir, "--listen", "127.0.0.1:0", "--eid-listen", "127.0.0.1:0", "--persons", "50"})
		pw.Close()
	}()

	var base string
	var transcript strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		transcript.WriteString(line + "\n")
		if _, after, ok := strings.Cut(line, "demo is running at "); ok {
			base = strings.Fields(after)[0]
			break
		}
	}
	go io.Copy(io.Discard, pr) // keep the demo's output flowing
	if base == "" {
		t.Fatalf("demo did not say where it runs:\n%s", transcript.String())
	}
	if !strings.Contains(transcript.String(), "imported 50, updated 0, unchanged 0, skipped 0") {
		t.Errorf("demo import summary missing:\n%s", transcript.String())
	}
	client := &http.Client{Timeout: 30 * time.Second} // generous: a loaded machine, race detector
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
	if resp, err := http.Get(base + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "pforte_audit_head_seq ") {
			t.Error("/metrics lacks pforte_audit_head_seq")
		}
	}
	for _, name := range []string{"pforte.db", "data.key", "audit.key", "registry.csv"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is readable by others: %v", name, fi.Mode())
		}
	}
	t.Run("letter path", func(t *testing.T) {
		kvnr, pw := letterPath(t, base, dir)
		demoAppSignIn(t, base, kvnr, pw)
	})
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exit code %d after shutdown", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop after cancellation")
	}
	// A checkpoint at start and one at shutdown, the last at the head.
	keyText, err := os.ReadFile(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := audit.ParseKey(string(keyText))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "audit-checkpoints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := audit.ParseCheckpoints(f, key)
	if err != nil || len(cps) < 2 {
		t.Fatalf("checkpoints %v, %v; want at least the one at start and the one at shutdown", cps, err)
	}
	c := cli{t: t, environ: []string{"PFORTE_AUDIT_KEY_FILE=" + filepath.Join(dir, "audit.key")}}
	code, out, _ := c.run("", "audit", "verify", "--database", "sqlite:"+filepath.Join(dir, "pforte.db"),
		"--checkpoints", filepath.Join(dir, "audit-checkpoints.jsonl"))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("last entry %d ", cps[len(cps)-1].Seq)) ||
		!strings.Contains(out, fmt.Sprintf("intact: %d entries", cps[len(cps)-1].Seq)) {
		t.Errorf("verify after the demo: %d %q; want the last checkpoint at the head", code, out)
	}
}

func TestDemoRefusesNonLoopback(t *testing.T) {
	c := newCLI(t)
	code, _, errOut := c.run("", "demo", "--dir", t.TempDir(), "--listen", "0.0.0.0:8080")
	if code != 2 || !strings.Contains(errOut, "loopback") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

// letterPath walks the letter path through the demo's API: request access for a
// synthetic person, read the initial password from the letter PDF's text, log
// in, choose a password, log in with it. It returns the KVNR and the chosen
// password; it skips t when pdftotext is missing.
func letterPath(t *testing.T, base, dir string) (string, string) {
	t.Helper()
	pdftotext := needTool(t, "pdftotext")
	raw, err := os.ReadFile(filepath.Join(dir, "registry.csv"))
	if err != nil {
		t.Fatal(err)
	}
	samples := demo.Samples(raw, 1)
	if len(samples) == 0 {
		t.Fatal("no sample person with a verified address")
	}
	p := samples[0]
	post := func(path, token string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
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
		t.Fatalf("no initial password in the letter text:\n%s", text)
	}
	initial := string(m[1])
	code, body := post("/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": initial})
	if code != http.StatusCreated || body["must_change_password"] != true {
		t.Fatalf("first login: %d %v", code, body)
	}
	tok := body["session_token"].(string)
	if code, body := post("/api/v1/password", tok, map[string]string{"current_password": initial,
		"new_password": "Kastanienbaum im Herbstwind"}); code != http.StatusNoContent {
		t.Fatalf("choose password: %d %v", code, body)
	}
	if code, body := post("/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": initial}); code != http.StatusUnauthorized {
		t.Errorf("initial password after the change: %d %v", code, body)
	}
	if code, body := post("/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": "Kastanienbaum im Herbstwind"}); code != http.StatusCreated || body["must_change_password"] != false {
		t.Errorf("login with the chosen password: %d %v", code, body)
	}
	return p.KVNR, "Kastanienbaum im Herbstwind"
}

// demoAppSignIn signs in to the demo's relying party with the password: the
// demo application's page then shows the ID token's claims.
func demoAppSignIn(t *testing.T, base, kvnr, pw string) {
	t.Helper()
	b := nodetest.NewBrowserless("no-stop:")
	u, status, body := b.Get(t, base+"/demo-app/start?niveau=low")
	if u.Path != "/anmelden" || status != http.StatusOK {
		t.Fatalf("demo app sign-in led to %s (%d): %s", u, status, body)
	}
	u, status, body = b.Post(t, base, "/anmelden", url.Values{"kvnr": {kvnr}, "password": {pw}, "weiter": {u.Query().Get("weiter")}})
	if u.Path != "/demo-app/callback" || status != http.StatusOK {
		t.Fatalf("after the login the browser is at %s (%d): %s", u, status, body)
	}
	for _, want := range []string{"http://eidas.europa.eu/LoA/low", kvnr, "pwd", "Abmelden"} {
		if !strings.Contains(body, want) {
			t.Errorf("the demo application's page lacks %q: %s", want, body)
		}
	}
}
