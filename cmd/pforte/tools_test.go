package main

import (
	"os"
	"os/exec"
	"testing"
)

// needTool returns the path of a program a test config.Needs (pdftotext, pdftoppm
// from poppler-utils). Without it the test is skipped, or fails when
// PFORTE_TEST_REQUIRE_TOOLS is set (as in CI): never passes unchecked.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is required (PFORTE_TEST_REQUIRE_TOOLS is set): install poppler-utils", name)
		}
		t.Skipf("%s not installed (poppler-utils)", name)
	}
	return path
}
