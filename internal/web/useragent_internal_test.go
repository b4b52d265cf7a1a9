package web

import (
	"testing"

	"github.com/pforte/pforte/internal/lang"
)

func TestUASummary(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                        "Firefox 133 unter Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Microsoft Edge 131 unter Windows",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36":              "Chrome 131 unter Android",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari 18 unter iOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15":                   "Safari 18 unter macOS",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36":                           "Chrome (ohne Fenster) 131 unter Linux",
		"pforte-app/1 (Linux)": "Pforte-App (Kommandozeile) unter Linux",
		"":                     "unbekannter Browser",
		"Something (Windows)":  "Browser unter Windows",
		"curl/8.5.0":           "curl 8",
	} {
		if got := uaSummary(lang.German, ua); got != want {
			t.Errorf("uaSummary(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestUASummaryEnglish: the words around the names follow the language.
func TestUASummaryEnglish(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0":                              "Firefox 133 on Windows",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36": "Chrome (headless) 131 on Linux",
		"pforte-app/1 (Linux)": "Pforte app (command line) on Linux",
		"":                     "unknown browser",
		"Something (Windows)":  "Browser on Windows",
	} {
		if got := uaSummary(lang.English, ua); got != want {
			t.Errorf("uaSummary(en, %q) = %q, want %q", ua, got, want)
		}
	}
}
