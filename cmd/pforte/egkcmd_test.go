package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/config"
)

// TestEGKTestCardAndConfig makes a test CA and a card with `pforte egk`,
// and configures a node's trust in it through the environment.
func TestEGKTestCardAndConfig(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	env := &environment{stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard}
	if code := run(t.Context(), env, []string{"egk", "test-ca", "--dir", dir}); code != 0 {
		t.Fatalf("egk test-ca: exit %d", code)
	}
	cardFile := filepath.Join(dir, "karte.json")
	if code := run(t.Context(), env, []string{"egk", "test-card", "--ca", dir, "--kvnr", "X110411675", "--out", cardFile}); code != 0 {
		t.Fatalf("egk test-card: exit %d", code)
	}
	if strings.Contains(out.String(), "X110411675") {
		t.Errorf("the command printed the whole KVNR: %s", out.String())
	}
	if _, err := appclient.ReadSoftwareCardFile(cardFile); err != nil {
		t.Fatalf("the card file: %v", err)
	}
	load := func(env ...string) (config.Config, error) {
		fs := newFlagSet(&environment{stderr: &bytes.Buffer{}}, "t", "t")
		cf := config.NewFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		return cf.Load(env, config.Needs{HTTP: true})
	}
	anchors, crl := "PFORTE_EGK_TRUST_ANCHORS="+filepath.Join(dir, "ca.pem"), "PFORTE_EGK_CRL_FILE="+filepath.Join(dir, "ca.crl")
	cfg, err := load(anchors, crl)
	if err != nil || len(cfg.EGK.TrustAnchors) != 1 {
		t.Fatalf("egk configuration: %+v, %v", cfg.EGK, err)
	}
	if ec, err := cfg.EGKConfig(); err != nil || ec == nil || len(ec.Anchors) != 1 {
		t.Errorf("egkConfig: %+v, %v", ec, err)
	}
	for name, env := range map[string][]string{
		"anchors without revocation": {anchors},
		"a CRL without anchors":      {crl},
		"a card as the anchor":       {"PFORTE_EGK_TRUST_ANCHORS=" + cardFile, crl},
		"a missing anchor file":      {"PFORTE_EGK_TRUST_ANCHORS=" + filepath.Join(dir, "none.pem"), crl},
	} {
		if _, err := load(env...); err == nil || !strings.Contains(err.Error(), "egk.") {
			t.Errorf("%s: %v, want a problem naming egk", name, err)
		}
	}
}
