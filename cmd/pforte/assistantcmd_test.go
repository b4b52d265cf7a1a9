package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/config"
)

func TestAssistantCommandAsks(t *testing.T) {
	c := cli{t: t, environ: []string{"PFORTE_LETTERS_DELIVERY_DAYS=7", "PFORTE_DEVICE_PIN_LIMIT=4"}}
	code, out, errOut := c.run("", "assistant", "ask", "Wie lange dauert der Passwortbrief?")
	if code != 0 || !strings.Contains(out, "brief-dauer") || !strings.Contains(out, "7 Werktagen") || !strings.Contains(out, "nicht rechtsverbindlich") {
		t.Errorf("ask: code %d\n%s%s", code, out, errOut)
	}
	// Flags after the question, as operators type them.
	code, out, errOut = c.run("", "assistant", "ask", "Freigabe-PIN", "gesperrt", "--json")
	var r assistantapi.Response
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("ask --json: code %d\n%s%s", code, out, errOut)
	}
	if r.Entry != "freigabe-pin-gesperrt" || !strings.Contains(r.Answer, "Nach 4 falschen") || r.Handover != nil || r.Disclaimer == "" {
		t.Errorf("ask --json: %+v", r)
	}
	code, out, _ = c.run("", "assistant", "ask", "--level", "substantial", "--json", "--", "Mensch bitte, Stand meines Antrags?")
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Handover == nil || r.Handover.Channel != "mailbox" {
		t.Errorf("hand-over at substantial: code %d\n%s", code, out)
	}
	code, out, _ = c.run("", "assistant", "ask", "Meine KVNR ist X110411675")
	if code != 0 || strings.Contains(out, "X110411675") || !strings.Contains(out, "keine persönlichen Daten") {
		t.Errorf("personal data: code %d\n%s", code, out)
	}
}

func TestAssistantCommandUsage(t *testing.T) {
	c := cli{t: t}
	for _, args := range [][]string{
		{"assistant"},
		{"assistant", "tell"},
		{"assistant", "ask"},
		{"assistant", "ask", "--level", "top", "Frage"},
		{"assistant", "check", "extra"},
		{"assistant", "ask", "--kb", "/no/such/dir", "Frage"},
	} {
		if code, _, errOut := c.run("", args...); code != 2 || errOut == "" {
			t.Errorf("%q: code %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}

func TestAssistantCommandConfiguration(t *testing.T) {
	c := cli{t: t, environ: []string{"PFORTE_ASSISTANT_MIN_CONFIDENCE=1.5", "PFORTE_ASSISTANT_RETENTION=1s",
		"PFORTE_ASSISTANT_PHONE_HOURS= ", "PFORTE_LETTERS_DELIVERY_DAYS=0"}}
	code, _, errOut := c.run("", "assistant", "ask", "Frage")
	if code != 2 {
		t.Errorf("code %d, want 2", code)
	}
	for _, want := range []string{"assistant.min_confidence", "assistant.retention", "assistant.phone_hours", "letters.delivery_days"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not name %s:\n%s", want, errOut)
		}
	}
	cfg := config.Default()
	ac := cfg.AssistantConfig()
	if errs := ac.Validate(); len(errs) > 0 {
		t.Errorf("the default configuration does not make a valid assistant configuration: %v", errs)
	}
	if ac.LetterDays != cfg.Letters.DeliveryDays || ac.PINAttempts != cfg.Device.PINLimit || ac.MaxDevices != cfg.Device.MaxDevices ||
		ac.Phone != cfg.Insurer.Phone || ac.ApprovalMinutes != 5 || ac.InitialPasswordDays != 30 || ac.LetterWindowDays != 30 || ac.EIDMinutes != 15 {
		t.Errorf("assistant configuration = %+v", ac)
	}
}

// TestAssistantCommandCheck checks a knowledge base directory, as staff do
// after editing: a broken entry exits 2 naming its file and line.
func TestAssistantCommandCheck(t *testing.T) {
	c := cli{t: t}
	if code, out, errOut := c.run("", "assistant", "check"); code != 0 || !strings.Contains(out, "knowledge base valid") {
		t.Errorf("built-in: code %d %s%s", code, out, errOut)
	}
	dir := t.TempDir()
	kb := assistant.KnowledgeBase()
	for _, name := range []string{"sprache.yaml", "seiten.yaml", "brief.yaml"} {
		b, err := fs.ReadFile(kb, name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "brief.yaml" {
			b = []byte(strings.Replace(string(b), "{{.LetterDays}}", "{{.Zustelltage}}", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut := c.run("", "assistant", "check", "--kb", dir)
	if code != 2 || !strings.Contains(errOut, filepath.Join(dir, "brief.yaml")+":") || !strings.Contains(errOut, "{{.Zustelltage}} is not a known placeholder") {
		t.Errorf("broken: code %d\n%s", code, errOut)
	}
}
