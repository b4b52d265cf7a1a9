package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		done <- run(ctx, env, []string{"demo", "--dir", dir, "--listen", "127.0.0.1:0", "--persons", "50"})
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
	client := &http.Client{Timeout: 5 * time.Second}
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
	for _, name := range []string{"pforte.db", "data.key", "registry.csv"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is readable by others: %v", name, fi.Mode())
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exit code %d after shutdown", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop after cancellation")
	}
}

func TestDemoRefusesNonLoopback(t *testing.T) {
	c := newCLI(t)
	code, _, errOut := c.run("", "demo", "--dir", t.TempDir(), "--listen", "0.0.0.0:8080")
	if code != 2 || !strings.Contains(errOut, "loopback") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}
